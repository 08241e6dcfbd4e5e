/**
 * TCP stream reassembly ("follow TCP stream"): per-direction, in-order byte streams.
 *
 * @module
 */
import type { Packet } from "../decode/packet.ts";
import type { TCP } from "../decode/tcp.ts";
import { ChunkQueue } from "./chunk_queue.ts";
import { type ExpireReasonValue, type Flow, FlowTable } from "./table.ts";

/** Why a connection's streams ended. */
export const CloseReason = {
  /** Both sides sent FIN and all data up to it arrived. */
  Fin: "fin",
  /** A RST was seen. */
  Reset: "reset",
  /** The flow expired (idle) or was evicted from the table. */
  Expired: "expired",
  /** `flush()` / `close()` was called. */
  Flushed: "flushed",
} as const;

/** A value of {@link CloseReason}. */
export type CloseReasonValue = typeof CloseReason[keyof typeof CloseReason];

interface Segment {
  seq: number;
  data: Uint8Array;
}

/** One direction of a connection. @internal */
class Half {
  started = false;
  nextSeq = 0;
  finSeq = -1;
  ended = false;
  pending: Segment[] = [];
  pendingBytes = 0;
  delivered = 0;
  queue: ChunkQueue<Uint8Array> | null = null;
}

/** A TCP connection being reassembled. Direction 0 is client→server. */
export class TcpConnection {
  /** The flow (addresses, ports, counters, TCP state). */
  readonly flow: Flow;
  /** True once both directions ended (or the connection was reset / flushed). */
  closed = false;
  /** Why the connection closed, once it has. */
  closeReason: CloseReasonValue | null = null;
  /** @internal */
  readonly halves: [Half, Half] = [new Half(), new Half()];

  /** @internal */
  constructor(flow: Flow, async: boolean) {
    this.flow = flow;
    if (async) { for (const h of this.halves) h.queue = new ChunkQueue<Uint8Array>(); }
  }
  /** Bytes delivered so far per direction. */
  get delivered(): [number, number] {
    return [this.halves[0].delivered, this.halves[1].delivered];
  }
  /** Bytes held back waiting for missing segments, per direction. */
  get buffered(): [number, number] {
    return [this.halves[0].pendingBytes, this.halves[1].pendingBytes];
  }
  /**
   * The in-order bytes of one direction (0 = client→server) as an async iterable of chunks.
   * Available when the reassembler was created with `async: true` (or `connections()` was
   * called before the connection appeared); otherwise throws `TypeError`.
   */
  stream(direction: 0 | 1): AsyncIterable<Uint8Array> {
    const q = this.halves[direction].queue;
    if (q === null) {
      throw new TypeError("async streams are off: create TcpReassembler with { async: true }");
    }
    return q;
  }
  /** Client→server bytes (see {@link TcpConnection.stream}). */
  get clientData(): AsyncIterable<Uint8Array> {
    return this.stream(0);
  }
  /** Server→client bytes (see {@link TcpConnection.stream}). */
  get serverData(): AsyncIterable<Uint8Array> {
    return this.stream(1);
  }
  /** Text form. */
  toString(): string {
    return this.flow.toString();
  }
}

/** Options of {@link TcpReassembler}. */
export interface TcpReassemblerOptions {
  /**
   * Called synchronously with each in-order chunk. `data` may be a view of the packet buffer:
   * copy it if you keep it past the call.
   */
  onData?: (conn: TcpConnection, direction: 0 | 1, data: Uint8Array) => void;
  /** Called when a new connection is first seen. */
  onOpen?: (conn: TcpConnection) => void;
  /** Called when a connection closes. */
  onClose?: (conn: TcpConnection, reason: CloseReasonValue) => void;
  /** Keep async per-direction chunk queues (see {@link TcpConnection.stream}); default false. */
  async?: boolean;
  /**
   * Most out-of-order bytes held per direction (default 4 MiB). Beyond it the reassembler gives
   * up on the gap and continues with the data it has.
   */
  maxBufferedBytes?: number;
  /** Most connections tracked (default 65536; the least recently active is dropped). */
  maxConnections?: number;
  /** Seconds of inactivity after which a connection is closed (default 300). */
  idleTimeout?: number;
  /** Deliver held-back data after unfilled gaps when a connection closes (default true). */
  deliverAfterGaps?: boolean;
}

/**
 * Reassembles TCP connections from decoded packets: per direction, retransmitted and
 * overlapping bytes are dropped (the first copy wins), out-of-order segments are held until the
 * gap fills, SYN/FIN consume their sequence number, RST ends both directions.
 *
 * Synchronous form: pass `onData`. Async form: `for await (const c of r.connections())`, then
 * `for await (const chunk of c.clientData)`; call {@link TcpReassembler.close} at the end of
 * input so the iterables finish.
 */
export class TcpReassembler {
  private readonly table: FlowTable;
  private readonly conns = new Map<Flow, TcpConnection>();
  private readonly opts: TcpReassemblerOptions;
  private asyncOn: boolean;
  private connQueue: ChunkQueue<TcpConnection> | null = null;
  private readonly maxBuffered: number;

  /** Creates a reassembler. */
  constructor(options: TcpReassemblerOptions = {}) {
    this.opts = options;
    this.asyncOn = options.async ?? false;
    this.maxBuffered = options.maxBufferedBytes ?? 4 << 20;
    this.table = new FlowTable({
      maxFlows: options.maxConnections ?? 65536,
      idleTimeout: options.idleTimeout ?? 300,
      onExpire: (flow: Flow, reason: ExpireReasonValue): void => {
        const c = this.conns.get(flow);
        if (c === undefined) return;
        this.conns.delete(flow);
        if (!c.closed) {
          this.finish(c, reason === "flushed" ? CloseReason.Flushed : CloseReason.Expired);
        }
      },
    });
  }

  /**
   * New connections as an async iterable (turns async streams on for connections seen from now
   * on). Ends after {@link TcpReassembler.close}.
   */
  connections(): AsyncIterable<TcpConnection> {
    this.asyncOn = true;
    return this.connQueue ??= new ChunkQueue<TcpConnection>();
  }

  /** Number of connections being tracked. */
  get size(): number {
    return this.conns.size;
  }

  /** Feeds one decoded packet seen at `timestamp` (seconds). Non-TCP packets are ignored. */
  push(packet: Packet, timestamp = 0): void {
    const tcp = packet.tcp;
    if (tcp === null || tcp.truncated || tcp.error !== null) return;
    const u = this.table.update(packet, timestamp);
    if (u === null || u.tuple.transport !== tcp) return;
    let c = this.conns.get(u.flow);
    if (c === undefined) {
      c = new TcpConnection(u.flow, this.asyncOn);
      this.conns.set(u.flow, c);
      this.opts.onOpen?.(c);
      this.connQueue?.push(c);
    }
    if (c.closed) return;
    this.segment(c, u.direction, tcp);
  }

  /** Handles one segment. */
  private segment(c: TcpConnection, dir: 0 | 1, tcp: TCP): void {
    const h = c.halves[dir];
    const flags = tcp.flags;
    if ((flags & 4) !== 0) {
      this.finish(c, CloseReason.Reset);
      return;
    }
    // the peer acknowledging bytes beyond a gap means they were sent but not captured: give up
    // on the gap (as Wireshark's "follow" does)
    if ((flags & 16) !== 0) {
      const o = c.halves[dir ^ 1];
      if (o.pending.length > 0 && !o.ended) {
        this.ackedGap(c, (dir ^ 1) as 0 | 1, o, tcp.ack);
        this.checkFin(c, o);
        if (c.closed) return;
      }
    }
    let seq = tcp.seq;
    if ((flags & 2) !== 0) {
      if (!h.started) {
        h.started = true;
        h.nextSeq = (seq + 1) >>> 0;
      }
      seq = (seq + 1) >>> 0; // data on a SYN follows the SYN's sequence number
    }
    // payload: the captured bytes of the segment (bounded by the IP length)
    const start = tcp.offset + tcp.headerLength;
    const end = tcp.end;
    const len = end > start ? end - start : 0;
    if (!h.started) {
      if (len === 0 && (flags & 1) === 0) return;
      h.started = true; // picked up mid-stream
      h.nextSeq = seq;
    }
    if ((flags & 1) !== 0 && h.finSeq < 0) h.finSeq = (seq + tcp.segmentLength) >>> 0;
    if (len > 0 && !h.ended) this.data(c, dir, h, seq, tcp.packetData, start, end);
    this.checkFin(c, h);
  }

  /** Handles the payload bytes of a segment. */
  private data(
    c: TcpConnection,
    dir: 0 | 1,
    h: Half,
    seq: number,
    buf: Uint8Array,
    start: number,
    end: number,
  ): void {
    const len = end - start;
    const rel = (seq - h.nextSeq) | 0;
    if (rel + len <= 0) return; // retransmission of delivered bytes
    if (rel <= 0) {
      this.deliver(c, dir, h, buf.subarray(start - rel, end));
      this.drain(c, dir, h);
      return;
    }
    // out of order: hold a copy
    h.pending.push({ seq, data: buf.slice(start, end) });
    h.pendingBytes += len;
    if (h.pendingBytes > this.maxBuffered) this.skipGap(c, dir, h);
  }

  /** Hands an in-order chunk to the callback and the async queue. */
  private deliver(c: TcpConnection, dir: 0 | 1, h: Half, chunk: Uint8Array): void {
    if (h.finSeq >= 0) {
      // nothing beyond the FIN
      const room = (h.finSeq - h.nextSeq) | 0;
      if (room <= 0) return;
      if (chunk.length > room) chunk = chunk.subarray(0, room);
    }
    h.nextSeq = (h.nextSeq + chunk.length) >>> 0;
    h.delivered += chunk.length;
    this.opts.onData?.(c, dir, chunk);
    h.queue?.push(chunk.slice());
  }

  /** Delivers held segments that have become in order. */
  private drain(c: TcpConnection, dir: 0 | 1, h: Half): void {
    let progress = true;
    while (progress && h.pending.length > 0) {
      progress = false;
      for (let i = 0; i < h.pending.length; i++) {
        const s = h.pending[i];
        const rel = (s.seq - h.nextSeq) | 0;
        if (rel > 0) continue;
        h.pending.splice(i, 1);
        h.pendingBytes -= s.data.length;
        if (rel + s.data.length > 0) this.deliver(c, dir, h, s.data.subarray(-rel));
        progress = true;
        break;
      }
    }
  }

  /** Skips gaps the peer has acknowledged past. */
  private ackedGap(c: TcpConnection, dir: 0 | 1, h: Half, ack: number): void {
    while (h.pending.length > 0) {
      let low = 0;
      for (let i = 1; i < h.pending.length; i++) {
        if (((h.pending[i].seq - h.pending[low].seq) | 0) < 0) low = i;
      }
      if (((ack - h.pending[low].seq) | 0) <= 0) return;
      h.nextSeq = h.pending[low].seq;
      this.drain(c, dir, h);
    }
  }

  /** Gives up on the gap before the lowest held segment. */
  private skipGap(c: TcpConnection, dir: 0 | 1, h: Half): void {
    while (h.pending.length > 0 && (h.pendingBytes > this.maxBuffered || c.closed)) {
      let low = 0;
      for (let i = 1; i < h.pending.length; i++) {
        if (((h.pending[i].seq - h.pending[low].seq) | 0) < 0) low = i;
      }
      h.nextSeq = h.pending[low].seq;
      this.drain(c, dir, h);
    }
  }

  /** Ends a direction once all data up to its FIN arrived. */
  private checkFin(c: TcpConnection, h: Half): void {
    if (h.ended || h.finSeq < 0 || h.nextSeq !== h.finSeq) return;
    h.ended = true;
    h.pending = [];
    h.pendingBytes = 0;
    h.queue?.end();
    if (c.halves[0].ended && c.halves[1].ended) this.finish(c, CloseReason.Fin);
  }

  /** Closes a connection. */
  private finish(c: TcpConnection, reason: CloseReasonValue): void {
    if (c.closed) return;
    if (reason !== CloseReason.Reset && (this.opts.deliverAfterGaps ?? true)) {
      c.closed = true; // lets skipGap drain everything
      for (const d of [0, 1] as const) if (!c.halves[d].ended) this.skipGap(c, d, c.halves[d]);
    }
    c.closed = true;
    c.closeReason = reason;
    for (const h of c.halves) {
      h.ended = true;
      h.pending = [];
      h.pendingBytes = 0;
      h.queue?.end();
    }
    this.opts.onClose?.(c, reason);
  }

  /** Closes connections idle since before `now - idleTimeout`. */
  expire(now: number): void {
    this.table.expire(now);
  }

  /** Closes every open connection (delivering held-back data unless told not to). */
  flush(): void {
    for (const c of [...this.conns.values()]) if (!c.closed) this.finish(c, CloseReason.Flushed);
    this.conns.clear();
    this.table.flush();
  }

  /** Flushes and ends the `connections()` iterable: call at the end of input. */
  close(): void {
    this.flush();
    this.connQueue?.end();
  }
}
