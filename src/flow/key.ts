/**
 * Flow keys: the bidirectional 5-tuple of a decoded packet.
 *
 * @module
 */
import type { ICMPv4 } from "../decode/icmpv4.ts";
import type { ICMPv6 } from "../decode/icmpv6.ts";
import type { IPv4 } from "../decode/ipv4.ts";
import type { IPv6 } from "../decode/ipv6.ts";
import type { Packet } from "../decode/packet.ts";
import type { TCP } from "../decode/tcp.ts";
import type { UDP } from "../decode/udp.ts";

/** The endpoints of one packet, and the direction-independent key of its flow. */
export interface FlowTuple {
  /** Same for both directions of a flow, e.g. `"6 10.0.0.1 1234 10.0.0.2 80"`. */
  key: string;
  /** IP protocol number (6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6, …). */
  protocol: number;
  /** 4 or 6. */
  ipVersion: number;
  /** Source address (text). */
  src: string;
  /** Source port (0 when the protocol has none; the identifier of ICMP echo). */
  srcPort: number;
  /** Destination address (text). */
  dst: string;
  /** Destination port (0 when the protocol has none; the identifier of ICMP echo). */
  dstPort: number;
  /** True when (src, srcPort) is the key's first endpoint. */
  forward: boolean;
  /** The transport layer (TCP/UDP/ICMP), or null. */
  transport: TCP | UDP | ICMPv4 | ICMPv6 | null;
  /** The IP layer that carries the transport layer (the innermost one). */
  ip: IPv4 | IPv6;
}

/**
 * The flow tuple of a packet: its first transport layer and the IP layer carrying it, or the
 * outermost IP layer for other protocols. Null for non-IP packets.
 */
export function flowTuple(p: Packet): FlowTuple | null {
  const t = p.transport;
  let ip: IPv4 | IPv6 | null = t !== null && !t.truncated ? t.ip : null;
  if (ip === null) {
    const n = p.network;
    if (n === null || n.type === "ARP") return null;
    ip = n;
  }
  const protocol = ip.type === "IPv4" ? ip.protocol : ip.protocol;
  let sp = 0, dp = 0;
  let tr: FlowTuple["transport"] = null;
  if (t !== null && t.ip === ip && !t.truncated) {
    tr = t;
    if (t.type === "TCP" || t.type === "UDP") {
      sp = t.srcPort;
      dp = t.dstPort;
    } else if (t.identifier >= 0) sp = dp = t.identifier;
  }
  const src = ip.srcString, dst = ip.dstString;
  const forward = src < dst || (src === dst && sp <= dp);
  const proto = tr?.type === "TCP"
    ? 6
    : tr?.type === "UDP"
    ? 17
    : tr?.type === "ICMPv4"
    ? 1
    : tr?.type === "ICMPv6"
    ? 58
    : protocol;
  const key = forward ? `${proto} ${src} ${sp} ${dst} ${dp}` : `${proto} ${dst} ${dp} ${src} ${sp}`;
  return {
    key,
    protocol: proto,
    ipVersion: ip.type === "IPv4" ? 4 : 6,
    src,
    srcPort: sp,
    dst,
    dstPort: dp,
    forward,
    transport: tr,
    ip,
  };
}
