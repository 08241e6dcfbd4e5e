/**
 * TCP header (RFC 9293) with MSS, window scale, SACK and timestamp options.
 *
 * @module
 */
import { readU16, readU32 } from "./bytes.ts";
import { LayerType } from "./layer.ts";
import { PortLayer } from "./transport.ts";
import type { IPv4 } from "./ipv4.ts";
import type { IPv6 } from "./ipv6.ts";

/** TCP flag bits as they appear in the 12-bit flags field. */
export const TcpFlags = {
  FIN: 0x001,
  SYN: 0x002,
  RST: 0x004,
  PSH: 0x008,
  ACK: 0x010,
  URG: 0x020,
  ECE: 0x040,
  CWR: 0x080,
  AE: 0x100,
} as const;

/** TCP option kinds. */
export const TcpOptionKind = {
  EndOfList: 0,
  NoOperation: 1,
  MSS: 2,
  WindowScale: 3,
  SackPermitted: 4,
  Sack: 5,
  Timestamps: 8,
} as const;

const MAX_OPT = 40;

/**
 * A TCP header. Options are parsed on first access of an option getter, without allocating.
 * Option getters return -1 when the option is absent.
 */
export class TCP extends PortLayer {
  /** Layer type tag. */
  readonly type: "TCP" = LayerType.TCP;
  private optParsed = false;
  private nOpt = 0;
  private optOff = new Int32Array(MAX_OPT);
  private optMss = -1;
  private optWs = -1;
  private optSackOk = false;
  private optSack = -1;
  private optTs = -1;

  /** @internal */
  decodeFrom(
    data: Uint8Array,
    offset: number,
    end: number,
    ip: IPv4 | IPv6 | null = null,
    wireEnd: number = end,
    fragment = false,
  ): void {
    this.setContext(ip, wireEnd, fragment);
    this.optParsed = false;
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
    const hl = (this.d[this.o + 12] >> 4) * 4;
    if (hl < 20) {
      this.error = "bad header length";
      return;
    }
    if (end - offset >= hl) this.headerLength = hl;
    else this.extend(hl);
  }
  /** Sets up a view of a complete header. @internal */
  setFast(
    data: Uint8Array,
    offset: number,
    end: number,
    hl: number,
    ip: IPv4,
    v: DataView | null,
  ): void {
    this.setFastView(data, offset, end, hl, ip, v);
    this.optParsed = false;
  }
  /** Sequence number. */
  get seq(): number {
    const v = this.v;
    return v !== null ? v.getUint32(this.o + 4) : readU32(this.d, this.o + 4);
  }
  /** Acknowledgement number. */
  get ack(): number {
    const v = this.v;
    return v !== null ? v.getUint32(this.o + 8) : readU32(this.d, this.o + 8);
  }
  /** Data offset in 32-bit words. */
  get dataOffset(): number {
    return this.d[this.o + 12] >> 4;
  }
  /** The 12-bit flags field (see {@link TcpFlags}). */
  get flags(): number {
    const v = this.v;
    return v !== null
      ? v.getUint16(this.o + 12) & 0xfff
      : ((this.d[this.o + 12] & 15) << 8) | this.d[this.o + 13];
  }
  /** FIN flag. */
  get fin(): boolean {
    return (this.d[this.o + 13] & 1) !== 0;
  }
  /** SYN flag. */
  get syn(): boolean {
    return (this.d[this.o + 13] & 2) !== 0;
  }
  /** RST flag. */
  get rst(): boolean {
    return (this.d[this.o + 13] & 4) !== 0;
  }
  /** PSH flag. */
  get psh(): boolean {
    return (this.d[this.o + 13] & 8) !== 0;
  }
  /** ACK flag. */
  get ackFlag(): boolean {
    return (this.d[this.o + 13] & 16) !== 0;
  }
  /** URG flag. */
  get urg(): boolean {
    return (this.d[this.o + 13] & 32) !== 0;
  }
  /** ECE flag. */
  get ece(): boolean {
    return (this.d[this.o + 13] & 64) !== 0;
  }
  /** CWR flag. */
  get cwr(): boolean {
    return (this.d[this.o + 13] & 128) !== 0;
  }
  /** Window field (unscaled). */
  get window(): number {
    return readU16(this.d, this.o + 14);
  }
  /** Checksum field. */
  get checksum(): number {
    return readU16(this.d, this.o + 16);
  }
  /** Urgent pointer. */
  get urgentPointer(): number {
    return readU16(this.d, this.o + 18);
  }
  /** Segment payload length according to the IP header (captured or not). */
  get segmentLength(): number {
    const n = this.wireEnd - this.offset - this.headerLength;
    return n > 0 ? n : 0;
  }
  /** True when the checksum is correct; null when not all of the segment was captured. */
  get checksumValid(): boolean | null {
    return this.verify(6, this.wireEnd - this.offset);
  }

  /** Walks the options once and notes where the known ones are. */
  private parseOptions(): void {
    this.optParsed = true;
    this.nOpt = 0;
    this.optMss =
      this.optWs =
      this.optSack =
      this.optTs =
        -1;
    this.optSackOk = false;
    const d = this.d, o = this.o;
    const stop = this.truncated ? this.e - o : this.headerLength;
    let eol = false;
    for (let p = 20; p < stop;) {
      const k = d[o + p];
      if (eol && k !== 0) break; // only zero padding may follow an end-of-list
      if (this.nOpt < MAX_OPT) this.optOff[this.nOpt++] = p;
      if (k === 0) eol = true;
      if (k === 0 || k === 1) {
        p++;
        continue;
      }
      if (p + 1 >= stop) break;
      const l = d[o + p + 1];
      if (l < 2 || p + l > stop) break;
      if (k === 2 && l === 4) this.optMss = p;
      else if (k === 3 && l === 3) this.optWs = p;
      else if (k === 4 && l === 2) this.optSackOk = true;
      else if (k === 5 && l >= 10 && (l - 2) % 8 === 0) this.optSack = p;
      else if (k === 8 && l === 10) this.optTs = p;
      p += l;
    }
  }
  /**
   * Number of options, counting each no-op and end-of-list byte as one (like Wireshark, zero
   * padding after an end-of-list counts as further end-of-list options).
   */
  get optionCount(): number {
    if (!this.optParsed) this.parseOptions();
    return this.nOpt;
  }
  /** Kind of option `i`, or -1. */
  optionKind(i: number): number {
    if (!this.optParsed) this.parseOptions();
    return i >= 0 && i < this.nOpt ? this.d[this.o + this.optOff[i]] : -1;
  }
  /** Offset of option `i` in the packet buffer, or -1. */
  optionOffset(i: number): number {
    if (!this.optParsed) this.parseOptions();
    return i >= 0 && i < this.nOpt ? this.offset + this.optOff[i] : -1;
  }
  /** Maximum segment size option, or -1. */
  get mss(): number {
    if (!this.optParsed) this.parseOptions();
    return this.optMss < 0 ? -1 : readU16(this.d, this.o + this.optMss + 2);
  }
  /** Window scale shift option, or -1. */
  get windowScale(): number {
    if (!this.optParsed) this.parseOptions();
    return this.optWs < 0 ? -1 : this.d[this.o + this.optWs + 2];
  }
  /** True when the SACK-permitted option is present. */
  get sackPermitted(): boolean {
    if (!this.optParsed) this.parseOptions();
    return this.optSackOk;
  }
  /** Number of SACK blocks (0 without a SACK option). */
  get sackBlockCount(): number {
    if (!this.optParsed) this.parseOptions();
    return this.optSack < 0 ? 0 : (this.d[this.o + this.optSack + 1] - 2) >> 3;
  }
  /** Left edge of SACK block `i`, or -1. */
  sackLeft(i: number): number {
    if (i < 0 || i >= this.sackBlockCount) return -1;
    return readU32(this.d, this.o + this.optSack + 2 + 8 * i);
  }
  /** Right edge of SACK block `i`, or -1. */
  sackRight(i: number): number {
    if (i < 0 || i >= this.sackBlockCount) return -1;
    return readU32(this.d, this.o + this.optSack + 6 + 8 * i);
  }
  /** Timestamp value option, or -1. */
  get tsVal(): number {
    if (!this.optParsed) this.parseOptions();
    return this.optTs < 0 ? -1 : readU32(this.d, this.o + this.optTs + 2);
  }
  /** Timestamp echo reply option, or -1. */
  get tsEcr(): number {
    if (!this.optParsed) this.parseOptions();
    return this.optTs < 0 ? -1 : readU32(this.d, this.o + this.optTs + 6);
  }
  /** Flags in tcpdump notation, e.g. `S.` for SYN+ACK. */
  get flagsString(): string {
    const f = this.flags;
    let s = "";
    if (f & 2) s += "S";
    if (f & 1) s += "F";
    if (f & 8) s += "P";
    if (f & 4) s += "R";
    if (f & 32) s += "U";
    if (f & 64) s += "E";
    if (f & 128) s += "W";
    if (f & 16) s += ".";
    return s === "" ? "none" : s;
  }
  /** Text form. */
  toString(): string {
    return `TCP ${this.srcPort} > ${this.dstPort} [${this.flagsString}] seq ${this.seq}`;
  }
}
