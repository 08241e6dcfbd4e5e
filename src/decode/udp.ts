/**
 * UDP header (RFC 768).
 *
 * @module
 */
import { readU16 } from "./bytes.ts";
import { LayerType } from "./layer.ts";
import { PortLayer } from "./transport.ts";
import type { IPv4 } from "./ipv4.ts";
import type { IPv6 } from "./ipv6.ts";

/** A UDP header. */
export class UDP extends PortLayer {
  /** Layer type tag. */
  readonly type: "UDP" = LayerType.UDP;

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
    if (end - offset >= 8) {
      this.packetData = this.d = data;
      this.v = null;
      this.offset = this.o = offset;
      this.end = this.e = end;
      this.headerLength = 8;
      this.truncated = false;
      this.error = null;
    } else {
      this.attach(data, offset, end, 8);
      return;
    }
    const len = readU16(this.d, this.o + 4);
    if (len < 8) {
      // 0 is legitimate for IPv6 jumbograms; anything else is bogus
      if (len !== 0 || ip === null || ip.type !== "IPv6") this.error = "bad length";
      return;
    }
    if (!fragment && offset + len > wireEnd) {
      this.error = "bad length";
      return;
    }
    if (offset + len < end) this.end = this.e = offset + len;
    if (!fragment) this.wireEnd = offset + len;
  }
  /** Sets up a view of a complete datagram ending at `end`. @internal */
  setFast(data: Uint8Array, offset: number, end: number, ip: IPv4, v: DataView | null): void {
    this.setFastView(data, offset, end, 8, ip, v);
  }
  /** Length field (header + data). */
  get length(): number {
    return readU16(this.d, this.o + 4);
  }
  /** Checksum field (0 = none, for IPv4). */
  get checksum(): number {
    return readU16(this.d, this.o + 6);
  }
  /**
   * True when the checksum is correct; null when there is none (0 over IPv4) or not all of the
   * datagram was captured.
   */
  get checksumValid(): boolean | null {
    const c = this.checksum;
    if (c === 0 && (this.ip === null || this.ip.type === "IPv4")) return null;
    if (this.error !== null) return null;
    return this.verify(17, this.wireEnd - this.offset);
  }
  /** Text form. */
  toString(): string {
    return `UDP ${this.srcPort} > ${this.dstPort} length ${this.length - 8}`;
  }
}
