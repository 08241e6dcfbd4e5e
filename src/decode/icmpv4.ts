/**
 * ICMP for IPv4 (RFC 792).
 *
 * @module
 */
import { readU16, readU32 } from "./bytes.ts";
import { LayerType } from "./layer.ts";
import { IPPayloadLayer } from "./transport.ts";
import type { IPv4 } from "./ipv4.ts";
import type { IPv6 } from "./ipv6.ts";

/** Common ICMPv4 message types. */
export const ICMPv4Type = {
  EchoReply: 0,
  DestinationUnreachable: 3,
  SourceQuench: 4,
  Redirect: 5,
  EchoRequest: 8,
  RouterAdvertisement: 9,
  RouterSolicitation: 10,
  TimeExceeded: 11,
  ParameterProblem: 12,
  Timestamp: 13,
  TimestampReply: 14,
  InfoRequest: 15,
  InfoReply: 16,
  AddressMaskRequest: 17,
  AddressMaskReply: 18,
} as const;

/** An ICMPv4 message header (8 bytes: type, code, checksum, rest-of-header). */
export class ICMPv4 extends IPPayloadLayer {
  /** Layer type tag. */
  readonly type: "ICMPv4" = LayerType.ICMPv4;

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
    this.attach(data, offset, end, 8);
  }
  /** Message type (see {@link ICMPv4Type}). */
  get icmpType(): number {
    return this.d[this.o];
  }
  /** Message code. */
  get code(): number {
    return this.d[this.o + 1];
  }
  /** Checksum field. */
  get checksum(): number {
    return readU16(this.d, this.o + 2);
  }
  /** The 32-bit rest-of-header word. */
  get restOfHeader(): number {
    return readU32(this.d, this.o + 4);
  }
  /** True for the message types that carry identifier and sequence. */
  private get hasIdSeq(): boolean {
    const t = this.icmpType;
    return t === 0 || t === 8 || (t >= 13 && t <= 18);
  }
  /** Identifier (echo, timestamp, info, mask messages), or -1. */
  get identifier(): number {
    return this.hasIdSeq ? readU16(this.d, this.o + 4) : -1;
  }
  /** Sequence number (echo, timestamp, info, mask messages), or -1. */
  get sequence(): number {
    return this.hasIdSeq ? readU16(this.d, this.o + 6) : -1;
  }
  /** True when the checksum is correct; null when not all of the message was captured. */
  get checksumValid(): boolean | null {
    return this.verify(-1, this.wireEnd - this.offset);
  }
  /** Text form. */
  toString(): string {
    const t = this.icmpType;
    if (t === 8 || t === 0) {
      return `ICMP echo ${
        t === 8 ? "request" : "reply"
      }, id ${this.identifier}, seq ${this.sequence}`;
    }
    return `ICMP type ${t}, code ${this.code}`;
  }
}
