/**
 * Packet building (what libnet does): compose layers, get bytes ready for inject.
 *
 * ```ts
 * import { buildPacket, ethernet, ipv4, icmpEcho, udp } from "@netcap/pcap/build";
 * const ping = buildPacket([
 *   ethernet({ src: "02:00:00:00:00:01", dst: "ff:ff:ff:ff:ff:ff" }),
 *   ipv4({ src: "192.0.2.1", dst: "192.0.2.2" }),
 *   icmpEcho({ id: 7, seq: 1 }),
 *   "ping payload",
 * ]);
 * ```
 *
 * Each builder returns a {@link LayerBuilder}; {@link buildPacket} sizes them, writes them front
 * to back (inferring EtherType / IP protocol from the next layer) and computes lengths and
 * checksums back to front. Raw bytes or strings in the list become payload.
 *
 * @module
 */
export { type BuildItem, buildPacket } from "./packet.ts";
export {
  arp,
  type ArpOptions,
  type BuildContext,
  type EchoOptions,
  ethernet,
  type EthernetOptions,
  icmpEcho,
  type IcmpOptions,
  icmpv4,
  icmpv6,
  icmpv6Echo,
  ipv4,
  type IPv4Input,
  type IPv4Options,
  ipv6,
  type IPv6Input,
  type IPv6Options,
  type LayerBuilder,
  type MacInput,
  payload,
  tcp,
  type TcpFlagsInput,
  type TcpOptions,
  udp,
  type UdpOptions,
  vlan,
  type VlanOptions,
  vxlan,
  type VxlanOptions,
} from "./layers.ts";
export { dnsQuery, type DnsQueryOptions, encodeDnsQuery } from "./dns.ts";
