/**
 * IPv6 header (RFC 8200) and its extension-header chain.
 *
 * @module
 */
import { formatIPv6, readU16, readU32 } from "./bytes.ts";
import { Layer, LayerType } from "./layer.ts";

/**
 * An IPv6 header plus its extension headers (hop-by-hop, routing, fragment, destination options,
 * AH, mobility, HIP, shim6). `headerLength` covers the whole chain; `protocol` is the upper-layer
 * protocol after it.
 */
export class IPv6 extends Layer {
  /** Layer type tag. */
  readonly type: "IPv6" = LayerType.IPv6;
  /** Where the datagram ends according to its payload length (may lie beyond the captured bytes). */
  wireEnd = 0;
  /** Number of extension headers in the chain. */
  extensionCount = 0;
  /** Upper-layer protocol after the extension headers (59 = none, or where the chain stopped). */
  protocol = 0;
  /** Jumbo payload length from a hop-by-hop jumbo option, or -1. */
  jumboLength: number = -1;
  private extType = new Int32Array(8);
  private extOff = new Int32Array(8);
  private extLen = new Int32Array(8);
  private fragOff = -1;
  private finalDst = 24;

  /** @internal */
  decodeFrom(data: Uint8Array, offset: number, end: number): void {
    this.wireEnd = end;
    this.extensionCount = 0;
    this.jumboLength = -1;
    this.fragOff = -1;
    this.finalDst = 24;
    this.protocol = 59;
    if (end - offset >= 40) {
      this.packetData = this.d = data;
      this.offset = this.o = offset;
      this.end = this.e = end;
      this.headerLength = 40;
      this.truncated = false;
      this.error = null;
    } else {
      this.attach(data, offset, end, 40);
      return;
    }
    let d = this.d;
    const o = this.o;
    if ((d[o] >> 4) !== 6) {
      this.error = "bad version";
      return;
    }
    const plen = readU16(d, o + 4);
    if (plen !== 0) {
      this.wireEnd = offset + 40 + plen;
      if (this.wireEnd < end) this.end = this.e = end = this.wireEnd;
    }
    let nh = d[o + 6];
    let p = 40;
    for (;;) {
      let len: number;
      if (nh === 0 || nh === 43 || nh === 60 || nh === 135 || nh === 139 || nh === 140) {
        if (!this.extend(p + 2)) break;
        len = (this.d[this.o + p + 1] + 1) * 8;
      } else if (nh === 44) {
        len = 8;
      } else if (nh === 51) {
        if (!this.extend(p + 2)) break;
        len = (this.d[this.o + p + 1] + 2) * 4;
      } else break;
      if (!this.extend(p + len)) break;
      d = this.d;
      const i = this.extensionCount;
      if (i >= this.extType.length) this.grow();
      this.extType[i] = nh;
      this.extOff[i] = p;
      this.extLen[i] = len;
      this.extensionCount = i + 1;
      if (nh === 44) this.fragOff = p;
      if (nh === 43) this.routing(p, len);
      if (nh === 0 && i === 0 && plen === 0) this.findJumbo(p, len);
      nh = d[this.o + p];
      p += len;
    }
    if (!this.truncated) this.headerLength = p;
    this.protocol = nh;
  }
  /** Notes the final destination of a routing header with segments left. */
  private routing(p: number, len: number): void {
    const d = this.d, o = this.o + p;
    const type = d[o + 2], left = d[o + 3];
    if (left === 0) return;
    if ((type === 0 || type === 2) && len >= 24) this.finalDst = p + len - 16;
    else if (type === 4 && len >= 24) this.finalDst = p + 8;
  }
  /** Doubles the extension header arrays. */
  private grow(): void {
    const n = this.extType.length * 2;
    const t = new Int32Array(n), o = new Int32Array(n), l = new Int32Array(n);
    t.set(this.extType);
    o.set(this.extOff);
    l.set(this.extLen);
    this.extType = t;
    this.extOff = o;
    this.extLen = l;
  }
  /** Looks for a jumbo payload option in a hop-by-hop header. */
  private findJumbo(p: number, len: number): void {
    const d = this.d, o = this.o;
    for (let q = p + 2; q < p + len;) {
      const t = d[o + q];
      if (t === 0) {
        q++;
        continue;
      }
      const l = d[o + q + 1];
      if (t === 0xc2 && l === 4) {
        this.jumboLength = readU32(d, o + q + 2);
        this.wireEnd = this.offset + 40 + this.jumboLength;
        if (this.wireEnd < this.end) this.end = this.e = this.wireEnd;
        return;
      }
      q += 2 + l;
    }
  }
  /** IP version (6). */
  get version(): number {
    return this.d[this.o] >> 4;
  }
  /** Traffic class byte. */
  get trafficClass(): number {
    return ((this.d[this.o] & 15) << 4) | (this.d[this.o + 1] >> 4);
  }
  /** Flow label (20 bits). */
  get flowLabel(): number {
    const d = this.d, o = this.o;
    return ((d[o + 1] & 15) << 16) | (d[o + 2] << 8) | d[o + 3];
  }
  /** Payload length field. */
  get payloadLength(): number {
    return readU16(this.d, this.o + 4);
  }
  /** Next header field of the fixed header. */
  get nextHeader(): number {
    return this.d[this.o + 6];
  }
  /** Hop limit. */
  get hopLimit(): number {
    return this.d[this.o + 7];
  }
  /** 32-bit word `i` (0–3) of the source address. */
  srcWord(i: number): number {
    return readU32(this.d, this.o + 8 + 4 * (i & 3));
  }
  /** 32-bit word `i` (0–3) of the destination address. */
  dstWord(i: number): number {
    return readU32(this.d, this.o + 24 + 4 * (i & 3));
  }
  /** Source address bytes (a subarray when the header is complete). */
  get srcBytes(): Uint8Array {
    return this.d.subarray(this.o + 8, this.o + 24);
  }
  /** Destination address bytes (a subarray when the header is complete). */
  get dstBytes(): Uint8Array {
    return this.d.subarray(this.o + 24, this.o + 40);
  }
  /** Source address as text. */
  get srcString(): string {
    return formatIPv6(this.d, this.o + 8);
  }
  /** Destination address as text. */
  get dstString(): string {
    return formatIPv6(this.d, this.o + 24);
  }
  /**
   * The destination the upper-layer checksum uses: the last address of a type 0/2 routing
   * header (or the first segment of a segment routing header) with segments left, else `dst`.
   */
  get finalDestinationString(): string {
    return formatIPv6(this.d, this.o + this.finalDst);
  }
  /** Protocol number of extension header `i`. */
  extensionType(i: number): number {
    return i >= 0 && i < this.extensionCount ? this.extType[i] : -1;
  }
  /** Offset of extension header `i` in the packet buffer. */
  extensionOffset(i: number): number {
    return i >= 0 && i < this.extensionCount ? this.offset + this.extOff[i] : -1;
  }
  /** Length in bytes of extension header `i`. */
  extensionLength(i: number): number {
    return i >= 0 && i < this.extensionCount ? this.extLen[i] : -1;
  }
  /** True when the chain has a fragment header. */
  get hasFragmentHeader(): boolean {
    return this.fragOff >= 0;
  }
  /** True when this datagram is a fragment (fragment header with offset ≠ 0 or M set). */
  get isFragment(): boolean {
    if (this.fragOff < 0) return false;
    return (readU16(this.d, this.o + this.fragOff + 2) & 0xfff9) !== 0;
  }
  /** Fragment offset in 8-byte units, or -1 without a fragment header. */
  get fragmentOffset(): number {
    return this.fragOff < 0 ? -1 : readU16(this.d, this.o + this.fragOff + 2) >> 3;
  }
  /** More-fragments flag of the fragment header. */
  get moreFragments(): boolean {
    return this.fragOff >= 0 && (this.d[this.o + this.fragOff + 3] & 1) !== 0;
  }
  /** Identification of the fragment header, or -1. */
  get fragmentId(): number {
    return this.fragOff < 0 ? -1 : readU32(this.d, this.o + this.fragOff + 4);
  }
  /** Sum of the pseudo-header words for an upper-layer checksum. @internal */
  pseudoHeaderSum(protocol: number, length: number): number {
    const d = this.d, o = this.o;
    let s = protocol + (length >>> 16) + (length & 0xffff);
    for (let i = 8; i < 24; i += 2) s += (d[o + i] << 8) | d[o + i + 1];
    const f = o + this.finalDst;
    for (let i = 0; i < 16; i += 2) s += (d[f + i] << 8) | d[f + i + 1];
    return s;
  }
  /** Text form. */
  toString(): string {
    return `IP6 ${this.srcString} > ${this.dstString} next ${this.protocol} plen ${this.payloadLength}`;
  }
}
