/**
 * A bidirectional flow table with idle expiry and a memory bound.
 *
 * @module
 */
import type { Packet } from "../decode/packet.ts";
import { type FlowTuple, flowTuple } from "./key.ts";
import { nextTcpState, TcpState, type TcpStateValue } from "./tcp_state.ts";

/** Why a flow left the table. */
export const ExpireReason = {
  /** No packet for `idleTimeout` seconds. */
  Idle: "idle",
  /** The table was full and this was the least recently seen flow. */
  Evicted: "evicted",
  /** `flush()` was called. */
  Flushed: "flushed",
} as const;

/** A value of {@link ExpireReason}. */
export type ExpireReasonValue = typeof ExpireReason[keyof typeof ExpireReason];

/** One bidirectional flow. Direction 0 is from the client (the side that started it). */
export class Flow {
  /** Direction-independent key (see {@link flowTuple}). */
  readonly key: string;
  /** IP protocol number. */
  readonly protocol: number;
  /** 4 or 6. */
  readonly ipVersion: number;
  /** Client address (the first packet's source; for TCP the SYN's source). */
  readonly clientAddress: string;
  /** Client port. */
  readonly clientPort: number;
  /** Server address. */
  readonly serverAddress: string;
  /** Server port. */
  readonly serverPort: number;
  /** Packets per direction: `[client→server, server→client]`. */
  readonly packets: [number, number] = [0, 0];
  /** Bytes per direction (the lengths passed to `update`). */
  readonly bytes: [number, number] = [0, 0];
  /** Timestamp (seconds) of the first packet. */
  firstSeen: number;
  /** Timestamp (seconds) of the latest packet. */
  lastSeen: number;
  /** TCP state (`"none"` for other protocols). */
  tcpState: TcpStateValue = TcpState.None;
  /** Directions that have sent FIN (bit 0: client, bit 1: server). */
  finMask = 0;

  /** @internal */
  constructor(t: FlowTuple, clientIsSrc: boolean, ts: number) {
    this.key = t.key;
    this.protocol = t.protocol;
    this.ipVersion = t.ipVersion;
    this.clientAddress = clientIsSrc ? t.src : t.dst;
    this.clientPort = clientIsSrc ? t.srcPort : t.dstPort;
    this.serverAddress = clientIsSrc ? t.dst : t.src;
    this.serverPort = clientIsSrc ? t.dstPort : t.srcPort;
    this.firstSeen = this.lastSeen = ts;
  }
  /** Direction of a packet with this source: 0 from the client, 1 from the server. */
  directionOf(src: string, srcPort: number): 0 | 1 {
    return src === this.clientAddress && srcPort === this.clientPort ? 0 : 1;
  }
  /** Text form, e.g. `TCP 10.0.0.1:1234 <-> 10.0.0.2:80 established 3/2 pkts`. */
  toString(): string {
    const p = this.protocol === 6 ? "TCP" : this.protocol === 17 ? "UDP" : `proto ${this.protocol}`;
    const a = (h: string, port: number): string => (h.includes(":") ? `[${h}]` : h) + ":" + port;
    return `${p} ${a(this.clientAddress, this.clientPort)} <-> ${
      a(this.serverAddress, this.serverPort)
    }` +
      (this.protocol === 6 ? ` ${this.tcpState}` : "") +
      ` ${this.packets[0]}/${this.packets[1]} pkts`;
  }
}

/** Options of {@link FlowTable}. */
export interface FlowTableOptions {
  /** Most flows kept; inserting one more evicts the least recently seen (default 65536). */
  maxFlows?: number;
  /** Seconds without packets after which a flow expires (default 120). */
  idleTimeout?: number;
  /** Called for each flow leaving the table. */
  onExpire?: (flow: Flow, reason: ExpireReasonValue) => void;
}

/** What {@link FlowTable.update} found. */
export interface FlowUpdate {
  /** The flow the packet belongs to. */
  flow: Flow;
  /** 0 when the packet goes client→server, 1 for server→client. */
  direction: 0 | 1;
  /** True when this packet created the flow. */
  created: boolean;
  /** The packet's tuple. */
  tuple: FlowTuple;
}

/**
 * Tracks bidirectional flows keyed by 5-tuple: packets and bytes per direction, first/last seen,
 * TCP state. Flows idle for `idleTimeout` seconds expire (checked on each update and by
 * {@link FlowTable.expire}); at most `maxFlows` are kept, evicting the least recently seen.
 * A TCP SYN on a flow that was closed or reset starts a new flow with the same key.
 */
export class FlowTable {
  private readonly map = new Map<string, Flow>();
  private readonly maxFlows: number;
  private readonly idleTimeout: number;
  private readonly onExpire: ((flow: Flow, reason: ExpireReasonValue) => void) | undefined;

  /** Creates an empty table. */
  constructor(options: FlowTableOptions = {}) {
    this.maxFlows = options.maxFlows ?? 65536;
    this.idleTimeout = options.idleTimeout ?? 120;
    this.onExpire = options.onExpire;
    if (!(this.maxFlows >= 1)) throw new RangeError("maxFlows must be at least 1");
    if (!(this.idleTimeout > 0)) throw new RangeError("idleTimeout must be positive");
  }

  /** Number of flows in the table. */
  get size(): number {
    return this.map.size;
  }

  /**
   * Accounts a decoded packet seen at `timestamp` (seconds) with `length` bytes (default: its
   * captured length). Returns null for packets without IP.
   */
  update(packet: Packet, timestamp: number, length: number = packet.length): FlowUpdate | null {
    const t = flowTuple(packet);
    if (t === null) return null;
    this.expire(timestamp);
    let flow = this.map.get(t.key);
    let created = false;
    const tcp = t.transport?.type === "TCP" ? t.transport : null;
    const flags = tcp !== null ? tcp.flags : 0;
    if (
      flow !== undefined && tcp !== null && (flags & 0x12) === 2 &&
      (flow.tcpState === TcpState.Closed || flow.tcpState === TcpState.Reset)
    ) {
      // a new connection reusing the same ports
      this.map.delete(t.key);
      this.onExpire?.(flow, ExpireReason.Flushed);
      flow = undefined;
    }
    if (flow === undefined) {
      if (this.map.size >= this.maxFlows) {
        const oldest = this.map.values().next().value as Flow;
        this.map.delete(oldest.key);
        this.onExpire?.(oldest, ExpireReason.Evicted);
      }
      // the client is the packet's source, except for a SYN+ACK seen first
      const clientIsSrc = !(tcp !== null && (flags & 0x12) === 0x12);
      flow = new Flow(t, clientIsSrc, timestamp);
      created = true;
    } else {
      this.map.delete(t.key); // re-insert below: the map stays ordered by last activity
    }
    this.map.set(t.key, flow);
    const dir = flow.directionOf(t.src, t.srcPort);
    flow.packets[dir]++;
    flow.bytes[dir] += length;
    if (timestamp > flow.lastSeen) flow.lastSeen = timestamp;
    if (tcp !== null) {
      if ((flags & 1) !== 0) flow.finMask |= 1 << dir;
      flow.tcpState = nextTcpState(flow.tcpState, flags, dir, flow.finMask);
    }
    return { flow, direction: dir, created, tuple: t };
  }

  /** Removes flows idle since before `now - idleTimeout`; returns how many expired. */
  expire(now: number): number {
    let n = 0;
    for (const f of this.map.values()) {
      if (f.lastSeen + this.idleTimeout > now) break;
      this.map.delete(f.key);
      this.onExpire?.(f, ExpireReason.Idle);
      n++;
    }
    return n;
  }

  /** The flow with this key, if present. */
  get(key: string): Flow | undefined {
    return this.map.get(key);
  }

  /** All flows, least recently seen first. */
  flows(): IterableIterator<Flow> {
    return this.map.values();
  }

  /** Removes all flows, reporting each as `"flushed"`. */
  flush(): void {
    const all = [...this.map.values()];
    this.map.clear();
    for (const f of all) this.onExpire?.(f, ExpireReason.Flushed);
  }
}
