/**
 * Common base of the layers whose checksum covers their whole payload (ICMP, ICMPv6, TCP, UDP).
 *
 * @module
 */
import { foldChecksum, sumWords } from "./checksum.ts";
import type { IPv4 } from "./ipv4.ts";
import type { IPv6 } from "./ipv6.ts";
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
