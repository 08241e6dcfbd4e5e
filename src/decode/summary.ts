/**
 * tcpdump-like one-line packet summaries.
 *
 * @module
 */
import type { ARP } from "./arp.ts";
import type { IEEE80211 } from "./ieee80211.ts";
import type { IPv4 } from "./ipv4.ts";
import type { IPv6 } from "./ipv6.ts";
import type { Layer } from "./layer.ts";
import type { Packet } from "./packet.ts";
import type { TCP } from "./tcp.ts";
import type { UDP } from "./udp.ts";
import type { ICMPv4 } from "./icmpv4.ts";
import type { ICMPv6 } from "./icmpv6.ts";

function ipSummary(ip: IPv4 | IPv6, next: Layer | null): string {
  const v4 = ip.type === "IPv4";
  const tag = v4 ? "IP" : "IP6";
  const src = ip.srcString, dst = ip.dstString;
  const plen = v4
    ? (ip as IPv4).totalLength - ip.headerLength
    : (ip as IPv6).payloadLength - (ip.headerLength - 40);
  if (next !== null && next.type === "TCP") {
    const t = next as TCP;
    const len = t.segmentLength;
    let s = `${tag} ${src}.${t.srcPort} > ${dst}.${t.dstPort}: Flags [${t.flagsString}]`;
    if (len > 0 || (t.flags & 7) !== 0) {
      s += `, seq ${t.seq}${len > 0 ? ":" + ((t.seq + len) >>> 0) : ""}`;
    }
    if (t.ackFlag) s += `, ack ${t.ack}`;
    s += `, win ${t.window}`;
    if (t.mss >= 0) s += `, options [mss ${t.mss}]`;
    return s + `, length ${len}`;
  }
  if (next !== null && next.type === "UDP") {
    const u = next as UDP;
    return `${tag} ${src}.${u.srcPort} > ${dst}.${u.dstPort}: UDP, length ${u.length - 8}`;
  }
  if (next !== null && next.type === "ICMPv4") {
    return `${tag} ${src} > ${dst}: ${(next as ICMPv4).toString()}, length ${plen}`;
  }
  if (next !== null && next.type === "ICMPv6") {
    return `${tag} ${src} > ${dst}: ${(next as ICMPv6).toString()}, length ${plen}`;
  }
  if (next !== null && next.type === "GRE") {
    return `${tag} ${src} > ${dst}: ${next.toString()}, length ${plen}`;
  }
  const proto = v4 ? (ip as IPv4).protocol : (ip as IPv6).protocol;
  let s = `${tag} ${src} > ${dst}: ip-proto-${proto} ${plen}`;
  if (ip.type === "IPv4" && (ip as IPv4).isFragment) s += " (frag)";
  return s;
}

/** Builds a tcpdump-like one-line summary of a packet (e.g. for `tcpdump -nn -q`-style output). */
export function summarize(p: Packet): string {
  const n = p.layerCount;
  for (let i = 0; i < n; i++) {
    const l = p.layerAt(i)!;
    if (l.type === "IPv4" || l.type === "IPv6") {
      let s = ipSummary(l as IPv4 | IPv6, p.layerAt(i + 1));
      if (l.truncated || l.error !== null) s += ` [${l.error ?? "truncated"}]`;
      return s;
    }
    if (l.type === "ARP") {
      const a = l as ARP;
      return `${a.toString()}, length ${a.end - a.offset}`;
    }
  }
  const w = p.ieee80211;
  if (w !== null) return (w as IEEE80211).toString();
  const e = p.ethernet;
  if (e !== null) {
    return `${e.srcString} > ${e.dstString}, ethertype 0x${
      e.etherType.toString(16).padStart(4, "0")
    }, length ${p.length}`;
  }
  const first = p.layerAt(0);
  return first !== null ? first.toString() : `link-type ${p.linkType}, length ${p.length}`;
}
