/**
 * IEEE 802.11 MAC header.
 *
 * @module
 */
import { formatMac, readMac } from "./bytes.ts";
import { Layer, LayerType } from "./layer.ts";

/** 802.11 frame types (the `type` field of frame control). */
export const Dot11Type = {
  Management: 0,
  Control: 1,
  Data: 2,
  Extension: 3,
} as const;

/** An 802.11 MAC header (frame control, duration, addresses, sequence, QoS, HT control). */
export class IEEE80211 extends Layer {
  /** Layer type tag. */
  readonly type: "IEEE80211" = LayerType.IEEE80211;
  /** Number of address fields present (1–4). */
  addressCount = 0;
  private seqOff = -1;
  private qosOff = -1;

  /** @internal */
  decodeFrom(data: Uint8Array, offset: number, end: number): void {
    this.addressCount = 0;
    this.seqOff = this.qosOff = -1;
    if (!this.attach(data, offset, end, 10)) {
      this.addressCount = 1;
      return;
    }
    const d = this.d, o = this.o;
    const type = (d[o] >> 2) & 3, subtype = d[o] >> 4, fl = d[o + 1];
    let len = 10;
    let n = 1;
    if (type === 0) {
      n = 3;
      this.seqOff = 22;
      len = 24;
      if ((fl & 0x80) !== 0) len += 4;
    } else if (type === 1) {
      if (subtype !== 12 && subtype !== 13 && subtype !== 7) {
        n = 2;
        len = 16;
      }
    } else if (type === 2) {
      n = 3;
      this.seqOff = 22;
      len = 24;
      if ((fl & 3) === 3) {
        n = 4;
        len = 30;
      }
      if ((subtype & 8) !== 0) {
        this.qosOff = len;
        len += 2;
        if ((fl & 0x80) !== 0) len += 4;
      }
    } else {
      n = 2;
      len = 16;
    }
    this.addressCount = n;
    this.extend(len);
  }
  /** The frame control field as stored (first byte in the high 8 bits). */
  get frameControl(): number {
    return (this.d[this.o] << 8) | this.d[this.o + 1];
  }
  /** Protocol version (0). */
  get protocolVersion(): number {
    return this.d[this.o] & 3;
  }
  /** Frame type (see {@link Dot11Type}). */
  get frameType(): number {
    return (this.d[this.o] >> 2) & 3;
  }
  /** Frame subtype. */
  get subtype(): number {
    return this.d[this.o] >> 4;
  }
  /** Combined type/subtype as Wireshark shows it (`type << 4 | subtype`). */
  get typeSubtype(): number {
    return (this.frameType << 4) | this.subtype;
  }
  /** The flags byte of frame control. */
  get flags(): number {
    return this.d[this.o + 1];
  }
  /** To-DS flag. */
  get toDS(): boolean {
    return (this.flags & 1) !== 0;
  }
  /** From-DS flag. */
  get fromDS(): boolean {
    return (this.flags & 2) !== 0;
  }
  /** More-fragments flag. */
  get moreFragments(): boolean {
    return (this.flags & 4) !== 0;
  }
  /** Retry flag. */
  get retry(): boolean {
    return (this.flags & 8) !== 0;
  }
  /** Protected-frame flag (payload encrypted). */
  get protected(): boolean {
    return (this.flags & 0x40) !== 0;
  }
  /** Duration / ID field. */
  get duration(): number {
    return this.d[this.o + 2] | (this.d[this.o + 3] << 8);
  }
  /** Address field `i` (1–4) as a 48-bit number, or -1 when the frame has no such field. */
  address(i: number): number {
    if (i < 1 || i > this.addressCount) return -1;
    return readMac(this.d, this.o + (i === 4 ? 24 : 4 + 6 * (i - 1)));
  }
  /** Address field `i` (1–4) as text, or "" when absent. */
  addressString(i: number): string {
    const a = this.address(i);
    return a < 0 ? "" : formatMac(a);
  }
  /** Receiver address (address 1). */
  get receiver(): number {
    return this.address(1);
  }
  /** Transmitter address (address 2), or -1. */
  get transmitter(): number {
    return this.address(2);
  }
  /** Destination address (management/data frames), or -1. */
  get destination(): number {
    if (this.addressCount < 3) return -1;
    return (this.flags & 1) !== 0 ? this.address(3) : this.address(1);
  }
  /** Source address (management/data frames), or -1. */
  get source(): number {
    if (this.addressCount < 3) return -1;
    const ds = this.flags & 3;
    return ds === 3 ? this.address(4) : ds === 2 ? this.address(3) : this.address(2);
  }
  /** BSS identifier (management/data frames not in a WDS), or -1. */
  get bssid(): number {
    if (this.addressCount < 3) return -1;
    const ds = this.flags & 3;
    return ds === 0
      ? this.address(3)
      : ds === 1
      ? this.address(1)
      : ds === 2
      ? this.address(2)
      : -1;
  }
  /** Sequence number (12 bits), or -1 when the frame has no sequence control. */
  get sequenceNumber(): number {
    if (this.seqOff < 0) return -1;
    return (this.d[this.o + this.seqOff] | (this.d[this.o + this.seqOff + 1] << 8)) >> 4;
  }
  /** Fragment number, or -1 when the frame has no sequence control. */
  get fragmentNumber(): number {
    return this.seqOff < 0 ? -1 : this.d[this.o + this.seqOff] & 15;
  }
  /** QoS control field, or -1 for non-QoS frames. */
  get qosControl(): number {
    if (this.qosOff < 0) return -1;
    return this.d[this.o + this.qosOff] | (this.d[this.o + this.qosOff + 1] << 8);
  }
  /** True for data frames that carry data (not the "null"/no-data subtypes). */
  get carriesData(): boolean {
    return this.frameType === 2 && (this.subtype & 4) === 0;
  }
  /** Text form. */
  toString(): string {
    return `802.11 type ${this.frameType} subtype ${this.subtype} ${
      this.addressString(2) || "?"
    } > ${this.addressString(1)}`;
  }
}
