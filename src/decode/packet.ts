/**
 * The packet view, the layer walk, and the allocation-free reusable decoder.
 *
 * @module
 */
import { ARP } from "./arp.ts";
import { DNS } from "./dns.ts";
import { Dot1Q } from "./dot1q.ts";
import { Ethernet } from "./ethernet.ts";
import { GRE } from "./gre.ts";
import { ICMPv4 } from "./icmpv4.ts";
import { ICMPv6 } from "./icmpv6.ts";
import { IEEE80211 } from "./ieee80211.ts";
import { IPv4 } from "./ipv4.ts";
import { IPv6 } from "./ipv6.ts";
import type { Layer, LayerTypeName } from "./layer.ts";
import { LinuxSLL } from "./linux_sll.ts";
import { LinuxSLL2 } from "./linux_sll2.ts";
import { LLC } from "./llc.ts";
import { Loopback } from "./loopback.ts";
import { MPLS } from "./mpls.ts";
import { Payload } from "./payload.ts";
import { PPP } from "./ppp.ts";
import { Radiotap } from "./radiotap.ts";
import { TCP } from "./tcp.ts";
import { UDP } from "./udp.ts";
import { VXLAN } from "./vxlan.ts";
import { summarize } from "./summary.ts";
import { readU32 } from "./bytes.ts";

// layer kinds (also indices into the pools)
const K_ETH = 0, K_DOT1Q = 1, K_MPLS = 2, K_LLC = 3, K_SLL = 4, K_SLL2 = 5, K_LOOP = 6;
const K_PPP = 7, K_RADIOTAP = 8, K_80211 = 9, K_ARP = 10, K_IPV4 = 11, K_IPV6 = 12;
const K_ICMP = 13, K_ICMP6 = 14, K_TCP = 15, K_UDP = 16, K_GRE = 17, K_VXLAN = 18;
const K_DNS = 19, K_PAYLOAD = 20;
const N_KINDS = 21;
// pseudo kinds used only while walking
const K_NONE = -1, K_RAWIP = 100, K_NULL_HOST = 101, K_NULL_NET = 102;
// layouts of the fast path (Packet.fastShape; 0: another layout)
const FAST_TCP = 1, FAST_UDP = 2;

// deno-lint-ignore no-explicit-any
const CTORS: (new () => any)[] = [
  Ethernet,
  Dot1Q,
  MPLS,
  LLC,
  LinuxSLL,
  LinuxSLL2,
  Loopback,
  PPP,
  Radiotap,
  IEEE80211,
  ARP,
  IPv4,
  IPv6,
  ICMPv4,
  ICMPv6,
  TCP,
  UDP,
  GRE,
  VXLAN,
  DNS,
  Payload,
];
const NAMES: LayerTypeName[] = [
  "Ethernet",
  "Dot1Q",
  "MPLS",
  "LLC",
  "LinuxSLL",
  "LinuxSLL2",
  "Loopback",
  "PPP",
  "Radiotap",
  "IEEE80211",
  "ARP",
  "IPv4",
  "IPv6",
  "ICMPv4",
  "ICMPv6",
  "TCP",
  "UDP",
  "GRE",
  "VXLAN",
  "DNS",
  "Payload",
];

/** At most this many layers are decoded per packet (a guard against absurd nesting). */
export const MAX_LAYERS = 32;

/** UDP ports on which the payload is decoded as DNS (DNS, mDNS, LLMNR). */
function isDnsPort(p: number): boolean {
  return p === 53 || p === 5353 || p === 5355;
}
/** UDP port of VXLAN. */
const VXLAN_PORT = 4789;

function kindForLinkType(lt: number): number {
  switch (lt) {
    case 1:
      return K_ETH;
    case 0:
      return K_NULL_HOST;
    case 108:
      return K_NULL_NET;
    case 12:
    case 14:
    case 101:
    case 228:
    case 229:
      return K_RAWIP;
    case 9:
    case 50:
      return K_PPP;
    case 113:
      return K_SLL;
    case 276:
      return K_SLL2;
    case 105:
      return K_80211;
    case 127:
      return K_RADIOTAP;
    default:
      return K_NONE;
  }
}

function kindForEtherType(t: number): number {
  switch (t) {
    case 0x0800:
      return K_IPV4;
    case 0x86dd:
      return K_IPV6;
    case 0x0806:
    case 0x8035:
      return K_ARP;
    case 0x8100:
    case 0x88a8:
    case 0x9100:
      return K_DOT1Q;
    case 0x8847:
    case 0x8848:
      return K_MPLS;
    case 0x6558:
      return K_ETH;
    default:
      return K_NONE;
  }
}

function kindForIPProtocol(p: number): number {
  switch (p) {
    case 1:
      return K_ICMP;
    case 6:
      return K_TCP;
    case 17:
      return K_UDP;
    case 4:
      return K_IPV4;
    case 41:
      return K_IPV6;
    case 47:
      return K_GRE;
    case 58:
      return K_ICMP6;
    default:
      return K_NONE;
  }
}

/**
 * A decoded packet: a lazy, layered view over the packet bytes. Nothing is copied, and the
 * headers are located only when a layer is first asked for; each field is read from the bytes
 * when its getter is called.
 *
 * Accessors such as `ipv4` or `tcp` return the first (outermost) layer of that type, or null.
 * Use {@link Packet.layer} for inner ones (e.g. the IPv4 inside a GRE tunnel).
 */
export class Packet {
  /** Link type (a `DLT_` value) the bytes were decoded as. */
  linkType = 0;
  /** The buffer holding the packet. */
  data: Uint8Array = new Uint8Array(0);
  /** Offset of the packet's first byte in `data`. */
  offset = 0;
  /** Number of captured bytes of the packet. */
  length = 0;
  /** Use the fast path for Ethernet/IPv4/TCP-or-UDP (tests turn it off to compare). @internal */
  static fastPath = true;
  private walked = false;
  private lazyStart = -1;
  private lazyEnd = -1;
  private list: Layer[] = [];
  private count = 0;
  private first: (Layer | null)[] = new Array(N_KINDS).fill(null);
  private pools: Layer[][] = [];
  private used: Int32Array = new Int32Array(N_KINDS);
  private kinds: Int32Array = new Int32Array(MAX_LAYERS);

  constructor() {
    for (let i = 0; i < N_KINDS; i++) this.pools.push([]);
  }

  /**
   * Points this packet at new bytes and forgets the previous layers (their views are reused).
   * @internal
   */
  reset(linkType: number, data: Uint8Array, offset: number, length: number): void {
    this.linkType = linkType;
    this.data = data;
    this.offset = offset;
    this.length = length;
    // the previous layers are forgotten by walk(): this stays small enough to be inlined
    this.walked = false;
  }

  /** A DataView of `viewOf` (null when that buffer holds just one packet). */
  private view: DataView | null = null;
  /** The buffer `view` was made for. */
  private viewOf: Uint8Array | null = null;
  /** The fast-path layout the layer list holds (FAST_TCP, FAST_UDP), or 0. */
  private fastShape = 0;
  private fastEth: Ethernet | null = null;
  private fastIp: IPv4 | null = null;
  private fastTcp: TCP | null = null;
  private fastUdp: UDP | null = null;

  /** The first pooled view of a kind (created on first use). */
  private firstOf(kind: number): Layer {
    const pool = this.pools[kind];
    if (pool.length === 0) pool.push(new CTORS[kind]());
    return pool[0];
  }

  /** Appends the next free view of a kind to the layer list. */
  private take(kind: number): Layer {
    const pool = this.pools[kind];
    const n = this.used[kind]++;
    let l = pool[n];
    if (l === undefined) pool.push(l = new CTORS[kind]());
    if (this.first[kind] === null) this.first[kind] = l;
    this.kinds[this.count] = kind;
    this.list[this.count++] = l;
    return l;
  }

  /** Puts the fast path's transport view in the layer list (in place of the previous one). */
  private setFastTransport(shape: number, prev: number): void {
    const first = this.first, used = this.used;
    if (prev !== 0) {
      const old = prev === FAST_TCP ? K_TCP : K_UDP;
      first[old] = null;
      used[old] = 0;
    }
    const k = shape === FAST_TCP ? K_TCP : K_UDP;
    first[k] = this.list[2] = shape === FAST_TCP ? this.fastTcp! : this.fastUdp!;
    this.kinds[2] = k;
    used[k] = 1;
    this.fastShape = shape;
  }

  /** Forgets the layers of the previous packet (their views stay, for reuse). */
  private clearLayers(): void {
    const n = this.count;
    const first = this.first, used = this.used, kinds = this.kinds;
    for (let i = 0; i < n; i++) {
      const k = kinds[i];
      first[k] = null;
      used[k] = 0;
    }
    this.count = 0;
  }

  /**
   * Locates the layers. The fast path for the most common shape (Ethernet / IPv4 without
   * options, not a fragment / TCP or UDP, not DNS or VXLAN ports, all headers captured) is
   * inline here, so that a packet of that shape costs one call from the accessor; it sets up
   * the same layer views as the general walk (`generalWalk`), with fewer checks.
   */
  private walk(): void {
    this.lazyStart = -1;
    if (this.linkType !== 1 || !Packet.fastPath) return this.generalWalk();
    const d = this.data;
    const off = this.offset;
    let end = off + this.length;
    if (end > d.length || end - off < 54) return this.generalWalk();
    const v = this.viewOf === d ? this.view : this.viewFor(d);
    let etherType: number, total: number, frag: number;
    if (v !== null) {
      etherType = v.getUint16(off + 12);
      total = v.getUint16(off + 16);
      frag = v.getUint16(off + 20);
    } else {
      etherType = (d[off + 12] << 8) | d[off + 13];
      total = (d[off + 16] << 8) | d[off + 17];
      frag = (d[off + 20] << 8) | d[off + 21];
    }
    if (etherType !== 0x0800 || d[off + 14] !== 0x45) return this.generalWalk();
    const ipEnd = off + 14 + total;
    if (total < 20 || ipEnd > end || (frag & 0x3fff) !== 0) return this.generalWalk();
    const proto = d[off + 23];
    const l4 = off + 34;
    const ports = v !== null ? v.getUint32(l4) : readU32(d, l4);
    const sp = ports >>> 16, dp = ports & 0xffff;
    let hl: number;
    if (proto === 6) {
      hl = (d[l4 + 12] >> 4) * 4;
      if (hl < 20 || ipEnd - l4 < hl) return this.generalWalk();
      if (sp === 53 || dp === 53) return this.generalWalk();
    } else if (proto === 17) {
      if (ipEnd - l4 < 8) return this.generalWalk();
      const ulen = v !== null ? v.getUint16(l4 + 4) : (d[l4 + 4] << 8) | d[l4 + 5];
      if (ulen < 8 || l4 + ulen > ipEnd) return this.generalWalk();
      if (dp === VXLAN_PORT || isDnsPort(sp) || isDnsPort(dp)) return this.generalWalk();
      hl = 8;
    } else return this.generalWalk();
    this.walked = true;
    // each fast-path layer is the first view of its pool
    const eth = this.fastEth ??= this.firstOf(K_ETH) as Ethernet;
    eth.setFast(d, off, end, v);
    end = ipEnd;
    const ip = this.fastIp ??= this.firstOf(K_IPV4) as IPv4;
    ip.setFast(d, off + 14, end, v);
    let l4End = end;
    if (proto === 6) {
      (this.fastTcp ??= this.firstOf(K_TCP) as TCP).setFast(d, l4, end, hl, ip, v);
    } else {
      l4End = l4 + ((d[l4 + 4] << 8) | d[l4 + 5]);
      (this.fastUdp ??= this.firstOf(K_UDP) as UDP).setFast(d, l4, l4End, ip, v);
    }
    if (l4 + hl < l4End) {
      // the payload view is made only if someone asks for it (see lazyPayload)
      this.lazyStart = l4 + hl;
      this.lazyEnd = l4End;
    }
    const shape = proto === 6 ? FAST_TCP : FAST_UDP;
    const prev = this.fastShape;
    if (prev !== 0) {
      // the layer list holds a fast-path layout already: drop a payload view made since,
      // and swap the transport layer if it changed
      if (this.count !== 3) {
        this.first[K_PAYLOAD] = null;
        this.used[K_PAYLOAD] = 0;
        this.count = 3;
      }
      if (shape !== prev) this.setFastTransport(shape, prev);
      return;
    }
    this.setFastLayout(shape);
  }

  /**
   * The DataView the fast path reads `d` through, made when the buffer changes. (Out of
   * `walk`, as is {@link Packet.setFastLayout}: code that runs once per buffer or decoder
   * would otherwise sit in the JIT's hot code without type feedback, and deoptimize it.)
   */
  private viewFor(d: Uint8Array): DataView | null {
    // A buffer holding more than this packet (a file chunk, a whole capture) is likely to be
    // decoded from again: give it a DataView, through which multi-byte fields are read.
    const v = this.view = d.length >= 2 * this.length + 1024
      ? new DataView(d.buffer, d.byteOffset, d.byteLength)
      : null;
    this.viewOf = d;
    return v;
  }

  /** Puts the fast path's layers in the layer list in place of those of the general walk. */
  private setFastLayout(shape: number): void {
    this.clearLayers();
    const first = this.first, list = this.list, kinds = this.kinds, used = this.used;
    first[K_ETH] = list[0] = this.fastEth!;
    first[K_IPV4] = list[1] = this.fastIp!;
    kinds[0] = K_ETH;
    kinds[1] = K_IPV4;
    used[K_ETH] = used[K_IPV4] = 1;
    this.count = 3;
    this.setFastTransport(shape, 0);
  }

  /**
   * The general walk, for every link type and layer shape. (One big function on purpose: the
   * accessors that call `walk` stay small enough for the JIT to inline them into the
   * caller's loop.)
   */
  private generalWalk(): void {
    this.clearLayers();
    this.fastShape = 0;
    // the general walk
    this.walked = true;
    const d = this.data;
    let off = this.offset;
    let end = off + this.length;
    if (end > d.length) end = d.length;
    let kind = kindForLinkType(this.linkType);
    let tpid = 0;
    let ip: IPv4 | IPv6 | null = null;
    let wireEnd = end;
    let frag = false;
    let payloadOk = true;
    while (kind !== K_NONE && this.count < MAX_LAYERS - 1) {
      let next = K_NONE;
      switch (kind) {
        case K_ETH: {
          const l = this.take(K_ETH) as Ethernet;
          l.decodeFrom(d, off, end);
          if (l.truncated) break;
          off += 14;
          const t = l.etherType;
          if (t <= 1500) {
            if (off + t < end) end = off + t;
            next = K_LLC;
          } else {
            next = kindForEtherType(t);
            tpid = t;
          }
          break;
        }
        case K_DOT1Q: {
          const l = this.take(K_DOT1Q) as Dot1Q;
          l.decodeFrom(d, off, end, tpid);
          if (l.truncated) break;
          off += 4;
          const t = l.etherType;
          if (t <= 1500) {
            if (off + t < end) end = off + t;
            next = K_LLC;
          } else {
            next = kindForEtherType(t);
            tpid = t;
          }
          break;
        }
        case K_LLC: {
          const l = this.take(K_LLC) as LLC;
          l.decodeFrom(d, off, end);
          if (l.truncated) break;
          off += l.headerLength;
          if (l.isSnap && l.snapOui === 0) {
            next = kindForEtherType(l.snapType);
            tpid = l.snapType;
          }
          break;
        }
        case K_MPLS: {
          const l = this.take(K_MPLS) as MPLS;
          l.decodeFrom(d, off, end);
          if (l.truncated) break;
          off += 4;
          if (!l.bottomOfStack) next = K_MPLS;
          else if (off < end) {
            const v = d[off] >> 4;
            next = v === 4 ? K_IPV4 : v === 6 ? K_IPV6 : K_NONE;
          }
          break;
        }
        case K_SLL:
        case K_SLL2: {
          let proto: number, hatype: number;
          if (kind === K_SLL) {
            const l = this.take(K_SLL) as LinuxSLL;
            l.decodeFrom(d, off, end);
            if (l.truncated) break;
            off += 16;
            proto = l.protocol;
            hatype = l.arphrdType;
          } else {
            const l = this.take(K_SLL2) as LinuxSLL2;
            l.decodeFrom(d, off, end);
            if (l.truncated) break;
            off += 20;
            proto = l.protocol;
            hatype = l.arphrdType;
          }
          if (hatype === 824) break; // netlink: not an EtherType
          if (proto === 4) next = K_LLC;
          else if (proto >= 0x600) {
            next = kindForEtherType(proto);
            tpid = proto;
          }
          break;
        }
        case K_NULL_HOST:
        case K_NULL_NET: {
          const l = this.take(K_LOOP) as Loopback;
          l.decodeFrom(d, off, end, kind === K_NULL_NET);
          if (l.truncated) break;
          off += 4;
          const f = l.family;
          if (f === 2) next = K_IPV4;
          else if (f === 10 || f === 24 || f === 28 || f === 30) next = K_IPV6;
          break;
        }
        case K_PPP: {
          const l = this.take(K_PPP) as PPP;
          l.decodeFrom(d, off, end);
          if (l.truncated) break;
          off += l.headerLength;
          const p = l.protocol;
          if (p === 0x21) next = K_IPV4;
          else if (p === 0x57) next = K_IPV6;
          else if (p === 0x281 || p === 0x283) next = K_MPLS;
          break;
        }
        case K_RADIOTAP: {
          const l = this.take(K_RADIOTAP) as Radiotap;
          l.decodeFrom(d, off, end);
          if (l.truncated || l.error !== null) {
            payloadOk = false;
            break;
          }
          off += l.headerLength;
          if (l.hasFcs && end - 4 >= off) end -= 4;
          next = K_80211;
          break;
        }
        case K_80211: {
          const l = this.take(K_80211) as IEEE80211;
          l.decodeFrom(d, off, end);
          if (l.truncated) break;
          off += l.headerLength;
          if (l.carriesData && !l.protected) next = K_LLC;
          break;
        }
        case K_RAWIP: {
          const v = off < end ? d[off] >> 4 : 0;
          next = v === 4 ? K_IPV4 : v === 6 ? K_IPV6 : K_NONE;
          if (next === K_NONE) payloadOk = true;
          break;
        }
        case K_ARP: {
          const l = this.take(K_ARP) as ARP;
          l.decodeFrom(d, off, end);
          payloadOk = false;
          break;
        }
        case K_IPV4: {
          const l = this.take(K_IPV4) as IPv4;
          l.decodeFrom(d, off, end);
          if (l.truncated || l.error !== null) break;
          off += l.headerLength;
          end = l.end;
          ip = l;
          wireEnd = l.wireEnd;
          frag = l.isFragment;
          if (l.fragmentOffset === 0) next = kindForIPProtocol(l.protocol);
          break;
        }
        case K_IPV6: {
          const l = this.take(K_IPV6) as IPv6;
          l.decodeFrom(d, off, end);
          if (l.truncated || l.error !== null) break;
          off += l.headerLength;
          end = l.end;
          ip = l;
          wireEnd = l.wireEnd;
          frag = l.isFragment;
          if (l.fragmentOffset <= 0) next = kindForIPProtocol(l.protocol);
          if (l.protocol === 59) payloadOk = false;
          break;
        }
        case K_ICMP: {
          const l = this.take(K_ICMP) as ICMPv4;
          l.decodeFrom(d, off, end, ip, wireEnd, frag);
          if (!l.truncated) off += 8;
          break;
        }
        case K_ICMP6: {
          const l = this.take(K_ICMP6) as ICMPv6;
          l.decodeFrom(d, off, end, ip, wireEnd, frag);
          if (!l.truncated) off += l.headerLength;
          const t = l.icmpType;
          if (t >= 133 && t <= 137) payloadOk = false; // options belong to the message
          break;
        }
        case K_TCP: {
          const l = this.take(K_TCP) as TCP;
          l.decodeFrom(d, off, end, ip, wireEnd, frag);
          if (l.truncated || l.error !== null) break;
          off += l.headerLength;
          if ((l.srcPort === 53 || l.dstPort === 53) && end - off >= 14) {
            const n = (d[off] << 8) | d[off + 1];
            if (n >= 12) {
              off += 2;
              if (off + n < end) end = off + n;
              const m = this.take(K_DNS) as DNS;
              m.decodeFrom(d, off, end, true);
              off = end;
            }
          }
          break;
        }
        case K_UDP: {
          const l = this.take(K_UDP) as UDP;
          l.decodeFrom(d, off, end, ip, wireEnd, frag);
          if (l.truncated || l.error !== null) break;
          off += 8;
          end = l.end;
          const sp = l.srcPort, dp = l.dstPort;
          if (dp === VXLAN_PORT) next = K_VXLAN;
          else if (isDnsPort(dp) || isDnsPort(sp)) next = K_DNS;
          break;
        }
        case K_GRE: {
          const l = this.take(K_GRE) as GRE;
          l.decodeFrom(d, off, end);
          if (l.truncated || l.error !== null) break;
          off += l.headerLength;
          const p = l.protocol;
          if (p === 0x880b) next = K_PPP;
          else {
            next = kindForEtherType(p);
            if (next === K_DOT1Q) next = K_NONE;
          }
          break;
        }
        case K_VXLAN: {
          const l = this.take(K_VXLAN) as VXLAN;
          l.decodeFrom(d, off, end);
          if (l.truncated) break;
          off += 8;
          next = K_ETH;
          break;
        }
        case K_DNS: {
          const l = this.take(K_DNS) as DNS;
          l.decodeFrom(d, off, end, false);
          off = end;
          break;
        }
      }
      kind = next;
    }
    if (payloadOk && off < end && this.count > 0) {
      const last = this.list[this.count - 1];
      if (!last.truncated && last.error === null) {
        (this.take(K_PAYLOAD) as Payload).decodeFrom(d, off, end);
      }
    }
  }

  /** Creates the payload view the fast path left out. */
  private lazyPayload(): void {
    const st = this.lazyStart;
    this.lazyStart = -1;
    (this.take(K_PAYLOAD) as Payload).decodeFrom(this.data, st, this.lazyEnd);
  }

  /** Number of decoded layers. */
  get layerCount(): number {
    if (!this.walked) this.walk();
    if (this.lazyStart >= 0) this.lazyPayload();
    return this.count;
  }
  /** Layer `i` (0 = outermost), or null. */
  layerAt(i: number): Layer | null {
    if (!this.walked) this.walk();
    if (this.lazyStart >= 0) this.lazyPayload();
    return i >= 0 && i < this.count ? this.list[i] : null;
  }
  /** All layers, outermost first (allocates a new array). */
  get layers(): Layer[] {
    if (!this.walked) this.walk();
    if (this.lazyStart >= 0) this.lazyPayload();
    return this.list.slice(0, this.count);
  }
  /** The `nth` (0 = outermost) layer of a type, or null. */
  layer(type: LayerTypeName, nth = 0): Layer | null {
    if (!this.walked) this.walk();
    if (this.lazyStart >= 0) this.lazyPayload();
    for (let i = 0; i < this.count; i++) {
      if (this.list[i].type === type && nth-- === 0) return this.list[i];
    }
    return null;
  }
  /** First Ethernet layer. */
  get ethernet(): Ethernet | null {
    if (!this.walked) this.walk();
    return this.first[K_ETH] as Ethernet | null;
  }
  /** First VLAN tag. */
  get dot1q(): Dot1Q | null {
    if (!this.walked) this.walk();
    return this.first[K_DOT1Q] as Dot1Q | null;
  }
  /** First MPLS label. */
  get mpls(): MPLS | null {
    if (!this.walked) this.walk();
    return this.first[K_MPLS] as MPLS | null;
  }
  /** First LLC header. */
  get llc(): LLC | null {
    if (!this.walked) this.walk();
    return this.first[K_LLC] as LLC | null;
  }
  /** Linux cooked header (v1). */
  get linuxSll(): LinuxSLL | null {
    if (!this.walked) this.walk();
    return this.first[K_SLL] as LinuxSLL | null;
  }
  /** Linux cooked header (v2). */
  get linuxSll2(): LinuxSLL2 | null {
    if (!this.walked) this.walk();
    return this.first[K_SLL2] as LinuxSLL2 | null;
  }
  /** Loopback (NULL/LOOP) header. */
  get loopback(): Loopback | null {
    if (!this.walked) this.walk();
    return this.first[K_LOOP] as Loopback | null;
  }
  /** First PPP header. */
  get ppp(): PPP | null {
    if (!this.walked) this.walk();
    return this.first[K_PPP] as PPP | null;
  }
  /** Radiotap header. */
  get radiotap(): Radiotap | null {
    if (!this.walked) this.walk();
    return this.first[K_RADIOTAP] as Radiotap | null;
  }
  /** 802.11 header. */
  get ieee80211(): IEEE80211 | null {
    if (!this.walked) this.walk();
    return this.first[K_80211] as IEEE80211 | null;
  }
  /** ARP packet. */
  get arp(): ARP | null {
    if (!this.walked) this.walk();
    return this.first[K_ARP] as ARP | null;
  }
  /** First (outermost) IPv4 header. */
  get ipv4(): IPv4 | null {
    if (!this.walked) this.walk();
    return this.first[K_IPV4] as IPv4 | null;
  }
  /** First (outermost) IPv6 header. */
  get ipv6(): IPv6 | null {
    if (!this.walked) this.walk();
    return this.first[K_IPV6] as IPv6 | null;
  }
  /** First ICMPv4 message. */
  get icmpv4(): ICMPv4 | null {
    if (!this.walked) this.walk();
    return this.first[K_ICMP] as ICMPv4 | null;
  }
  /** First ICMPv6 message. */
  get icmpv6(): ICMPv6 | null {
    if (!this.walked) this.walk();
    return this.first[K_ICMP6] as ICMPv6 | null;
  }
  /** First TCP header. */
  get tcp(): TCP | null {
    if (!this.walked) this.walk();
    return this.first[K_TCP] as TCP | null;
  }
  /** First UDP header. */
  get udp(): UDP | null {
    if (!this.walked) this.walk();
    return this.first[K_UDP] as UDP | null;
  }
  /** First GRE header. */
  get gre(): GRE | null {
    if (!this.walked) this.walk();
    return this.first[K_GRE] as GRE | null;
  }
  /** First VXLAN header. */
  get vxlan(): VXLAN | null {
    if (!this.walked) this.walk();
    return this.first[K_VXLAN] as VXLAN | null;
  }
  /** First DNS message. */
  get dns(): DNS | null {
    if (!this.walked) this.walk();
    return this.first[K_DNS] as DNS | null;
  }
  /** Bytes after the last decoded header, or null when there are none. */
  get payload(): Payload | null {
    if (!this.walked) this.walk();
    if (this.lazyStart >= 0) this.lazyPayload();
    return this.first[K_PAYLOAD] as Payload | null;
  }
  /** The outermost network layer (IPv4, IPv6 or ARP), or null. */
  get network(): IPv4 | IPv6 | ARP | null {
    if (!this.walked) this.walk();
    for (let i = 0; i < this.count; i++) {
      const t = this.list[i].type;
      if (t === "IPv4" || t === "IPv6" || t === "ARP") return this.list[i] as IPv4 | IPv6 | ARP;
    }
    return null;
  }
  /** The first transport layer (TCP, UDP, ICMPv4 or ICMPv6), or null. */
  get transport(): TCP | UDP | ICMPv4 | ICMPv6 | null {
    if (!this.walked) this.walk();
    for (let i = 0; i < this.count; i++) {
      const t = this.list[i].type;
      if (t === "TCP" || t === "UDP" || t === "ICMPv4" || t === "ICMPv6") {
        return this.list[i] as TCP | UDP | ICMPv4 | ICMPv6;
      }
    }
    return null;
  }
  /** True when some layer's header is cut short by the end of the captured bytes. */
  get truncated(): boolean {
    if (!this.walked) this.walk();
    for (let i = 0; i < this.count; i++) if (this.list[i].truncated) return true;
    return false;
  }
  /** The first layer error (`"IPv4: bad header length"`), or null. */
  get error(): string | null {
    if (!this.walked) this.walk();
    for (let i = 0; i < this.count; i++) {
      const l = this.list[i];
      if (l.error !== null) return `${l.type}: ${l.error}`;
    }
    return null;
  }
  /** A tcpdump-like one-line summary, e.g. `IP 10.0.0.1.5353 > 10.0.0.2.53: UDP, length 33`. */
  summary(): string {
    return summarize(this);
  }
  /** Same as {@link Packet.summary}. */
  toString(): string {
    return summarize(this);
  }
}

/** Names of the layer types in pool order (for introspection and tests). */
export const DECODED_LAYER_TYPES: readonly LayerTypeName[] = NAMES;

/**
 * Decodes a packet lazily: returns a view over `data` (not copied). Layers are located on first
 * access and fields read on demand; malformed or truncated input never throws.
 *
 * @param linkType the capture's link type (a {@link LinkType} value)
 * @param data the buffer holding the packet
 * @param offset where the packet starts in `data` (default 0)
 * @param length captured length (default: the rest of `data`)
 */
export function decode(
  linkType: number,
  data: Uint8Array,
  offset = 0,
  length: number = data.length - offset,
): Packet {
  const p = new Packet();
  p.reset(linkType, data, offset, length);
  return p;
}

/**
 * What {@link decodeRecord} and {@link PacketDecoder.decodeRecord} accept: a packet record with
 * its link type and captured bytes. Savefile records (`readPackets`, `readBatches`, ...) also
 * carry `bytes` and `dataOffset` (the buffer the packet lies in and where), which are decoded
 * in place so that the record's `data` view is never made; other records are decoded from
 * `data`.
 */
export interface DecodableRecord {
  /** Link type of the packet (a {@link LinkType} value). */
  readonly linkType: number;
  /** The captured bytes (read only when `bytes` is absent). */
  readonly data: Uint8Array;
  /** Number of captured bytes (used with `bytes`). */
  readonly caplen?: number;
  /** The buffer holding the captured bytes, if the record exposes it. */
  readonly bytes?: Uint8Array;
  /** Offset of the captured bytes in `bytes`. */
  readonly dataOffset?: number;
}

/**
 * Decodes a packet record lazily (see {@link DecodableRecord}): like `decode(record.linkType,
 * record.data)`, but a savefile record is read straight from its buffer without making its
 * `data` view. The packet is valid as long as the record's bytes are.
 *
 * ```ts
 * import { decodeRecord } from "@netcap/pcap/decode";
 * import { readPacketsSync } from "@netcap/pcap/savefile";
 *
 * for (const rec of readPacketsSync(bytes)) console.log(decodeRecord(rec).summary());
 * ```
 */
export function decodeRecord(record: DecodableRecord): Packet {
  return pointAt(new Packet(), record);
}

/** Points `p` at a record's bytes: in place in its buffer when it exposes one. */
function pointAt(p: Packet, record: DecodableRecord): Packet {
  const b = record.bytes;
  if (b !== undefined) {
    p.reset(record.linkType, b, record.dataOffset!, record.caplen!);
  } else {
    const d = record.data;
    p.reset(record.linkType, d, 0, d.length);
  }
  return p;
}

/**
 * A reusable decoder for hot loops: `decode()` returns the same {@link Packet} object every time,
 * with its layer views re-pointed at the new bytes, so decoding allocates nothing once the views
 * for the layer types seen have been created. The returned packet (and its layers) is valid only
 * until the next call.
 *
 * ```ts
 * const dec = new PacketDecoder();
 * for (const { data } of records) {
 *   const p = dec.decode(LinkType.EN10MB, data);
 *   const ip = p.ipv4, tcp = p.tcp;
 *   if (ip && tcp) count(ip.src, ip.dst, tcp.srcPort, tcp.dstPort, tcp.flags);
 * }
 * ```
 */
export class PacketDecoder {
  private readonly packet: Packet = new Packet();
  /**
   * Decodes `data[offset..offset+length)` into the shared packet view and returns it; with an
   * offset, a packet inside a larger buffer is decoded in place (no subarray).
   */
  decode(
    linkType: number,
    data: Uint8Array,
    offset = 0,
    length: number = data.length - offset,
  ): Packet {
    this.packet.reset(linkType, data, offset, length);
    return this.packet;
  }

  /**
   * Decodes a packet record (see {@link DecodableRecord}) into the shared packet view. Savefile
   * records are read in place from their buffer (`bytes`, `dataOffset`, `caplen`), so their
   * `data` view is never made: this is the fast way to decode `readBatches()` records.
   *
   * ```ts
   * const dec = new PacketDecoder();
   * for await (const batch of readBatches("capture.pcap")) {
   *   for (const rec of batch) {
   *     const tcp = dec.decodeRecord(rec).tcp;
   *     if (tcp) count(tcp.srcPort, tcp.dstPort);
   *   }
   * }
   * ```
   */
  decodeRecord(record: DecodableRecord): Packet {
    return pointAt(this.packet, record);
  }
}
