/**
 * PPP header (RFC 1661), with optional HDLC-like address/control bytes (RFC 1662).
 *
 * @module
 */
import { Layer, LayerType } from "./layer.ts";

/** PPP protocol numbers the decoder follows. */
export const PPPProtocol = {
  IPv4: 0x0021,
  IPv6: 0x0057,
  MPLS: 0x0281,
  MPLSMulticast: 0x0283,
} as const;

/** A PPP header: `[0xff 0x03] protocol` (protocol may be compressed to one byte). */
export class PPP extends Layer {
  /** Layer type tag. */
  readonly type: "PPP" = LayerType.PPP;
  private pOff = 0;

  /** @internal */
  decodeFrom(data: Uint8Array, offset: number, end: number): void {
    if (!this.attach(data, offset, end, 1)) return;
    let n = 0;
    if (this.d[this.o] === 0xff) {
      if (!this.extend(2)) return;
      n = 2;
    }
    this.pOff = n;
    if (!this.extend(n + 1)) return;
    if ((this.d[this.o + n] & 1) === 0) this.extend(n + 2);
  }
  /** True when the HDLC address/control bytes (0xff 0x03) are present. */
  get hasAddressControl(): boolean {
    return this.pOff === 2;
  }
  /** The PPP protocol number. */
  get protocol(): number {
    const d = this.d, o = this.o + this.pOff;
    return (d[o] & 1) !== 0 ? d[o] : (d[o] << 8) | d[o + 1];
  }
  /** Text form. */
  toString(): string {
    return `PPP proto 0x${this.protocol.toString(16).padStart(4, "0")}`;
  }
}
