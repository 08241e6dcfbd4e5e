/**
 * IEEE 802.2 LLC header, with the SNAP extension when DSAP = SSAP = 0xAA.
 *
 * @module
 */
import { readU16 } from "./bytes.ts";
import { Layer, LayerType } from "./layer.ts";

/** An 802.2 LLC header (3 or 4 bytes) and, for SNAP, the 5-byte OUI + protocol id. */
export class LLC extends Layer {
  /** Layer type tag. */
  readonly type: "LLC" = LayerType.LLC;

  /** @internal */
  decodeFrom(data: Uint8Array, offset: number, end: number): void {
    if (!this.attach(data, offset, end, 3)) return;
    const control = this.d[this.o + 2];
    let len = (control & 3) === 3 ? 3 : 4;
    if (this.d[this.o] === 0xaa && this.d[this.o + 1] === 0xaa && len === 3) len = 8;
    this.extend(len);
  }
  /** Destination service access point. */
  get dsap(): number {
    return this.d[this.o];
  }
  /** Source service access point. */
  get ssap(): number {
    return this.d[this.o + 1];
  }
  /** Control field (8 bits for U frames, 16 bits for I/S frames). */
  get control(): number {
    return this.headerLength === 4 ? readU16(this.d, this.o + 2) : this.d[this.o + 2];
  }
  /** True when a SNAP header follows the LLC header. */
  get isSnap(): boolean {
    return this.headerLength === 8;
  }
  /** SNAP organisation code (24 bits), or -1 without SNAP. */
  get snapOui(): number {
    if (!this.isSnap) return -1;
    return (this.d[this.o + 3] << 16) | (this.d[this.o + 4] << 8) | this.d[this.o + 5];
  }
  /** SNAP protocol id (an EtherType when the OUI is 0), or -1 without SNAP. */
  get snapType(): number {
    return this.isSnap ? readU16(this.d, this.o + 6) : -1;
  }
  /** Text form. */
  toString(): string {
    return `LLC dsap 0x${this.dsap.toString(16)} ssap 0x${this.ssap.toString(16)}` +
      (this.isSnap ? ` snap 0x${this.snapType.toString(16).padStart(4, "0")}` : "");
  }
}
