/**
 * Protocol decoding: lazy, layered, zero-copy views over packet bytes.
 *
 * ```ts
 * import { decode, LinkType } from "@netcap/pcap/decode";
 * const p = decode(LinkType.EN10MB, bytes);
 * const ip = p.ipv4, udp = p.udp;
 * if (ip && udp) console.log(ip.srcString, udp.srcPort, "->", ip.dstString, udp.dstPort);
 * console.log(p.summary()); // "IP 10.0.0.1.5353 > 10.0.0.2.53: UDP, length 33"
 * ```
 *
 * For hot loops use {@link PacketDecoder}: it reuses one packet view and allocates nothing per
 * packet. Layers are {@link Layer} subclasses; addresses are numbers (`src`, `dst`) with text
 * forms on demand (`srcString`). Truncated or bogus headers are flagged (`truncated`, `error`),
 * never thrown.
 *
 * @module
 */
export { LinkType, type LinkTypeValue } from "./link_type.ts";
export { Layer, LayerType, type LayerTypeName } from "./layer.ts";
export {
  type DecodableRecord,
  decode,
  DECODED_LAYER_TYPES,
  decodeRecord,
  MAX_LAYERS,
  Packet,
  PacketDecoder,
} from "./packet.ts";
export { summarize } from "./summary.ts";
export {
  formatIPv4,
  formatIPv6,
  formatMac,
  parseIPv4,
  parseIPv6,
  parseMac,
  readMac,
  readU16,
  readU32,
  toHex,
} from "./bytes.ts";
export { foldChecksum, internetChecksum, sumWords } from "./checksum.ts";
export { Ethernet, EtherType } from "./ethernet.ts";
export { Dot1Q } from "./dot1q.ts";
export { MPLS } from "./mpls.ts";
export { LLC } from "./llc.ts";
export { LinuxSLL } from "./linux_sll.ts";
export { LinuxSLL2 } from "./linux_sll2.ts";
export { Loopback } from "./loopback.ts";
export { PPP, PPPProtocol } from "./ppp.ts";
export { Radiotap, RadiotapFlags } from "./radiotap.ts";
export { Dot11Type, IEEE80211 } from "./ieee80211.ts";
export { ARP, ArpOp } from "./arp.ts";
export { IPProtocol, IPv4, type IPv4Option } from "./ipv4.ts";
export { IPv6 } from "./ipv6.ts";
export { IPPayloadLayer, PortLayer } from "./transport.ts";
export { ICMPv4, ICMPv4Type } from "./icmpv4.ts";
export { ICMPv6, ICMPv6Type, NDOptionType } from "./icmpv6.ts";
export { TCP, TcpFlags, TcpOptionKind } from "./tcp.ts";
export { UDP } from "./udp.ts";
export { GRE } from "./gre.ts";
export { VXLAN } from "./vxlan.ts";
export { DNS, type DnsQuestion, type DnsRecord, type DnsSections, DnsType } from "./dns.ts";
export { Payload } from "./payload.ts";
