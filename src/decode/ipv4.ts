/**
 * IPv4 header (RFC 791).
 *
 * @module
 */
import { formatIPv4, readU16, readU32 } from "./bytes.ts";
import { foldChecksum, sumWords } from "./checksum.ts";
import { Layer, LayerType } from "./layer.ts";

/** IP protocol numbers the decoder follows. */
export const IPProtocol = {
  HopByHop: 0,
  ICMP: 1,
  IPIP: 4,
  TCP: 6,
  UDP: 17,
  IPv6: 41,
  Routing: 43,
  Fragment: 44,
  GRE: 47,
  ESP: 50,
  AH: 51,
  ICMPv6: 58,
  NoNext: 59,
  DestinationOptions: 60,
  Mobility: 135,
  HIP: 139,
  Shim6: 140,
} as const;

/** One IPv4 option: where it is and what kind. */
export interface IPv4Option {
  /** Option type byte (0 = end of list, 1 = no-op). */
  type: number;
  /** Length in bytes including type (and length) byte. */
  length: number;
  /** Offset of the option in the packet buffer. */
  offset: number;
}

/** An IPv4 header. Addresses are 32-bit numbers; `srcString`/`dstString` format them. */
export class IPv4 extends Layer {
  /** Layer type tag. */
  readonly type: "IPv4" = LayerType.IPv4;
  /** Where the datagram ends according to its total length (may lie beyond the captured bytes). */
  wireEnd = 0;

  /** @internal */
  decodeFrom(data: Uint8Array, offset: number, end: number): void {
    this.wireEnd = end;
    if (end - offset >= 20) {
      this.packetData = this.d = data;
      this.v = null;
      this.offset = this.o = offset;
      this.end = this.e = end;
      this.headerLength = 20;
      this.truncated = false;
      this.error = null;
    } else {
      this.attach(data, offset, end, 20);
      return;
    }
    const d = this.d, o = this.o;
    const hl = (d[o] & 15) * 4;
    if ((d[o] >> 4) !== 4) {
      this.error = "bad version";
      return;
    }
    if (hl < 20) {
      this.headerLength = 20;
      this.error = "bad header length";
      return;
    }
    const total = readU16(d, o + 2);
    if (total !== 0 && total < hl) {
      this.headerLength = hl;
      this.error = "bad total length";
      this.extend(hl);
      return;
    }
    if (total !== 0) {
      this.wireEnd = offset + total;
      if (this.wireEnd < end) this.end = this.e = end = this.wireEnd;
    }
    if (end - offset >= hl) this.headerLength = hl;
    else this.extend(hl);
  }
  /** Sets up a view of an option-less, complete header ending at `end`. @internal */
  setFast(data: Uint8Array, offset: number, end: number, v: DataView | null): void {
    // (the buffer is often the same as for the previous packet: skip the store)
    if (this.d !== data) this.packetData = this.d = data;
    if (this.v !== v) this.v = v ?? null;
    this.offset = this.o = offset;
    this.end = this.e = this.wireEnd = end;
    this.headerLength = 20;
    this.truncated = false;
    this.error = null;
  }
  /** IP version (4). */
  get version(): number {
    return this.d[this.o] >> 4;
  }
  /** Header length in 32-bit words. */
  get ihl(): number {
    return this.d[this.o] & 15;
  }
  /** Type of service / DS field byte. */
  get tos(): number {
    return this.d[this.o + 1];
  }
  /** Differentiated services code point. */
  get dscp(): number {
    return this.d[this.o + 1] >> 2;
  }
  /** Explicit congestion notification bits. */
  get ecn(): number {
    return this.d[this.o + 1] & 3;
  }
  /** Total length field. */
  get totalLength(): number {
    return readU16(this.d, this.o + 2);
  }
  /** Identification. */
  get id(): number {
    return readU16(this.d, this.o + 4);
  }
  /** The 3 flag bits (reserved, DF, MF) as a number 0–7. */
  get flags(): number {
    return this.d[this.o + 6] >> 5;
  }
  /** Don't-fragment flag. */
  get dontFragment(): boolean {
    return (this.d[this.o + 6] & 0x40) !== 0;
  }
  /** More-fragments flag. */
  get moreFragments(): boolean {
    return (this.d[this.o + 6] & 0x20) !== 0;
  }
  /** Fragment offset in 8-byte units (the raw 13-bit field). */
  get fragmentOffset(): number {
    return readU16(this.d, this.o + 6) & 0x1fff;
  }
  /** True when this datagram is a fragment (MF set or non-zero offset). */
  get isFragment(): boolean {
    return (readU16(this.d, this.o + 6) & 0x3fff) !== 0;
  }
  /** Time to live. */
  get ttl(): number {
    return this.d[this.o + 8];
  }
  /** Protocol of the payload (see {@link IPProtocol}). */
  get protocol(): number {
    return this.d[this.o + 9];
  }
  /** Header checksum field. */
  get checksum(): number {
    return readU16(this.d, this.o + 10);
  }
  /** Source address as a 32-bit number. */
  get src(): number {
    const v = this.v;
    return v !== null ? v.getUint32(this.o + 12) : readU32(this.d, this.o + 12);
  }
  /** Destination address as a 32-bit number. */
  get dst(): number {
    const v = this.v;
    return v !== null ? v.getUint32(this.o + 16) : readU32(this.d, this.o + 16);
  }
  /** Source address as text. */
  get srcString(): string {
    return formatIPv4(this.src);
  }
  /** Destination address as text. */
  get dstString(): string {
    return formatIPv4(this.dst);
  }
  /** True when the header checksum is correct; null when the header is not fully captured. */
  get checksumValid(): boolean | null {
    if (this.truncated || this.headerLength < 20) return null;
    return foldChecksum(sumWords(this.d, this.o, this.o + this.headerLength)) === 0;
  }
  /** Length of the options in bytes. */
  get optionsLength(): number {
    return this.headerLength > 20 ? this.headerLength - 20 : 0;
  }
  /** The options, parsed on demand (allocates). A malformed option ends the list. */
  options(): IPv4Option[] {
    const out: IPv4Option[] = [];
    const d = this.d, end = this.o + this.headerLength;
    for (let p = this.o + 20; p < end;) {
      const t = d[p];
      if (t === 0 || t === 1) {
        out.push({ type: t, length: 1, offset: this.offset + p - this.o });
        p++;
        if (t === 0) break;
        continue;
      }
      if (p + 1 >= end) break;
      const l = d[p + 1];
      if (l < 2 || p + l > end) break;
      out.push({ type: t, length: l, offset: this.offset + p - this.o });
      p += l;
    }
    return out;
  }
  /** Sum of the pseudo-header words for an upper-layer checksum. @internal */
  pseudoHeaderSum(protocol: number, length: number): number {
    const d = this.d, o = this.o;
    return readU16(d, o + 12) + readU16(d, o + 14) + readU16(d, o + 16) + readU16(d, o + 18) +
      protocol + length;
  }
  /** Text form. */
  toString(): string {
    return `IP ${this.srcString} > ${this.dstString} proto ${this.protocol} len ${this.totalLength}`;
  }
}
