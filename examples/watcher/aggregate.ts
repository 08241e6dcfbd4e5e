/**
 * The Traffic Watcher's counting: packets go in (one reusable decoder, one flow table), and
 * once per interval a {@link WatcherSnapshot} comes out: total rates, protocol mix, top talkers
 * and top flows, drops and a short history of rates. Pure: time is passed in, so it is
 * unit-testable without a capture.
 *
 * @module
 */
import { PacketDecoder } from "../../src/decode/mod.ts";
import { type Flow, FlowTable } from "../../src/flow/mod.ts";

/** The protocol mix's rows, in display order. */
export const PROTOCOL_NAMES: readonly string[] = [
  "TCP",
  "UDP",
  "ICMP",
  "ICMPv6",
  "ARP",
  "other IPv4",
  "other IPv6",
  "other",
];

const P_TCP = 0, P_UDP = 1, P_ICMP = 2, P_ICMP6 = 3, P_ARP = 4, P_IP4 = 5, P_IP6 = 6, P_OTHER = 7;
const N_PROTOCOLS = 8;

/** One point of the rate history. */
export interface RateSample {
  /** End of the interval, milliseconds since the epoch. */
  readonly time: number;
  /** Packets per second over the interval. */
  readonly packetsPerSecond: number;
  /** Bits per second over the interval. */
  readonly bitsPerSecond: number;
}

/** One row of the protocol mix. */
export interface ProtocolRow {
  /** One of {@link PROTOCOL_NAMES}. */
  readonly name: string;
  /** Packets since the start. */
  readonly packets: number;
  /** Bytes since the start. */
  readonly bytes: number;
  /** Packets per second over the last interval. */
  readonly packetsPerSecond: number;
  /** Bits per second over the last interval. */
  readonly bitsPerSecond: number;
}

/** One host, summed over the flows in the table. */
export interface TalkerRow {
  /** IP address (text). */
  readonly address: string;
  /** Packets sent and received. */
  readonly packets: number;
  /** Bytes this host sent. */
  readonly bytesSent: number;
  /** Bytes this host received. */
  readonly bytesReceived: number;
  /** Bytes sent and received. */
  readonly bytes: number;
  /** Bits per second (both directions) over the last interval. */
  readonly bitsPerSecond: number;
}

/** One flow of the flow table. */
export interface FlowRow {
  /** `TCP`, `UDP`, `ICMP`, `ICMPv6` or `proto N`. */
  readonly protocol: string;
  /** The side that started it. */
  readonly client: string;
  /** Client port (0 when the protocol has none; the identifier for ICMP echo). */
  readonly clientPort: number;
  /** The other side. */
  readonly server: string;
  /** Server port. */
  readonly serverPort: number;
  /** Packets in both directions. */
  readonly packets: number;
  /** Bytes in both directions. */
  readonly bytes: number;
  /** Bits per second over the last interval. */
  readonly bitsPerSecond: number;
  /** TCP state, `""` for other protocols. */
  readonly state: string;
}

/** Capture statistics (`pcap_stats`), as far as the watcher shows them. */
export interface DropStats {
  /** Packets the kernel received. */
  readonly received: number;
  /** Packets dropped for lack of buffer room. */
  readonly dropped: number;
  /** Packets dropped by the interface or its driver. */
  readonly interfaceDropped: number;
}

/** Everything one refresh of the watcher shows. */
export interface WatcherSnapshot {
  /** The device captured on. */
  readonly device: string;
  /** The capture filter, or null. */
  readonly filter: string | null;
  /** When the snapshot was taken, milliseconds since the epoch. */
  readonly time: number;
  /** Seconds since the watcher started. */
  readonly uptime: number;
  /** Seconds covered by the rates. */
  readonly interval: number;
  /** Packets per second over the last interval. */
  readonly packetsPerSecond: number;
  /** Bits per second over the last interval. */
  readonly bitsPerSecond: number;
  /** Highest packets per second of any interval so far. */
  readonly peakPacketsPerSecond: number;
  /** Highest bits per second of any interval so far. */
  readonly peakBitsPerSecond: number;
  /** Packets since the start. */
  readonly totalPackets: number;
  /** Bytes since the start (lengths on the wire). */
  readonly totalBytes: number;
  /** The protocol mix, one row per {@link PROTOCOL_NAMES} entry, in that order. */
  readonly protocols: readonly ProtocolRow[];
  /** Bytes since the start carried by IPv4 and by IPv6. */
  readonly ipBytes: { readonly ipv4: number; readonly ipv6: number };
  /** The hosts with the most bytes in the flow table, most first. */
  readonly talkers: readonly TalkerRow[];
  /** The flows with the most bytes, most first. */
  readonly flows: readonly FlowRow[];
  /** Flows in the table now. */
  readonly activeFlows: number;
  /** Flows created since the start. */
  readonly flowsSeen: number;
  /** Flows evicted because the table was full. */
  readonly flowsEvicted: number;
  /** The capture's statistics, or null when unknown. */
  readonly stats: DropStats | null;
  /** The latest rates, oldest first (at most `historyLength`). */
  readonly history: readonly RateSample[];
}

/** Options of {@link TrafficAggregator}. */
export interface AggregatorOptions {
  /** Device name shown in the snapshots (default `""`). */
  readonly device?: string;
  /** Filter shown in the snapshots (default null). */
  readonly filter?: string | null;
  /** Start time, milliseconds since the epoch (default now). */
  readonly start?: number;
  /** Rows of top talkers and top flows (default 10). */
  readonly top?: number;
  /** Most flows kept (default 10000); the least recently seen is evicted. */
  readonly maxFlows?: number;
  /** Seconds without packets after which a flow leaves the table (default 60). */
  readonly idleTimeout?: number;
  /** Rate samples kept for the charts (default 120). */
  readonly historyLength?: number;
}

interface Talker {
  address: string;
  packets: number;
  sent: number;
  received: number;
  delta: number;
}

function protocolName(p: number): string {
  return p === 6 ? "TCP" : p === 17 ? "UDP" : p === 1 ? "ICMP" : p === 58 ? "ICMPv6" : `proto ${p}`;
}

/**
 * Counts packets into per-interval snapshots. `add()` is the hot path: it decodes with one
 * reused {@link PacketDecoder} and accounts the packet in a {@link FlowTable} bounded in size
 * and idle time; everything else happens once per `snapshot()`.
 */
export class TrafficAggregator {
  readonly #decoder = new PacketDecoder();
  readonly #flows: FlowTable;
  readonly #device: string;
  readonly #filter: string | null;
  readonly #start: number;
  readonly #top: number;
  readonly #historyLength: number;
  readonly #packets = new Float64Array(N_PROTOCOLS);
  readonly #bytes = new Float64Array(N_PROTOCOLS);
  readonly #lastPackets = new Float64Array(N_PROTOCOLS);
  readonly #lastBytes = new Float64Array(N_PROTOCOLS);
  #ipv4Bytes = 0;
  #ipv6Bytes = 0;
  #totalPackets = 0;
  #totalBytes = 0;
  #lastTotalPackets = 0;
  #lastTotalBytes = 0;
  #lastTime: number;
  #peakPps = 0;
  #peakBps = 0;
  #flowsSeen = 0;
  #flowsEvicted = 0;
  #flowBytesAtLast = new Map<Flow, number>();
  readonly #history: RateSample[] = [];

  /** Creates an empty aggregator. */
  constructor(options: AggregatorOptions = {}) {
    this.#device = options.device ?? "";
    this.#filter = options.filter ?? null;
    this.#start = this.#lastTime = options.start ?? Date.now();
    this.#top = options.top ?? 10;
    this.#historyLength = options.historyLength ?? 120;
    if (!Number.isInteger(this.#top) || this.#top < 1) {
      throw new RangeError("top must be a positive integer");
    }
    this.#flows = new FlowTable({
      maxFlows: options.maxFlows ?? 10000,
      idleTimeout: options.idleTimeout ?? 60,
      onExpire: (_flow, reason) => {
        if (reason === "evicted") this.#flowsEvicted++;
      },
    });
  }

  /**
   * Accounts one packet: its link type, captured bytes, length on the wire and time stamp
   * (seconds since the epoch, fractions allowed).
   */
  add(linkType: number, data: Uint8Array, length: number, timestamp: number): void {
    const p = this.#decoder.decode(linkType, data);
    this.#totalPackets++;
    this.#totalBytes += length;
    const t = p.transport;
    let kind: number;
    const net = p.network;
    if (net !== null && net.type === "IPv4") this.#ipv4Bytes += length;
    else if (net !== null && net.type === "IPv6") this.#ipv6Bytes += length;
    if (t !== null) {
      const type = t.type;
      kind = type === "TCP" ? P_TCP : type === "UDP" ? P_UDP : type === "ICMPv4" ? P_ICMP : P_ICMP6;
    } else if (net === null) kind = P_OTHER;
    else kind = net.type === "ARP" ? P_ARP : net.type === "IPv4" ? P_IP4 : P_IP6;
    this.#packets[kind]++;
    this.#bytes[kind] += length;
    if (net !== null && net.type !== "ARP") {
      const u = this.#flows.update(p, timestamp, length);
      if (u !== null && u.created) this.#flowsSeen++;
    }
  }

  /** Packets since the start. */
  get totalPackets(): number {
    return this.#totalPackets;
  }

  /**
   * The snapshot at `now` (milliseconds since the epoch): rates cover the time since the
   * previous snapshot (or the start). Expires idle flows first.
   */
  snapshot(now: number, stats: DropStats | null = null): WatcherSnapshot {
    const seconds = Math.max(0, (now - this.#lastTime) / 1000);
    const per = (n: number): number => (seconds > 0 ? n / seconds : 0);
    const pps = per(this.#totalPackets - this.#lastTotalPackets);
    const bps = per((this.#totalBytes - this.#lastTotalBytes) * 8);
    this.#lastTotalPackets = this.#totalPackets;
    this.#lastTotalBytes = this.#totalBytes;
    this.#lastTime = now;
    if (pps > this.#peakPps) this.#peakPps = pps;
    if (bps > this.#peakBps) this.#peakBps = bps;
    this.#history.push({ time: now, packetsPerSecond: pps, bitsPerSecond: bps });
    if (this.#history.length > this.#historyLength) this.#history.shift();

    const protocols: ProtocolRow[] = [];
    for (let i = 0; i < N_PROTOCOLS; i++) {
      protocols.push({
        name: PROTOCOL_NAMES[i],
        packets: this.#packets[i],
        bytes: this.#bytes[i],
        packetsPerSecond: per(this.#packets[i] - this.#lastPackets[i]),
        bitsPerSecond: per((this.#bytes[i] - this.#lastBytes[i]) * 8),
      });
    }
    this.#lastPackets.set(this.#packets);
    this.#lastBytes.set(this.#bytes);

    this.#flows.expire(now / 1000);
    const flowRows: (FlowRow & { key: string })[] = [];
    const talkers = new Map<string, Talker>();
    const talker = (address: string): Talker => {
      let t = talkers.get(address);
      if (t === undefined) {
        talkers.set(address, t = { address, packets: 0, sent: 0, received: 0, delta: 0 });
      }
      return t;
    };
    const seen = new Map<Flow, number>();
    for (const f of this.#flows.flows()) {
      const bytes = f.bytes[0] + f.bytes[1];
      const packets = f.packets[0] + f.packets[1];
      const delta = bytes - (this.#flowBytesAtLast.get(f) ?? 0);
      seen.set(f, bytes);
      flowRows.push({
        key: f.key,
        protocol: protocolName(f.protocol),
        client: f.clientAddress,
        clientPort: f.clientPort,
        server: f.serverAddress,
        serverPort: f.serverPort,
        packets,
        bytes,
        bitsPerSecond: per(delta * 8),
        state: f.protocol === 6 ? f.tcpState : "",
      });
      const c = talker(f.clientAddress), s = talker(f.serverAddress);
      c.packets += packets;
      c.sent += f.bytes[0];
      c.received += f.bytes[1];
      c.delta += delta;
      if (s !== c) {
        s.packets += packets;
        s.sent += f.bytes[1];
        s.received += f.bytes[0];
        s.delta += delta;
      }
    }
    this.#flowBytesAtLast = seen;
    flowRows.sort((a, b) => b.bytes - a.bytes || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const talkerRows = [...talkers.values()]
      .map((t): TalkerRow => ({
        address: t.address,
        packets: t.packets,
        bytesSent: t.sent,
        bytesReceived: t.received,
        bytes: t.sent + t.received,
        bitsPerSecond: per(t.delta * 8),
      }))
      .sort((a, b) =>
        b.bytes - a.bytes || (a.address < b.address ? -1 : a.address > b.address ? 1 : 0)
      );

    return {
      device: this.#device,
      filter: this.#filter,
      time: now,
      uptime: Math.max(0, (now - this.#start) / 1000),
      interval: seconds,
      packetsPerSecond: pps,
      bitsPerSecond: bps,
      peakPacketsPerSecond: this.#peakPps,
      peakBitsPerSecond: this.#peakBps,
      totalPackets: this.#totalPackets,
      totalBytes: this.#totalBytes,
      protocols,
      ipBytes: { ipv4: this.#ipv4Bytes, ipv6: this.#ipv6Bytes },
      talkers: talkerRows.slice(0, this.#top),
      flows: flowRows.slice(0, this.#top).map(({ key: _, ...row }) => row),
      activeFlows: this.#flows.size,
      flowsSeen: this.#flowsSeen,
      flowsEvicted: this.#flowsEvicted,
      stats,
      history: this.#history.slice(),
    };
  }
}
