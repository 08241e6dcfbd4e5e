/**
 * VXLAN header (RFC 7348).
 *
 * @module
 */
import { Layer, LayerType } from "./layer.ts";

/** The 8-byte VXLAN header. An Ethernet frame follows. */
export class VXLAN extends Layer {
  /** Layer type tag. */
  readonly type: "VXLAN" = LayerType.VXLAN;

  /** @internal */
  decodeFrom(data: Uint8Array, offset: number, end: number): void {
    this.attach(data, offset, end, 8);
  }
  /** Flags byte (0x08 = VNI valid). */
  get flags(): number {
    return this.d[this.o];
  }
  /** VXLAN network identifier (24 bits). */
  get vni(): number {
    return (this.d[this.o + 4] << 16) | (this.d[this.o + 5] << 8) | this.d[this.o + 6];
  }
  /** Text form. */
  toString(): string {
    return `VXLAN, flags [${(this.flags & 8) !== 0 ? "I" : "."}], vni ${this.vni}`;
  }
}
