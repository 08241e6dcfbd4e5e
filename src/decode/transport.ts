/**
 * Common base of the layers whose checksum covers their whole payload (ICMP, ICMPv6, TCP, UDP).
 *
 * @module
 */
import { foldChecksum, sumWords } from "./checksum.ts";
import type { IPv4 } from "./ipv4.ts";
import type { IPv6 } from "./ipv6.ts";
import { readU16 } from "./bytes.ts";
import { Layer } from "./layer.ts";

/** A layer carried in IP, with the means to verify its checksum. */
export abstract class IPPayloadLayer extends Layer {
  /** The IP layer that carries this one, or null (e.g. when decoded stand-alone). */
  ip: IPv4 | IPv6 | null = null;
  /** Where this layer's data ends according to the IP header (may lie beyond the capture). */
  wireEnd = 0;
  /** True when the enclosing IP datagram is a fragment (this is only part of the data). */
  fragment = false;

  /** @internal */
  protected setContext(ip: IPv4 | IPv6 | null, wireEnd: number, fragment: boolean): void {
    this.ip = ip;
    this.wireEnd = wireEnd;
    this.fragment = fragment;
  }

  /**
   * Points the layer at a complete header of `hl` bytes carried in `ip`, with
   * the shared `DataView` `v` of the buffer (fast path).
   * @internal
   */
  protected setFastView(
    data: Uint8Array,
    offset: number,
    end: number,
    hl: number,
    ip: IPv4,
    v: DataView | null,
  ): void {
    // (the buffer is often the same as for the previous packet: skip the store)
    if (this.d !== data) this.packetData = this.d = data;
    if (this.v !== v) this.v = v ?? null;
    this.offset = this.o = offset;
    this.end = this.e = this.wireEnd = end;
    this.headerLength = hl;
    this.truncated = false;
    this.error = null;
    if (this.ip !== ip) this.ip = ip;
    this.fragment = false;
  }

  /**
   * Verifies the checksum over `[offset, offset+length)` with (if `protocol` ≥ 0) the IP
   * pseudo-header. Null when not all bytes were captured or the data is a fragment.
   * @internal
   */
  protected verify(protocol: number, length: number): boolean | null {
    if (this.truncated || this.fragment || length < this.headerLength) return null;
    if (this.offset + length > this.end) return null;
    let sum = 0;
    if (protocol >= 0) {
      if (this.ip === null) return null;
      sum = this.ip.pseudoHeaderSum(protocol, length);
    }
    return foldChecksum(sumWords(this.packetData, this.offset, this.offset + length, sum)) === 0;
  }
}

/**
 * A layer with 16-bit source and destination ports first (TCP, UDP).
 *
 * ```ts
 * import { decode, PortLayer } from "@netcap/pcap/decode";
 *
 * const p = decode(packet.linkType, packet.data);
 * const t: PortLayer | null = p.tcp ?? p.udp;
 * if (t) console.log(t.srcPort, "->", t.dstPort);
 * ```
 */
export abstract class PortLayer extends IPPayloadLayer {
  /** Source port. */
  get srcPort(): number {
    const v = this.v;
    return v !== null ? v.getUint16(this.o) : readU16(this.d, this.o);
  }
  /** Destination port. */
  get dstPort(): number {
    const v = this.v;
    return v !== null ? v.getUint16(this.o + 2) : readU16(this.d, this.o + 2);
  }
}
