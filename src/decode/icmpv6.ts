/**
 * ICMPv6 (RFC 4443) including neighbour discovery (RFC 4861).
 *
 * @module
 */
import { formatIPv6, formatMac, readMac, readU16, readU32 } from "./bytes.ts";
import { LayerType } from "./layer.ts";
import { IPPayloadLayer } from "./transport.ts";
import type { IPv4 } from "./ipv4.ts";
import type { IPv6 } from "./ipv6.ts";

/** Common ICMPv6 message types. */
export const ICMPv6Type = {
  DestinationUnreachable: 1,
  PacketTooBig: 2,
  TimeExceeded: 3,
  ParameterProblem: 4,
  EchoRequest: 128,
  EchoReply: 129,
  RouterSolicitation: 133,
  RouterAdvertisement: 134,
  NeighborSolicitation: 135,
  NeighborAdvertisement: 136,
  Redirect: 137,
} as const;

/** Neighbour discovery option types. */
export const NDOptionType = {
  SourceLinkAddress: 1,
  TargetLinkAddress: 2,
  PrefixInformation: 3,
  RedirectedHeader: 4,
  MTU: 5,
} as const;

const MAX_OPT = 32;

/** An ICMPv6 message. For ND messages, the target and options are decoded too. */
export class ICMPv6 extends IPPayloadLayer {
  /** Layer type tag. */
  readonly type: "ICMPv6" = LayerType.ICMPv6;
  /** Number of ND options found (0 for non-ND messages). */
  ndOptionCount = 0;
  private optOff = new Int32Array(MAX_OPT);

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
    this.ndOptionCount = 0;
    if (!this.attach(data, offset, end, 4)) return;
    const t = this.d[this.o];
    let fixed = 8;
    if (t === 134) fixed = 16;
    else if (t === 135 || t === 136) fixed = 24;
    else if (t === 137) fixed = 40;
    if (!this.extend(fixed)) return;
    if (t < 133 || t > 137) return;
    // ND options run to the end of the message
    const d = this.d, o = this.o;
    const stop = this.end - this.offset;
    for (let p = fixed; p + 2 <= stop;) {
      const l = d[o + p + 1] * 8;
      if (l === 0) {
        this.error = "bad option length";
        break;
      }
      if (p + l > stop) break;
      if (this.ndOptionCount < MAX_OPT) this.optOff[this.ndOptionCount++] = p;
      p += l;
    }
  }
  /** Message type (see {@link ICMPv6Type}). */
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
  /** Identifier of echo messages, or -1. */
  get identifier(): number {
    const t = this.icmpType;
    return t === 128 || t === 129 ? readU16(this.d, this.o + 4) : -1;
  }
  /** Sequence number of echo messages, or -1. */
  get sequence(): number {
    const t = this.icmpType;
    return t === 128 || t === 129 ? readU16(this.d, this.o + 6) : -1;
  }
  /** MTU of packet-too-big messages, or -1. */
  get mtu(): number {
    return this.icmpType === 2 ? readU32(this.d, this.o + 4) : -1;
  }
  /** Flags byte of neighbour / router advertisements, or -1. */
  get ndFlags(): number {
    const t = this.icmpType;
    return t === 136 ? this.d[this.o + 4] : t === 134 ? this.d[this.o + 5] : -1;
  }
  /** Target address of NS / NA / redirect messages as text, or "". */
  get targetAddressString(): string {
    const t = this.icmpType;
    return t >= 135 && t <= 137 ? formatIPv6(this.d, this.o + 8) : "";
  }
  /** Destination address of redirect messages as text, or "". */
  get redirectDestinationString(): string {
    return this.icmpType === 137 ? formatIPv6(this.d, this.o + 24) : "";
  }
  /** Type of ND option `i`, or -1. */
  ndOptionType(i: number): number {
    return i >= 0 && i < this.ndOptionCount ? this.d[this.o + this.optOff[i]] : -1;
  }
  /** Length in bytes of ND option `i`, or -1. */
  ndOptionLength(i: number): number {
    return i >= 0 && i < this.ndOptionCount ? this.d[this.o + this.optOff[i] + 1] * 8 : -1;
  }
  /** Offset of ND option `i` in the packet buffer, or -1. */
  ndOptionOffset(i: number): number {
    return i >= 0 && i < this.ndOptionCount ? this.offset + this.optOff[i] : -1;
  }
  /** MAC of the first link-layer address option of a kind, or -1. */
  private linkAddr(kind: number): number {
    for (let i = 0; i < this.ndOptionCount; i++) {
      const p = this.o + this.optOff[i];
      if (this.d[p] === kind && this.d[p + 1] === 1) return readMac(this.d, p + 2);
    }
    return -1;
  }
  /** Source link-layer address option (a MAC number), or -1. */
  get sourceLinkAddress(): number {
    return this.linkAddr(1);
  }
  /** Target link-layer address option (a MAC number), or -1. */
  get targetLinkAddress(): number {
    return this.linkAddr(2);
  }
  /** Prefix of the first prefix-information option as `addr/len`, or "". */
  get prefixString(): string {
    for (let i = 0; i < this.ndOptionCount; i++) {
      const p = this.o + this.optOff[i];
      if (this.d[p] === 3 && this.d[p + 1] === 4) {
        return formatIPv6(this.d, p + 16) + "/" + this.d[p + 2];
      }
    }
    return "";
  }
  /** True when the checksum is correct; null when not all of the message was captured. */
  get checksumValid(): boolean | null {
    return this.verify(58, this.wireEnd - this.offset);
  }
  /** Text form. */
  toString(): string {
    const t = this.icmpType;
    if (t === 128 || t === 129) {
      return `ICMP6, echo ${
        t === 128 ? "request" : "reply"
      }, id ${this.identifier}, seq ${this.sequence}`;
    }
    if (t === 135) return `ICMP6, neighbor solicitation, who has ${this.targetAddressString}`;
    if (t === 136) return `ICMP6, neighbor advertisement, tgt is ${this.targetAddressString}`;
    if (t === 133) return "ICMP6, router solicitation";
    if (t === 134) return "ICMP6, router advertisement";
    const sl = this.sourceLinkAddress;
    return `ICMP6, type ${t}, code ${this.code}` + (sl >= 0 ? `, from ${formatMac(sl)}` : "");
  }
}
