// The decoder fields compared against tshark: tshark field name -> our values for a packet
// (one per occurrence, formatted the way `tshark -T fields` prints them).
import type {
  ARP,
  DNS,
  Dot1Q,
  Ethernet,
  GRE,
  ICMPv4,
  ICMPv6,
  IEEE80211,
  IPv4,
  IPv6,
  Layer,
  LinuxSLL,
  LinuxSLL2,
  LLC,
  Loopback,
  MPLS,
  Packet,
  PPP,
  Radiotap,
  TCP,
  UDP,
  VXLAN,
} from "../src/decode/mod.ts";
import { decode, readU16, readU32 } from "../src/decode/mod.ts";
import { readCapture } from "./_pcap_read.ts";
import { tsharkFields } from "./_tshark.ts";

const hx = (n: number, w: number): string => "0x" + n.toString(16).padStart(w, "0");
const s = (n: number | string): string => String(n);
const st = (v: boolean | null): string => (v === null ? "2" : v ? "1" : "0");

function each<T extends Layer>(p: Packet, type: string, fn: (l: T) => (string | null)[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < p.layerCount; i++) {
    const l = p.layerAt(i)!;
    if (l.type !== type || l.truncated) continue;
    for (const v of fn(l as T)) if (v !== null) out.push(v);
  }
  return out;
}
function dnsEach(p: Packet, fn: (l: DNS) => (string | null)[]): string[] {
  return each<DNS>(p, "DNS", (l) => (l.sectionError === null ? fn(l) : []));
}

/** Field name → our values. */
export const FIELDS: [string, (p: Packet) => string[]][] = [
  ["eth.dst", (p) => each<Ethernet>(p, "Ethernet", (l) => [l.dstString])],
  ["eth.src", (p) => each<Ethernet>(p, "Ethernet", (l) => [l.srcString])],
  [
    "eth.type",
    (p) => each<Ethernet>(p, "Ethernet", (l) => [l.isLength ? null : hx(l.etherType, 4)]),
  ],
  ["eth.len", (p) => each<Ethernet>(p, "Ethernet", (l) => [l.isLength ? s(l.etherType) : null])],
  ["vlan.id", (p) => each<Dot1Q>(p, "Dot1Q", (l) => [l.tpid === 0x88a8 ? null : s(l.vlanId)])],
  [
    "vlan.priority",
    (p) => each<Dot1Q>(p, "Dot1Q", (l) => [l.tpid === 0x88a8 ? null : s(l.priority)]),
  ],
  [
    "vlan.dei",
    (p) => each<Dot1Q>(p, "Dot1Q", (l) => [l.tpid === 0x88a8 ? null : l.dei ? "1" : "0"]),
  ],
  [
    "vlan.etype",
    (p) =>
      each<Dot1Q>(
        p,
        "Dot1Q",
        (l) => [l.tpid === 0x88a8 || l.etherType <= 1500 ? null : hx(l.etherType, 4)],
      ),
  ],
  [
    "ieee8021ad.id",
    (p) => each<Dot1Q>(p, "Dot1Q", (l) => [l.tpid === 0x88a8 ? s(l.vlanId) : null]),
  ],
  ["mpls.label", (p) => each<MPLS>(p, "MPLS", (l) => [s(l.label)])],
  ["mpls.exp", (p) => each<MPLS>(p, "MPLS", (l) => [s(l.trafficClass)])],
  ["mpls.bottom", (p) => each<MPLS>(p, "MPLS", (l) => [l.bottomOfStack ? "1" : "0"])],
  ["mpls.ttl", (p) => each<MPLS>(p, "MPLS", (l) => [s(l.ttl)])],
  ["llc.dsap", (p) => each<LLC>(p, "LLC", (l) => [hx(l.dsap, 2)])],
  ["llc.ssap", (p) => each<LLC>(p, "LLC", (l) => [hx(l.ssap, 2)])],
  [
    "llc.type",
    (p) => each<LLC>(p, "LLC", (l) => [l.isSnap && l.snapOui === 0 ? hx(l.snapType, 4) : null]),
  ],
  ["sll.pkttype", (p) => each<LinuxSLL>(p, "LinuxSLL", (l) => [s(l.packetType)])],
  ["sll.hatype", (p) => each<LinuxSLL>(p, "LinuxSLL", (l) => [s(l.arphrdType)])],
  ["sll.halen", (p) => each<LinuxSLL>(p, "LinuxSLL", (l) => [s(l.addressLength)])],
  [
    "sll.etype",
    (p) =>
      each<LinuxSLL>(
        p,
        "LinuxSLL",
        (l) => [l.protocol >= 0x600 && l.arphrdType !== 778 ? hx(l.protocol, 4) : null],
      ),
  ],
  [
    "sll.gretype",
    (p) => each<LinuxSLL>(p, "LinuxSLL", (l) => [l.arphrdType === 778 ? hx(l.protocol, 4) : null]),
  ],
  ["sll.ifindex", (p) => each<LinuxSLL2>(p, "LinuxSLL2", (l) => [s(l.interfaceIndex)])],
  ["sll.pkttype", (p) => each<LinuxSLL2>(p, "LinuxSLL2", (l) => [s(l.packetType)])],
  ["sll.hatype", (p) => each<LinuxSLL2>(p, "LinuxSLL2", (l) => [s(l.arphrdType)])],
  ["sll.halen", (p) => each<LinuxSLL2>(p, "LinuxSLL2", (l) => [s(l.addressLength)])],
  [
    "sll.etype",
    (p) => each<LinuxSLL2>(p, "LinuxSLL2", (l) => [l.protocol >= 0x600 ? hx(l.protocol, 4) : null]),
  ],
  ["null.family", (p) => each<Loopback>(p, "Loopback", (l) => [s(l.family)])],
  ["ppp.protocol", (p) => each<PPP>(p, "PPP", (l) => [hx(l.protocol, 4)])],
  ["radiotap.length", (p) => each<Radiotap>(p, "Radiotap", (l) => [s(l.length)])],
  ["radiotap.present.word", (p) => each<Radiotap>(p, "Radiotap", (l) => [hx(l.present, 8)])],
  [
    "radiotap.flags",
    (p) => each<Radiotap>(p, "Radiotap", (l) => [l.flags < 0 ? null : hx(l.flags, 2)]),
  ],
  [
    "radiotap.channel.freq",
    (p) =>
      each<Radiotap>(p, "Radiotap", (l) => [l.channelFrequency < 0 ? null : s(l.channelFrequency)]),
  ],
  [
    "radiotap.dbm_antsignal",
    (p) =>
      each<Radiotap>(p, "Radiotap", (l) => [l.antennaSignal === null ? null : s(l.antennaSignal)]),
  ],
  ["wlan.fc.type_subtype", (p) => each<IEEE80211>(p, "IEEE80211", (l) => [hx(l.typeSubtype, 4)])],
  ["wlan.flags", (p) => each<IEEE80211>(p, "IEEE80211", (l) => [hx(l.flags, 2)])],
  [
    "wlan.duration",
    (p) =>
      each<IEEE80211>(
        p,
        "IEEE80211",
        (l) => [l.frameType === 1 && l.subtype === 10 ? null : s(l.duration)],
      ),
  ],
  ["wlan.ra", (p) => each<IEEE80211>(p, "IEEE80211", (l) => [l.addressString(1)])],
  [
    "wlan.ta",
    (p) =>
      each<IEEE80211>(p, "IEEE80211", (l) => [l.addressCount >= 2 ? l.addressString(2) : null]),
  ],
  [
    "wlan.seq",
    (p) =>
      each<IEEE80211>(p, "IEEE80211", (l) => [l.sequenceNumber < 0 ? null : s(l.sequenceNumber)]),
  ],
  ["arp.hw.type", (p) => each<ARP>(p, "ARP", (l) => [s(l.hardwareType)])],
  ["arp.proto.type", (p) => each<ARP>(p, "ARP", (l) => [hx(l.protocolType, 4)])],
  ["arp.opcode", (p) => each<ARP>(p, "ARP", (l) => [s(l.operation)])],
  [
    "arp.src.hw_mac",
    (p) => each<ARP>(p, "ARP", (l) => [l.senderHardware < 0 ? null : l.senderHardwareString]),
  ],
  [
    "arp.src.proto_ipv4",
    (p) => each<ARP>(p, "ARP", (l) => [l.senderProtocol < 0 ? null : l.senderProtocolString]),
  ],
  [
    "arp.dst.hw_mac",
    (p) => each<ARP>(p, "ARP", (l) => [l.targetHardware < 0 ? null : l.targetHardwareString]),
  ],
  [
    "arp.dst.proto_ipv4",
    (p) => each<ARP>(p, "ARP", (l) => [l.targetProtocol < 0 ? null : l.targetProtocolString]),
  ],
  // Wireshark's IPv6 dissector adds ip.version too
  [
    "ip.version",
    (p) =>
      p.layers.filter((l) => (l.type === "IPv4" || l.type === "IPv6") && !l.truncated).map((l) =>
        s((l as IPv4 | IPv6).version)
      ),
  ],
  ["ip.hdr_len", (p) => each<IPv4>(p, "IPv4", (l) => [s(l.ihl * 4)])],
  ["ip.dsfield", (p) => each<IPv4>(p, "IPv4", (l) => [hx(l.tos, 2)])],
  ["ip.len", (p) => each<IPv4>(p, "IPv4", (l) => [s(l.totalLength)])],
  ["ip.id", (p) => each<IPv4>(p, "IPv4", (l) => [hx(l.id, 4)])],
  ["ip.flags", (p) => each<IPv4>(p, "IPv4", (l) => [hx(l.flags, 2)])],
  ["ip.frag_offset", (p) => each<IPv4>(p, "IPv4", (l) => [s(l.fragmentOffset)])],
  ["ip.ttl", (p) => each<IPv4>(p, "IPv4", (l) => [s(l.ttl)])],
  ["ip.proto", (p) => each<IPv4>(p, "IPv4", (l) => [s(l.protocol)])],
  ["ip.checksum", (p) => each<IPv4>(p, "IPv4", (l) => [hx(l.checksum, 4)])],
  ["ip.checksum.status", (p) => each<IPv4>(p, "IPv4", (l) => [st(l.checksumValid)])],
  ["ip.src", (p) => each<IPv4>(p, "IPv4", (l) => [l.srcString])],
  ["ip.dst", (p) => each<IPv4>(p, "IPv4", (l) => [l.dstString])],
  ["ip.opt.type", (p) => each<IPv4>(p, "IPv4", (l) => l.options().map((o) => s(o.type)))],
  ["ipv6.version", (p) => each<IPv6>(p, "IPv6", (l) => [s(l.version)])],
  ["ipv6.tclass", (p) => each<IPv6>(p, "IPv6", (l) => [hx(l.trafficClass, 8)])],
  ["ipv6.flow", (p) => each<IPv6>(p, "IPv6", (l) => [hx(l.flowLabel, 6)])],
  ["ipv6.plen", (p) => each<IPv6>(p, "IPv6", (l) => [s(l.payloadLength)])],
  ["ipv6.nxt", (p) => each<IPv6>(p, "IPv6", (l) => [s(l.nextHeader)])],
  ["ipv6.hlim", (p) => each<IPv6>(p, "IPv6", (l) => [s(l.hopLimit)])],
  ["ipv6.src", (p) => each<IPv6>(p, "IPv6", (l) => [l.srcString])],
  ["ipv6.dst", (p) => each<IPv6>(p, "IPv6", (l) => [l.dstString])],
  [
    "ipv6.fraghdr.ident",
    (p) =>
      each<IPv6>(p, "IPv6", (l) => fragHeaders(l).map((o) => hx(readU32(l.packetData, o + 4), 8))),
  ],
  [
    "ipv6.fraghdr.offset",
    (p) =>
      each<IPv6>(p, "IPv6", (l) => fragHeaders(l).map((o) => s(readU16(l.packetData, o + 2) >> 3))),
  ],
  ["icmp.type", (p) => each<ICMPv4>(p, "ICMPv4", (l) => [s(l.icmpType)])],
  ["icmp.code", (p) => each<ICMPv4>(p, "ICMPv4", (l) => [s(l.code)])],
  ["icmp.checksum", (p) => each<ICMPv4>(p, "ICMPv4", (l) => [hx(l.checksum, 4)])],
  ["icmp.checksum.status", (p) => each<ICMPv4>(p, "ICMPv4", (l) => [st(l.checksumValid)])],
  [
    "icmp.ident",
    (p) => each<ICMPv4>(p, "ICMPv4", (l) => [l.identifier < 0 ? null : s(l.identifier)]),
  ],
  ["icmp.seq", (p) => each<ICMPv4>(p, "ICMPv4", (l) => [l.sequence < 0 ? null : s(l.sequence)])],
  ["icmpv6.type", (p) => each<ICMPv6>(p, "ICMPv6", (l) => [s(l.icmpType)])],
  ["icmpv6.code", (p) => each<ICMPv6>(p, "ICMPv6", (l) => [s(l.code)])],
  ["icmpv6.checksum", (p) => each<ICMPv6>(p, "ICMPv6", (l) => [hx(l.checksum, 4)])],
  ["icmpv6.checksum.status", (p) => each<ICMPv6>(p, "ICMPv6", (l) => [st(l.checksumValid)])],
  [
    "icmpv6.echo.identifier",
    (p) => each<ICMPv6>(p, "ICMPv6", (l) => [l.identifier < 0 ? null : hx(l.identifier, 4)]),
  ],
  [
    "icmpv6.echo.sequence_number",
    (p) => each<ICMPv6>(p, "ICMPv6", (l) => [l.sequence < 0 ? null : s(l.sequence)]),
  ],
  ["icmpv6.mtu", (p) => each<ICMPv6>(p, "ICMPv6", (l) => [l.mtu < 0 ? null : s(l.mtu)])],
  [
    "icmpv6.nd.ns.target_address",
    (p) => each<ICMPv6>(p, "ICMPv6", (l) => [l.icmpType === 135 ? l.targetAddressString : null]),
  ],
  [
    "icmpv6.nd.na.target_address",
    (p) => each<ICMPv6>(p, "ICMPv6", (l) => [l.icmpType === 136 ? l.targetAddressString : null]),
  ],
  [
    "icmpv6.opt.type",
    (p) =>
      each<ICMPv6>(p, "ICMPv6", (l) => {
        const v: string[] = [];
        for (let i = 0; i < l.ndOptionCount; i++) v.push(s(l.ndOptionType(i)));
        return v;
      }),
  ],
  [
    "icmpv6.opt.src_linkaddr",
    (p) =>
      each<ICMPv6>(
        p,
        "ICMPv6",
        (l) => [l.sourceLinkAddress < 0 ? null : fmtMac(l.sourceLinkAddress)],
      ),
  ],
  ["tcp.srcport", (p) => each<TCP>(p, "TCP", (l) => [s(l.srcPort)])],
  ["tcp.dstport", (p) => each<TCP>(p, "TCP", (l) => [s(l.dstPort)])],
  ["tcp.seq_raw", (p) => each<TCP>(p, "TCP", (l) => [s(l.seq)])],
  ["tcp.ack_raw", (p) => each<TCP>(p, "TCP", (l) => [s(l.ack)])],
  ["tcp.hdr_len", (p) => each<TCP>(p, "TCP", (l) => [s(l.dataOffset * 4)])],
  ["tcp.flags", (p) => each<TCP>(p, "TCP", (l) => [hx(l.flags, 4)])],
  ["tcp.window_size_value", (p) => each<TCP>(p, "TCP", (l) => [s(l.window)])],
  ["tcp.checksum", (p) => each<TCP>(p, "TCP", (l) => [hx(l.checksum, 4)])],
  ["tcp.checksum.status", (p) => each<TCP>(p, "TCP", (l) => [st(l.checksumValid)])],
  ["tcp.urgent_pointer", (p) => each<TCP>(p, "TCP", (l) => [s(l.urgentPointer)])],
  [
    "tcp.option_kind",
    (p) =>
      each<TCP>(p, "TCP", (l) => {
        const v: string[] = [];
        for (let i = 0; i < l.optionCount; i++) v.push(s(l.optionKind(i)));
        return v;
      }),
  ],
  ["tcp.options.mss_val", (p) => each<TCP>(p, "TCP", (l) => [l.mss < 0 ? null : s(l.mss)])],
  [
    "tcp.options.wscale.shift",
    (p) => each<TCP>(p, "TCP", (l) => [l.windowScale < 0 ? null : s(l.windowScale)]),
  ],
  [
    "tcp.options.sack_le",
    (p) =>
      each<TCP>(p, "TCP", (l) => {
        const v: string[] = [];
        for (let i = 0; i < l.sackBlockCount; i++) v.push(s(l.sackLeft(i)));
        return v;
      }),
  ],
  [
    "tcp.options.sack_re",
    (p) =>
      each<TCP>(p, "TCP", (l) => {
        const v: string[] = [];
        for (let i = 0; i < l.sackBlockCount; i++) v.push(s(l.sackRight(i)));
        return v;
      }),
  ],
  [
    "tcp.options.timestamp.tsval",
    (p) => each<TCP>(p, "TCP", (l) => [l.tsVal < 0 ? null : s(l.tsVal)]),
  ],
  [
    "tcp.options.timestamp.tsecr",
    (p) => each<TCP>(p, "TCP", (l) => [l.tsEcr < 0 ? null : s(l.tsEcr)]),
  ],
  ["udp.srcport", (p) => each<UDP>(p, "UDP", (l) => [s(l.srcPort)])],
  ["udp.dstport", (p) => each<UDP>(p, "UDP", (l) => [s(l.dstPort)])],
  ["udp.length", (p) => each<UDP>(p, "UDP", (l) => [s(l.length)])],
  ["udp.checksum", (p) => each<UDP>(p, "UDP", (l) => [hx(l.checksum, 4)])],
  [
    "udp.checksum.status",
    (p) =>
      each<UDP>(
        p,
        "UDP",
        (l) => [l.checksum === 0 && l.ip?.type === "IPv4" ? "3" : st(l.checksumValid)],
      ),
  ],
  ["gre.flags_and_version", (p) => each<GRE>(p, "GRE", (l) => [hx(l.flagsVersion, 4)])],
  ["gre.proto", (p) => each<GRE>(p, "GRE", (l) => [hx(l.protocol, 4)])],
  [
    "gre.key",
    (p) => each<GRE>(p, "GRE", (l) => [l.version === 0 && l.keyPresent ? hx(l.key, 8) : null]),
  ],
  [
    "gre.sequence_number",
    (p) => each<GRE>(p, "GRE", (l) => [l.sequence < 0 ? null : s(l.sequence)]),
  ],
  ["vxlan.vni", (p) => each<VXLAN>(p, "VXLAN", (l) => [s(l.vni)])],
  ["dns.id", (p) => each<DNS>(p, "DNS", (l) => [hx(l.id, 4)])],
  ["dns.flags", (p) => each<DNS>(p, "DNS", (l) => [hx(l.flags, 4)])],
  ["dns.count.queries", (p) => each<DNS>(p, "DNS", (l) => [s(l.questionCount)])],
  ["dns.count.answers", (p) => each<DNS>(p, "DNS", (l) => [s(l.answerCount)])],
  ["dns.count.auth_rr", (p) => each<DNS>(p, "DNS", (l) => [s(l.authorityCount)])],
  ["dns.count.add_rr", (p) => each<DNS>(p, "DNS", (l) => [s(l.additionalCount)])],
  ["dns.qry.name", (p) => dnsEach(p, (l) => l.questions.map((q) => q.name))],
  ["dns.qry.type", (p) => dnsEach(p, (l) => l.questions.map((q) => s(q.type)))],
  [
    "dns.resp.name",
    (p) => dnsEach(p, (l) => [...l.answers, ...l.authorities, ...l.additionals].map((r) => r.name)),
  ],
  [
    "dns.resp.type",
    (p) =>
      dnsEach(p, (l) => [...l.answers, ...l.authorities, ...l.additionals].map((r) => s(r.type))),
  ],
  [
    "dns.a",
    (p) =>
      dnsEach(
        p,
        (l) =>
          [...l.answers, ...l.authorities, ...l.additionals].filter((r) => r.type === 1).map((r) =>
            r.value
          ),
      ),
  ],
  [
    "dns.aaaa",
    (p) =>
      dnsEach(
        p,
        (l) =>
          [...l.answers, ...l.authorities, ...l.additionals].filter((r) => r.type === 28).map((r) =>
            r.value
          ),
      ),
  ],
  [
    "dns.cname",
    (p) =>
      dnsEach(
        p,
        (l) =>
          [...l.answers, ...l.authorities, ...l.additionals].filter((r) => r.type === 5).map((r) =>
            r.value
          ),
      ),
  ],
];

function fragHeaders(l: IPv6): number[] {
  const out: number[] = [];
  for (let i = 0; i < l.extensionCount; i++) {
    if (l.extensionType(i) === 44) out.push(l.extensionOffset(i));
  }
  return out;
}

function fmtMac(n: number): string {
  const h = n.toString(16).padStart(12, "0");
  return h.match(/../g)!.join(":");
}

// field name -> value producers (a name may be produced by several layer kinds)
const byName = new Map<string, ((p: Packet) => string[])[]>();
for (const [name, fn] of FIELDS) {
  if (!byName.has(name)) byName.set(name, []);
  byName.get(name)!.push(fn);
}
/** The distinct tshark field names compared. */
export const FIELD_NAMES: string[] = [...byName.keys()];

/** Our values of one tshark field for a packet. */
export function ourValues(p: Packet, name: string): string[] {
  const out: string[] = [];
  for (const fn of byName.get(name) ?? []) out.push(...fn(p));
  return out;
}

/** Per-field comparison counts. */
export interface FieldStat {
  /** Packets where either side has a value. */
  packets: number;
  /** Identical value lists. */
  equal: number;
  /** Ours is a proper prefix of tshark's (tshark decodes layers we do not). */
  deeper: number;
  /** Covered by a documented exception. */
  excepted: number;
  /** Different. */
  mismatch: number;
}
/** Comparison counts for all fields. */
export interface Stats {
  /** Field name → counts. */
  byField: Map<string, FieldStat>;
}
/** Fresh, zeroed stats. */
export function newStats(): Stats {
  return {
    byField: new Map(
      FIELD_NAMES.map((n) => [n, { packets: 0, equal: 0, deeper: 0, excepted: 0, mismatch: 0 }]),
    ),
  };
}

/** A documented, narrow difference from tshark. */
export interface Exception {
  file: string;
  frame: number;
  field: string;
  why: string;
}

/**
 * Decodes every packet of a capture and compares all fields with tshark. With `strict`, ours
 * must equal tshark's exactly (no "tshark decodes deeper" leniency).
 */
export async function compareCapture(
  label: string,
  path: string,
  exceptions: Exception[],
  stats: Stats,
  deeperLog: Set<string> | null = null,
  strict = false,
): Promise<{ problems: string[]; packets: number }> {
  const pk = readCapture(path);
  const rows = await tsharkFields(path, FIELD_NAMES);
  const problems: string[] = [];
  // tshark and this reader may disagree on how many records a damaged file has: compare the
  // common prefix (tshark may stop at the first bad block where we read on)
  if (rows.length > pk.length) {
    problems.push(`${label}: tshark read ${rows.length} packets, we read ${pk.length}`);
  }
  const n = Math.min(rows.length, pk.length);
  for (let i = 0; i < n; i++) {
    const p = decode(pk[i].linkType, pk[i].data);
    for (let f = 0; f < FIELD_NAMES.length; f++) {
      const name = FIELD_NAMES[f];
      const mine = ourValues(p, name);
      const theirs = rows[i][f] ?? [];
      if (mine.length === 0 && theirs.length === 0) continue;
      const st = stats.byField.get(name)!;
      st.packets++;
      if (mine.length === theirs.length && mine.every((v, k) => v === theirs[k])) {
        st.equal++;
        continue;
      }
      if (!strict && mine.length < theirs.length && mine.every((v, k) => v === theirs[k])) {
        st.deeper++;
        deeperLog?.add(`${label} #${i + 1}: ${p.layers.map((l) => l.type).join("/")} (${name})`);
        continue;
      }
      if (
        exceptions.some((e) =>
          e.file === label && (e.frame === 0 || e.frame === i + 1) && e.field === name
        )
      ) {
        st.excepted++;
        continue;
      }
      st.mismatch++;
      problems.push(
        `${label} #${i + 1} ${name}: ours ${JSON.stringify(mine)} tshark ${JSON.stringify(theirs)}`,
      );
    }
  }
  return { problems, packets: n };
}
