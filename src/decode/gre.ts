/**
 * GRE (RFC 2784/2890) and the enhanced GRE of PPTP (RFC 2637, version 1).
 *
 * @module
 */
import { readU16, readU32 } from "./bytes.ts";
import { Layer, LayerType } from "./layer.ts";

/** A GRE header. Optional fields read -1 when absent. */
export class GRE extends Layer {
  /** Layer type tag. */
  readonly type: "GRE" = LayerType.GRE;
  private keyOff = -1;
  private seqOff = -1;
  private ackOff = -1;

  /** @internal */
  decodeFrom(data: Uint8Array, offset: number, end: number): void {
    this.keyOff = this.seqOff = this.ackOff = -1;
    if (!this.attach(data, offset, end, 4)) return;
    const f = readU16(this.d, this.o);
    const version = f & 7;
    let len = 4;
    if (version === 0) {
      if ((f & 0xc000) !== 0) len += 4; // checksum (+ offset) present when C or R
      if ((f & 0x2000) !== 0) {
        this.keyOff = len;
        len += 4;
      }
      if ((f & 0x1000) !== 0) {
        this.seqOff = len;
        len += 4;
      }
      if ((f & 0x4000) !== 0) {
        this.error = "source routing not supported";
      }
    } else if (version === 1) {
      this.keyOff = 4;
      len = 8;
      if ((f & 0x1000) !== 0) {
        this.seqOff = len;
        len += 4;
      }
      if ((f & 0x0080) !== 0) {
        this.ackOff = len;
        len += 4;
      }
    } else {
      this.error = "unknown version";
    }
    this.extend(len);
  }
  /** The flags-and-version word. */
  get flagsVersion(): number {
    return readU16(this.d, this.o);
  }
  /** GRE version (0 = GRE, 1 = enhanced GRE of PPTP). */
  get version(): number {
    return this.d[this.o + 1] & 7;
  }
  /** Checksum-present flag. */
  get checksumPresent(): boolean {
    return (this.d[this.o] & 0x80) !== 0;
  }
  /** Routing-present flag. */
  get routingPresent(): boolean {
    return (this.d[this.o] & 0x40) !== 0;
  }
  /** Key-present flag. */
  get keyPresent(): boolean {
    return (this.d[this.o] & 0x20) !== 0;
  }
  /** Sequence-number-present flag. */
  get sequencePresent(): boolean {
    return (this.d[this.o] & 0x10) !== 0;
  }
  /** Acknowledgement-present flag (version 1). */
  get ackPresent(): boolean {
    return (this.d[this.o + 1] & 0x80) !== 0;
  }
  /** Protocol type of the payload (an EtherType; 0x880b = PPP). */
  get protocol(): number {
    return readU16(this.d, this.o + 2);
  }
  /** Checksum field, or -1. */
  get checksum(): number {
    return this.version === 0 && (this.d[this.o] & 0xc0) !== 0 ? readU16(this.d, this.o + 4) : -1;
  }
  /** Key field (for version 1: payload length << 16 | call id), or -1. */
  get key(): number {
    return this.keyOff < 0 ? -1 : readU32(this.d, this.o + this.keyOff);
  }
  /** Sequence number, or -1. */
  get sequence(): number {
    return this.seqOff < 0 ? -1 : readU32(this.d, this.o + this.seqOff);
  }
  /** Acknowledgement number (version 1), or -1. */
  get acknowledgement(): number {
    return this.ackOff < 0 ? -1 : readU32(this.d, this.o + this.ackOff);
  }
  /** Text form. */
  toString(): string {
    return `GREv${this.version}, proto 0x${this.protocol.toString(16).padStart(4, "0")}`;
  }
}
