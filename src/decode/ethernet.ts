/**
 * Ethernet II / IEEE 802.3 MAC header.
 *
 * @module
 */
import { formatMac, readMac, readU16 } from "./bytes.ts";
import { Layer, LayerType } from "./layer.ts";

/** Well-known EtherType values. */
export const EtherType = {
  IPv4: 0x0800,
  ARP: 0x0806,
  RARP: 0x8035,
  Dot1Q: 0x8100,
  IPv6: 0x86dd,
  MPLS: 0x8847,
  MPLSMulticast: 0x8848,
  Dot1AD: 0x88a8,
  QinQ: 0x9100,
  PPPoESession: 0x8864,
  TransparentEthernet: 0x6558,
} as const;

/** An Ethernet header: destination, source, EtherType (or 802.3 length). */
export class Ethernet extends Layer {
  /** Layer type tag. */
  readonly type: "Ethernet" = LayerType.Ethernet;

  /** @internal */
  decodeFrom(data: Uint8Array, offset: number, end: number): void {
    if (end - offset >= 14) {
      this.packetData = this.d = data;
      this.v = null;
      this.offset = this.o = offset;
      this.end = this.e = end;
      this.headerLength = 14;
      this.truncated = false;
      this.error = null;
    } else this.attach(data, offset, end, 14);
  }
  /** Sets up a view known to be complete. @internal */
  setFast(data: Uint8Array, offset: number, end: number, v: DataView | null): void {
    // (the buffer is often the same as for the previous packet: skip the store)
    if (this.d !== data) this.packetData = this.d = data;
    if (this.v !== v) this.v = v ?? null;
    this.offset = this.o = offset;
    this.end = this.e = end;
    this.headerLength = 14;
    this.truncated = false;
    this.error = null;
  }
  /** Destination MAC as a 48-bit number. */
  get dst(): number {
    const v = this.v;
    return v !== null
      ? v.getUint16(this.o) * 0x100000000 + v.getUint32(this.o + 2)
      : readMac(this.d, this.o);
  }
  /** Source MAC as a 48-bit number. */
  get src(): number {
    const v = this.v;
    return v !== null
      ? v.getUint16(this.o + 6) * 0x100000000 + v.getUint32(this.o + 8)
      : readMac(this.d, this.o + 6);
  }
  /** Destination MAC as text. */
  get dstString(): string {
    return formatMac(this.dst);
  }
  /** Source MAC as text. */
  get srcString(): string {
    return formatMac(this.src);
  }
  /** The type/length field: an EtherType when ≥ 0x0600, an 802.3 length when ≤ 1500. */
  get etherType(): number {
    const v = this.v;
    return v !== null ? v.getUint16(this.o + 12) : readU16(this.d, this.o + 12);
  }
  /** True when the type/length field is an 802.3 length (an LLC header follows). */
  get isLength(): boolean {
    return this.etherType <= 1500;
  }
  /** Text form. */
  toString(): string {
    return `Ethernet ${this.srcString} > ${this.dstString}, ethertype 0x${
      this.etherType.toString(16).padStart(4, "0")
    }`;
  }
}
