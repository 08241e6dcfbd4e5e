/**
 * The layer builders: each returns a {@link LayerBuilder} that {@link buildPacket} lays out.
 *
 * @module
 */
import { parseIPv4, parseIPv6, parseMac } from "../decode/bytes.ts";
import { foldChecksum, sumWords } from "../decode/checksum.ts";

/** Where a layer is being written, with its neighbours. */
export interface BuildContext {
  /** The output buffer (the whole packet). */
  buf: Uint8Array;
  /** Offset of this layer in `buf`. */
  offset: number;
  /** End of the packet (= buf.length). */
  end: number;
  /** The layer after this one, or null. */
  next: LayerBuilder | null;
  /** The nearest enclosing IP layer before this one and its offset, or null. */
  ip: { layer: LayerBuilder; offset: number } | null;
}

/**
 * One layer of a packet to build. `write` fills the header once sizes are known (front to back);
 * `finish` runs afterwards from the innermost layer outwards, for checksums.
 */
export interface LayerBuilder {
  /** Layer name (e.g. `"ipv4"`). */
  readonly kind: string;
  /** EtherType this layer has when it follows an Ethernet/VLAN header, if any. */
  readonly etherType?: number;
  /** IP protocol number this layer has when it follows an IP header, if any. */
  readonly ipProtocol?: number;
  /** Header length in bytes (for payloads: the payload length). */
  headerLength(): number;
  /** Writes the header at `ctx.offset`. */
  write(ctx: BuildContext): void;
  /** Computes checksums once everything after this layer is written. */
  finish?(ctx: BuildContext): void;
}

/** A MAC address: text (`"aa:bb:cc:dd:ee:ff"`) or a 48-bit number. */
export type MacInput = string | number;
/** An IPv4 address: dotted text or a 32-bit number. */
export type IPv4Input = string | number;
/** An IPv6 address: text or 16 bytes. */
export type IPv6Input = string | Uint8Array;

function mac(v: MacInput): number {
  return typeof v === "number" ? v : parseMac(v);
}
function v4(v: IPv4Input): number {
  return typeof v === "number" ? v >>> 0 : parseIPv4(v);
}
function v6(v: IPv6Input): Uint8Array {
  if (typeof v !== "string") {
    if (v.length !== 16) throw new RangeError("IPv6 address must be 16 bytes");
    return v;
  }
  return parseIPv6(v);
}
function putMac(b: Uint8Array, o: number, m: number): void {
  const hi = Math.floor(m / 0x100000000), lo = m >>> 0;
  b[o] = hi >>> 8;
  b[o + 1] = hi;
  b[o + 2] = lo >>> 24;
  b[o + 3] = lo >>> 16;
  b[o + 4] = lo >>> 8;
  b[o + 5] = lo;
}
function put16(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 8;
  b[o + 1] = v;
}
function put32(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 24;
  b[o + 1] = v >>> 16;
  b[o + 2] = v >>> 8;
  b[o + 3] = v;
}
function u(v: number | undefined, def: number, bits: number, name: string): number {
  const x = v ?? def;
  if (!Number.isInteger(x) || x < 0 || x >= 2 ** bits) {
    throw new RangeError(`${name} out of range: ${x}`);
  }
  return x;
}

/** Checksum of `[from, end)` plus the enclosing IP's pseudo-header, as stored in a header. */
function l4Checksum(ctx: BuildContext, protocol: number): number {
  const { buf, offset, end } = ctx;
  let sum = 0;
  const ip = ctx.ip;
  if (ip !== null) {
    const o = ip.offset;
    const len = end - offset;
    if (ip.layer.kind === "ipv4") {
      sum = sumWords(buf, o + 12, o + 20) + protocol + len;
    } else {
      sum = sumWords(buf, o + 8, o + 40) + protocol + (len >>> 16) + (len & 0xffff);
    }
  }
  return foldChecksum(sumWords(buf, offset, end, sum));
}

/** Options of {@link ethernet}. */
export interface EthernetOptions {
  /** Source MAC. */
  src: MacInput;
  /** Destination MAC. */
  dst: MacInput;
  /** EtherType (default: from the next layer). */
  type?: number;
}

/** An Ethernet II header. */
export function ethernet(o: EthernetOptions): LayerBuilder {
  const src = mac(o.src), dst = mac(o.dst);
  return {
    kind: "ethernet",
    etherType: 0x6558,
    headerLength: () => 14,
    write(ctx): void {
      putMac(ctx.buf, ctx.offset, dst);
      putMac(ctx.buf, ctx.offset + 6, src);
      put16(ctx.buf, ctx.offset + 12, u(o.type ?? ctx.next?.etherType, 0, 16, "type"));
    },
  };
}

/** Options of {@link vlan}. */
export interface VlanOptions {
  /** VLAN id (0–4095). */
  id: number;
  /** Priority code point (0–7, default 0). */
  priority?: number;
  /** Drop eligible indicator. */
  dei?: boolean;
  /** TPID announcing this tag: 0x8100 (802.1Q, default) or 0x88a8 (802.1ad). */
  tpid?: number;
  /** EtherType of what follows (default: from the next layer). */
  type?: number;
}

/** An 802.1Q (or 802.1ad) VLAN tag. */
export function vlan(o: VlanOptions): LayerBuilder {
  const tci = (u(o.priority, 0, 3, "priority") << 13) | (o.dei ? 0x1000 : 0) | u(o.id, 0, 12, "id");
  return {
    kind: "vlan",
    etherType: o.tpid ?? 0x8100,
    headerLength: () => 4,
    write(ctx): void {
      put16(ctx.buf, ctx.offset, tci);
      put16(ctx.buf, ctx.offset + 2, u(o.type ?? ctx.next?.etherType, 0, 16, "type"));
    },
  };
}

/** Options of {@link arp}. */
export interface ArpOptions {
  /** 1 = request (default), 2 = reply. */
  operation?: number;
  /** Sender MAC. */
  senderMac: MacInput;
  /** Sender IPv4 address. */
  senderIp: IPv4Input;
  /** Target MAC (default 00:00:00:00:00:00). */
  targetMac?: MacInput;
  /** Target IPv4 address. */
  targetIp: IPv4Input;
}

/** An Ethernet/IPv4 ARP packet (28 bytes). */
export function arp(o: ArpOptions): LayerBuilder {
  return {
    kind: "arp",
    etherType: 0x0806,
    headerLength: () => 28,
    write({ buf, offset: p }): void {
      put16(buf, p, 1);
      put16(buf, p + 2, 0x0800);
      buf[p + 4] = 6;
      buf[p + 5] = 4;
      put16(buf, p + 6, u(o.operation, 1, 16, "operation"));
      putMac(buf, p + 8, mac(o.senderMac));
      put32(buf, p + 14, v4(o.senderIp));
      putMac(buf, p + 18, mac(o.targetMac ?? 0));
      put32(buf, p + 24, v4(o.targetIp));
    },
  };
}

/** Options of {@link ipv4}. */
export interface IPv4Options {
  /** Source address. */
  src: IPv4Input;
  /** Destination address. */
  dst: IPv4Input;
  /** Time to live (default 64). */
  ttl?: number;
  /** Identification (default 0). */
  id?: number;
  /** Type of service / DS byte (default 0). */
  tos?: number;
  /** Don't-fragment flag (default true). */
  dontFragment?: boolean;
  /** More-fragments flag (default false). */
  moreFragments?: boolean;
  /** Fragment offset in 8-byte units (default 0). */
  fragmentOffset?: number;
  /** Protocol (default: from the next layer). */
  protocol?: number;
  /** Raw option bytes (padded with end-of-list to a multiple of 4). */
  options?: Uint8Array;
  /** Force this checksum value instead of computing it. */
  checksum?: number;
}

/** An IPv4 header; total length and checksum are computed. */
export function ipv4(o: IPv4Options): LayerBuilder {
  const opt = o.options ?? new Uint8Array(0);
  const hl = 20 + ((opt.length + 3) & ~3);
  if (hl > 60) throw new RangeError("IPv4 options longer than 40 bytes");
  const src = v4(o.src), dst = v4(o.dst);
  return {
    kind: "ipv4",
    etherType: 0x0800,
    ipProtocol: 4,
    headerLength: () => hl,
    write(ctx): void {
      const { buf, offset: p } = ctx;
      const total = ctx.end - p;
      if (total > 0xffff) throw new RangeError("IPv4 datagram longer than 65535 bytes");
      buf[p] = 0x40 | (hl >> 2);
      buf[p + 1] = u(o.tos, 0, 8, "tos");
      put16(buf, p + 2, total);
      put16(buf, p + 4, u(o.id, 0, 16, "id"));
      put16(
        buf,
        p + 6,
        ((o.dontFragment ?? true) ? 0x4000 : 0) | (o.moreFragments ? 0x2000 : 0) |
          u(o.fragmentOffset, 0, 13, "fragmentOffset"),
      );
      buf[p + 8] = u(o.ttl, 64, 8, "ttl");
      buf[p + 9] = u(o.protocol ?? ctx.next?.ipProtocol, 0, 8, "protocol");
      put32(buf, p + 12, src);
      put32(buf, p + 16, dst);
      buf.set(opt, p + 20);
    },
    finish(ctx): void {
      const p = ctx.offset;
      put16(ctx.buf, p + 10, o.checksum ?? foldChecksum(sumWords(ctx.buf, p, p + hl)));
    },
  };
}

/** Options of {@link ipv6}. */
export interface IPv6Options {
  /** Source address. */
  src: IPv6Input;
  /** Destination address. */
  dst: IPv6Input;
  /** Hop limit (default 64). */
  hopLimit?: number;
  /** Traffic class (default 0). */
  trafficClass?: number;
  /** Flow label (default 0). */
  flowLabel?: number;
  /** Next header (default: from the next layer). */
  nextHeader?: number;
}

/** An IPv6 header; the payload length is computed. */
export function ipv6(o: IPv6Options): LayerBuilder {
  const src = v6(o.src), dst = v6(o.dst);
  return {
    kind: "ipv6",
    etherType: 0x86dd,
    ipProtocol: 41,
    headerLength: () => 40,
    write(ctx): void {
      const { buf, offset: p } = ctx;
      const plen = ctx.end - p - 40;
      if (plen > 0xffff) throw new RangeError("IPv6 payload longer than 65535 bytes");
      const tc = u(o.trafficClass, 0, 8, "trafficClass"), fl = u(o.flowLabel, 0, 20, "flowLabel");
      put32(buf, p, ((6 << 28) | (tc << 20) | fl) >>> 0);
      put16(buf, p + 4, plen);
      buf[p + 6] = u(o.nextHeader ?? ctx.next?.ipProtocol, 59, 8, "nextHeader");
      buf[p + 7] = u(o.hopLimit, 64, 8, "hopLimit");
      buf.set(src, p + 8);
      buf.set(dst, p + 24);
    },
  };
}

/** Options of {@link icmpv4} and {@link icmpv6}. */
export interface IcmpOptions {
  /** Message type. */
  type: number;
  /** Message code (default 0). */
  code?: number;
  /** The 4 bytes after the checksum, as a 32-bit number (default 0). */
  rest?: number;
  /** Force this checksum value instead of computing it. */
  checksum?: number;
}

/** A generic ICMPv4 header (8 bytes); the checksum covers it and everything after it. */
export function icmpv4(o: IcmpOptions): LayerBuilder {
  return {
    kind: "icmpv4",
    ipProtocol: 1,
    headerLength: () => 8,
    write({ buf, offset: p }): void {
      buf[p] = u(o.type, 0, 8, "type");
      buf[p + 1] = u(o.code, 0, 8, "code");
      put32(buf, p + 4, u(o.rest, 0, 32, "rest"));
    },
    finish(ctx): void {
      const p = ctx.offset;
      put16(ctx.buf, p + 2, o.checksum ?? foldChecksum(sumWords(ctx.buf, p, ctx.end)));
    },
  };
}

/** Options of {@link icmpEcho} / {@link icmpv6Echo}. */
export interface EchoOptions {
  /** Request (default) or reply. */
  reply?: boolean;
  /** Identifier (default 0). */
  id?: number;
  /** Sequence number (default 0). */
  seq?: number;
}

/** An ICMPv4 echo request (type 8) or reply (type 0). Follow it with the payload. */
export function icmpEcho(o: EchoOptions = {}): LayerBuilder {
  return icmpv4({
    type: o.reply ? 0 : 8,
    rest: ((u(o.id, 0, 16, "id") << 16) | u(o.seq, 0, 16, "seq")) >>> 0,
  });
}

/** A generic ICMPv6 header (8 bytes) with the pseudo-header checksum computed. */
export function icmpv6(o: IcmpOptions): LayerBuilder {
  return {
    kind: "icmpv6",
    ipProtocol: 58,
    headerLength: () => 8,
    write({ buf, offset: p }): void {
      buf[p] = u(o.type, 0, 8, "type");
      buf[p + 1] = u(o.code, 0, 8, "code");
      put32(buf, p + 4, u(o.rest, 0, 32, "rest"));
    },
    finish(ctx): void {
      put16(ctx.buf, ctx.offset + 2, o.checksum ?? l4Checksum(ctx, 58));
    },
  };
}

/** An ICMPv6 echo request (type 128) or reply (type 129). Follow it with the payload. */
export function icmpv6Echo(o: EchoOptions = {}): LayerBuilder {
  return icmpv6({
    type: o.reply ? 129 : 128,
    rest: ((u(o.id, 0, 16, "id") << 16) | u(o.seq, 0, 16, "seq")) >>> 0,
  });
}

/** Options of {@link udp}. */
export interface UdpOptions {
  /** Source port. */
  srcPort: number;
  /** Destination port. */
  dstPort: number;
  /** Force this checksum value (0 = none over IPv4) instead of computing it. */
  checksum?: number;
}

/** A UDP header; length and checksum (with the IP pseudo-header) are computed. */
export function udp(o: UdpOptions): LayerBuilder {
  return {
    kind: "udp",
    ipProtocol: 17,
    headerLength: () => 8,
    write(ctx): void {
      const { buf, offset: p } = ctx;
      put16(buf, p, u(o.srcPort, 0, 16, "srcPort"));
      put16(buf, p + 2, u(o.dstPort, 0, 16, "dstPort"));
      const len = ctx.end - p;
      if (len > 0xffff) throw new RangeError("UDP datagram longer than 65535 bytes");
      put16(buf, p + 4, len);
    },
    finish(ctx): void {
      let c = o.checksum ?? l4Checksum(ctx, 17);
      if (o.checksum === undefined && c === 0) c = 0xffff;
      put16(ctx.buf, ctx.offset + 6, c);
    },
  };
}

/** TCP flags: a number (see `TcpFlags`) or letters `F S R P A U E C` (e.g. `"SA"`). */
export type TcpFlagsInput = number | string;

/** Options of {@link tcp}. */
export interface TcpOptions {
  /** Source port. */
  srcPort: number;
  /** Destination port. */
  dstPort: number;
  /** Sequence number (default 0). */
  seq?: number;
  /** Acknowledgement number (default 0). */
  ack?: number;
  /** Flags (default `"S"` without `ack`, else `"A"`). */
  flags?: TcpFlagsInput;
  /** Window (default 65535). */
  window?: number;
  /** Urgent pointer (default 0). */
  urgent?: number;
  /** Maximum segment size option. */
  mss?: number;
  /** Window scale option (shift count). */
  windowScale?: number;
  /** SACK-permitted option. */
  sackPermitted?: boolean;
  /** SACK blocks `[left, right]` (at most 4). */
  sack?: [number, number][];
  /** Timestamps option `[value, echoReply]`. */
  timestamps?: [number, number];
  /** Extra raw option bytes, appended after the above. */
  rawOptions?: Uint8Array;
  /** Force this checksum value instead of computing it. */
  checksum?: number;
}

function tcpFlags(f: TcpFlagsInput): number {
  if (typeof f === "number") return u(f, 0, 12, "flags");
  let n = 0;
  for (const c of f.toUpperCase()) {
    const i = "FSRPAUEC".indexOf(c);
    if (i < 0) throw new TypeError(`unknown TCP flag letter: ${c}`);
    n |= 1 << i;
  }
  return n;
}

/** A TCP header with options; data offset and checksum (with pseudo-header) are computed. */
export function tcp(o: TcpOptions): LayerBuilder {
  const opt: number[] = [];
  if (o.mss !== undefined) {
    const m = u(o.mss, 0, 16, "mss");
    opt.push(2, 4, m >> 8, m & 255);
  }
  if (o.sackPermitted) opt.push(4, 2);
  if (o.timestamps) {
    const [a, b] = o.timestamps.map((x) => u(x, 0, 32, "timestamp"));
    opt.push(8, 10, a >>> 24, (a >>> 16) & 255, (a >>> 8) & 255, a & 255);
    opt.push(b >>> 24, (b >>> 16) & 255, (b >>> 8) & 255, b & 255);
  }
  if (o.windowScale !== undefined) opt.push(1, 3, 3, u(o.windowScale, 0, 8, "windowScale"));
  if (o.sack && o.sack.length) {
    if (o.sack.length > 4) throw new RangeError("at most 4 SACK blocks");
    opt.push(1, 1, 5, 2 + 8 * o.sack.length);
    for (const [l, r] of o.sack) {
      for (const x of [u(l, 0, 32, "sack"), u(r, 0, 32, "sack")]) {
        opt.push(x >>> 24, (x >>> 16) & 255, (x >>> 8) & 255, x & 255);
      }
    }
  }
  if (o.rawOptions) opt.push(...o.rawOptions);
  while (opt.length % 4) opt.push(0);
  const hl = 20 + opt.length;
  if (hl > 60) throw new RangeError("TCP options longer than 40 bytes");
  const flags = tcpFlags(o.flags ?? (o.ack !== undefined ? "A" : "S"));
  return {
    kind: "tcp",
    ipProtocol: 6,
    headerLength: () => hl,
    write({ buf, offset: p }): void {
      put16(buf, p, u(o.srcPort, 0, 16, "srcPort"));
      put16(buf, p + 2, u(o.dstPort, 0, 16, "dstPort"));
      put32(buf, p + 4, u(o.seq, 0, 32, "seq"));
      put32(buf, p + 8, u(o.ack, 0, 32, "ack"));
      put16(buf, p + 12, ((hl >> 2) << 12) | flags);
      put16(buf, p + 14, u(o.window, 65535, 16, "window"));
      put16(buf, p + 18, u(o.urgent, 0, 16, "urgent"));
      buf.set(opt, p + 20);
    },
    finish(ctx): void {
      put16(ctx.buf, ctx.offset + 16, o.checksum ?? l4Checksum(ctx, 6));
    },
  };
}

/** Options of {@link vxlan}. */
export interface VxlanOptions {
  /** VXLAN network identifier (24 bits). */
  vni: number;
}

/** A VXLAN header (send it in UDP to port 4789, followed by an Ethernet frame). */
export function vxlan(o: VxlanOptions): LayerBuilder {
  const vni = u(o.vni, 0, 24, "vni");
  return {
    kind: "vxlan",
    headerLength: () => 8,
    write({ buf, offset: p }): void {
      buf[p] = 0x08;
      put32(buf, p + 4, (vni << 8) >>> 0);
    },
  };
}

/** Raw bytes (a string is encoded as UTF-8). */
export function payload(data: Uint8Array | string): LayerBuilder {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  return {
    kind: "payload",
    headerLength: () => bytes.length,
    write({ buf, offset }): void {
      buf.set(bytes, offset);
    },
  };
}
