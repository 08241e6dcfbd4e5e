/**
 * Capture handles: live captures (`openLive`), savefiles read through
 * libpcap (`openOffline`) and dead handles (`openDead`), each a distinct
 * type exposing only what makes sense for it.
 *
 * Reading paths, fastest first:
 * - `columnBatches()`, `batches()`, `nextBatch()`: batches of packets, each
 *   `await` (or call) covering a whole batch. On Linux a live capture's batches
 *   are read in place from libpcap's own ring (`TPACKET_V3`, mapped a second
 *   time), with libpcap's rules for it, and no call into libpcap per batch;
 *   elsewhere (and in immediate mode, or for the `any` device) the per-packet
 *   loop stays in C (`pcap_dispatch` into a memory stream). Once batches were
 *   read from the ring, `next()`, `dispatch()` and `loop()` read it too.
 *   Use them for high packet rates.
 * - `next()`: synchronous pull, one FFI call per packet; on a savefile the
 *   packet's bytes are a view of libpcap's read buffer (no copy), elsewhere
 *   one copy into a reused buffer.
 * - `dispatch()` / `loop()`: libpcap's own callback loops (synchronous).
 * - `for await (const p of capture)`, `packets()`, `readable`: one packet per
 *   `await` (250-450 ns each): the convenient path.
 *
 * Waiting never blocks the event loop: the async paths wait for the capture's
 * descriptor off the JS thread, and `close()` or an `AbortSignal` ends the
 * wait at once.
 *
 * @module
 */

import type { Ptr } from "../ffi/types.ts";
import { Dumper } from "./dumper.ts";
import { ErrorCode, PcapError } from "./errors.ts";
import { type BpfInstruction, BpfProgram, compileOn, type FilterOptions } from "./filter.ts";
import { LiveRing } from "./live_ring.ts";
import { linkTypeDescription, linkTypeName } from "./linktype.ts";
import { cString, errorBuffer, fromCBuffer, native, requireSymbol, structs } from "./native.ts";
import type { Packet, TimestampPrecision } from "./packet.ts";
import { BatchReader, CallbackReader, NextReader } from "./reader.ts";
import { type PacketBatch, PacketBatchBuilder } from "./batch.ts";
import { pollReadableSync, sleep, sleepSync, waitReadable, Waker, yieldIfBusy } from "./wait.ts";
import { flatten, streamOf } from "./streams.ts";

const statusCodes: Record<number, ErrorCode> = {
  [-1]: ErrorCode.ERROR,
  [-2]: ErrorCode.BREAK,
  [-3]: ErrorCode.NOT_ACTIVATED,
  [-4]: ErrorCode.ACTIVATED,
  [-5]: ErrorCode.NO_SUCH_DEVICE,
  [-6]: ErrorCode.RFMON_NOTSUP,
  [-7]: ErrorCode.NOT_RFMON,
  [-8]: ErrorCode.PERM_DENIED,
  [-9]: ErrorCode.IFACE_NOT_UP,
  [-10]: ErrorCode.CANTSET_TSTAMP_TYPE,
  [-11]: ErrorCode.PROMISC_PERM_DENIED,
  [-12]: ErrorCode.TSTAMP_PRECISION_NOTSUP,
};

const permissionHint = "Capturing needs root, or the capabilities CAP_NET_RAW and CAP_NET_ADMIN. " +
  "Prefer granting them to a compiled program rather than to the runtime: " +
  "`deno compile --allow-ffi -o mycap script.ts && sudo setcap cap_net_raw,cap_net_admin=eip ./mycap`.";

/** @internal The error for a libpcap status, with the handle's error text where libpcap sets one. */
export function statusError(status: number, handle: Ptr, what: string): PcapError {
  const n = native();
  const code = statusCodes[status] ?? ErrorCode.ERROR;
  const generic = n.backend.readCString(n.pcap.symbols.pcap_statustostr(status)) ??
    `status ${status}`;
  const detail = handle ? n.backend.readCString(n.pcap.symbols.pcap_geterr(handle)) ?? "" : "";
  const message = detail && status !== -3 && status !== -4 ? detail : generic;
  return new PcapError(code, `${what}: ${message}`, {
    status,
    hint: code === ErrorCode.PERM_DENIED || code === ErrorCode.PROMISC_PERM_DENIED
      ? permissionHint
      : undefined,
  });
}

/** The handle's own memory and state; one per `pcap_t`. */
class Core {
  ptr: Ptr;
  closed = false;
  waits = 0;
  readonly waker: Waker | null;
  readonly nextReader: NextReader = new NextReader();
  batchReader: BatchReader | null | undefined = undefined;
  callbackReader: CallbackReader | null = null;
  iterating = 0;
  /** Memory from `malloc` that libpcap's stream reads into: freed after `pcap_close`. */
  streamBuffer: Ptr = null;
  /** A live capture's ring, mapped for reading in place (Linux), until libpcap reads instead. */
  ring: LiveRing | null = null;
  /** True once the ring has been read: every read goes through it from then on. */
  ringInUse = false;

  constructor(ptr: Ptr) {
    this.ptr = ptr;
    this.waker = Waker.available() ? new Waker() : null;
  }

  live(): Ptr {
    if (this.closed) throw new PcapError(ErrorCode.CLOSED, "The capture handle is closed");
    return this.ptr;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.waker?.wake();
    // With a wait pending, the wait frees everything as soon as it returns.
    if (this.waits === 0) this.free();
  }

  free(): void {
    const p = this.ptr;
    if (p === null) return;
    this.ptr = null;
    this.ring?.close();
    this.ring = null;
    this.nextReader.release();
    this.batchReader?.close();
    this.callbackReader?.close();
    this.waker?.close();
    const n = native();
    n.pcap.symbols.pcap_close(p);
    const buffer = this.streamBuffer;
    this.streamBuffer = null;
    if (buffer !== null && !n.backend.isNull(buffer)) n.libc!.symbols.free(buffer);
  }
}

const registry = new FinalizationRegistry<Core>((core) => {
  try {
    core.closed = true;
    if (core.waits === 0) core.free();
  } catch {
    // Safety net only.
  }
});

/** Options of `dump()`. */
export interface DumpOptions {
  /** Append to an existing savefile of the same link type and precision (`pcap_dump_open_append`). */
  readonly append?: boolean;
}

let livePointer: (handle: PcapHandle) => Ptr;

/**
 * @internal The `pcap_t` behind a handle, for other modules of this package
 * (send queues, statistics). Throws `PcapError` (`CLOSED`) once it is closed.
 */
export function handlePointer(handle: PcapHandle): Ptr {
  return livePointer(handle);
}

/** What every handle has: link type, snapshot length, filters, dumpers, `close()`. */
export abstract class PcapHandle {
  #core: Core;
  #precision: TimestampPrecision;

  static {
    livePointer = (handle) => handle.#core.live();
  }

  /** @internal */
  constructor(ptr: Ptr, precision: TimestampPrecision) {
    this.#core = new Core(ptr);
    this.#precision = precision;
    registry.register(this, this.#core, this);
  }

  /** @internal */
  protected get core(): Core {
    return this.#core;
  }

  /** @internal */
  protected get precision(): TimestampPrecision {
    return this.#precision;
  }

  /** True once closed. */
  get closed(): boolean {
    return this.#core.closed;
  }

  /** The link type (`pcap_datalink`, a DLT_ value). */
  get linkType(): number {
    return native().pcap.symbols.pcap_datalink(this.#core.live());
  }

  /** libpcap's name for the link type (e.g. `EN10MB`), or null. */
  get linkTypeName(): string | null {
    return linkTypeName(this.linkType);
  }

  /** libpcap's description of the link type (e.g. `Ethernet`), or null. */
  get linkTypeDescription(): string | null {
    return linkTypeDescription(this.linkType);
  }

  /** The snapshot length (`pcap_snapshot`). */
  get snaplen(): number {
    return native().pcap.symbols.pcap_snapshot(this.#core.live());
  }

  /** Timestamp precision of packets and dumpers of this handle. */
  get timestampPrecision(): TimestampPrecision {
    this.#core.live();
    return this.#precision;
  }

  /** Compiles a filter expression for this handle's link type and snapshot length. */
  compileFilter(expression: string, options: FilterOptions = {}): BpfProgram {
    const p = this.#core.live();
    return compileOn(p, expression, options, this.linkType);
  }

  /** Opens a savefile for writing through libpcap (`pcap_dump_open`, or `_append`). */
  dump(path: string, options: DumpOptions = {}): Dumper {
    if (typeof path !== "string") throw new TypeError("path must be a string");
    const p = this.#core.live();
    const n = native();
    const open = options.append
      ? requireSymbol("pcap_dump_open_append")
      : n.pcap.symbols.pcap_dump_open;
    const d = open(p, cString(path));
    if (n.backend.isNull(d)) {
      throw new PcapError(
        ErrorCode.IO,
        n.backend.readCString(n.pcap.symbols.pcap_geterr(p)) ?? `Cannot open ${path}`,
      );
    }
    return new Dumper(d, path, this.#precision);
  }

  /** Closes the handle (`pcap_close`). Idempotent; wakes a pending wait at once. */
  close(): void {
    registry.unregister(this);
    this.#core.close();
  }

  /** Same as `close()`. */
  [Symbol.dispose](): void {
    this.close();
  }
}

/** A handle with no capture behind it (`pcap_open_dead`): compile filters, write savefiles. */
export class DeadHandle extends PcapHandle {}

/** Options of `packets()`. */
export interface IterateOptions {
  /** Ends the iteration (by throwing the signal's reason) when aborted. */
  readonly signal?: AbortSignal;
}

/** Options of `batches()`. */
export interface BatchOptions extends IterateOptions {
  /**
   * Largest number of packets per batch (live default: whatever libpcap's
   * buffer holds; savefile default: 4096).
   */
  readonly maxPackets?: number;
}

/** Options of `columnBatches()`. */
export interface ColumnBatchOptions extends BatchOptions {
  /**
   * Recycle the batches' memory. Each batch is then valid only until
   * the next one is requested: its arrays, and the packets and views made from it, are
   * overwritten by the next batch (copy what you keep: `batch.data(i).slice()`). Nothing is
   * allocated per batch, and while packets keep coming the loop lets them gather for up to
   * the read timeout (at most 10 ms; not in immediate mode) rather than waking for each of
   * libpcap's buffer blocks: the fastest way to read a busy interface. Default false: every
   * batch owns its memory.
   *
   * @example
   * ```ts
   * import { openLive } from "@netcap/pcap";
   *
   * using capture = openLive("lo");
   * let bytes = 0;
   * for await (const batch of capture.columnBatches({ reuse: true })) {
   *   for (let i = 0; i < batch.length; i++) bytes += batch.lengths[i];
   * }
   * ```
   */
  readonly reuse?: boolean;
}

/** A callback of `dispatch()` and `loop()`. */
export type PacketCallback = (packet: Packet) => void;

/** The longest the batch loop lets packets gather when busy (see `busyPauseMs`). */
const BUSY_PAUSE_MAX_MS = 10;
/** libpcap's buffer size when none is set (Linux: 2 MiB). */
const DEFAULT_BUFFER_SIZE = 2 << 20;

/** What can be read: live captures and savefiles. */
export abstract class Capture extends PcapHandle {
  #breakRequested = false;
  #drained = false;
  #linkType = -1;

  /** @internal */
  protected abstract get isLive(): boolean;

  /** @internal How long one idle wait lasts before the state is re-checked. */
  protected waitSliceMs(): number {
    return 1000;
  }

  /**
   * @internal How long the batch loop lets packets gather after a read that found some and
   * one that found none, before it waits for the descriptor (0: it waits at once).
   */
  protected busyPauseMs(): number {
    return 0;
  }

  /** @internal A descriptor to wait on, or -1. */
  protected selectableFd(): number {
    return -1;
  }

  /**
   * @internal Runs a synchronous read so that, on a blocking live capture, it waits at most
   * the read timeout (`empty(result)`: nothing was read; `drained`: the last read took all
   * that was ready, so a wait comes first). Savefiles: the read as it is.
   */
  protected syncRead<T>(
    read: () => T,
    _empty: (result: T) => boolean,
    _drained = false,
  ): T {
    return read();
  }

  /** @internal Called before a read that must block as libpcap does (next, dispatch, loop). */
  protected beforeBlockingRead(): void {}

  /**
   * @internal The ring to read batches from in place (a live capture on Linux), or null:
   * read through libpcap.
   */
  protected batchRing(): LiveRing | null {
    return null;
  }

  /** @internal The ring, if batches were read from it already (then every read uses it). */
  protected packetRing(): LiveRing | null {
    return null;
  }

  /** @internal Called after libpcap took a new filter. */
  protected filterApplied(_instructions: readonly BpfInstruction[]): void {}

  /** @internal Enter the mode async iteration needs; returns how to leave it. */
  protected enterAsync(): () => void {
    return () => {};
  }

  #cachedLinkType(): number {
    if (this.#linkType < 0) this.#linkType = this.linkType;
    return this.#linkType;
  }

  /** @internal Forget the cached link type (after `setLinkType`). */
  protected linkTypeChanged(): void {
    this.#linkType = -1;
  }

  /**
   * The next packet, or `null` when none is available: on a live capture the
   * read timeout passed (or, non-blocking, nothing was waiting); on a savefile
   * the end was reached. Synchronous: on a blocking live capture it blocks for
   * up to the read timeout. The packet's `data` is only valid until the
   * following `next()` call (on a savefile it is a view of libpcap's read
   * buffer, which libpcap refills; once libpcap moves that buffer or the
   * handle closes, such views are detached and read as empty, never as freed
   * memory); `clone()` the packet to keep it. Errors throw {@link PcapError}.
   */
  next(): Packet | null {
    const core = this.core;
    const p = core.live();
    const ring = this.packetRing();
    if (ring) {
      const linkType = this.#cachedLinkType();
      return this.syncRead(() => ring.next(linkType), (r) => r === null);
    }
    this.beforeBlockingRead();
    const pkt = core.nextReader.next(p, this.#cachedLinkType(), this.precision === "nano");
    if (pkt) return pkt;
    const rc = core.nextReader.status;
    if (rc === 0 || rc === -2) return null;
    throw statusError(rc, p, "pcap_next_ex");
  }

  #callbacks(): CallbackReader {
    return this.core.callbackReader ??= new CallbackReader();
  }

  /**
   * Processes up to `max` packets (-1: one buffer's worth; on a savefile,
   * to the end) with `callback` (`pcap_dispatch`). Returns the number of
   * packets processed; 0 means none were available (timeout, non-blocking,
   * or end of file). A `breakLoop()` from the callback stops it. What the
   * callback throws is rethrown after libpcap returns. Packets stay valid.
   */
  dispatch(callback: PacketCallback, max = -1): number {
    if (typeof callback !== "function") throw new TypeError("callback must be a function");
    if (!Number.isInteger(max)) throw new TypeError("max must be an integer");
    const p = this.core.live();
    const ring = this.packetRing();
    if (ring) return this.#ringDispatch(ring, callback, max);
    this.beforeBlockingRead();
    const reader = this.#callbacks();
    const rc = reader.run(
      "dispatch",
      p,
      max,
      callback,
      this.#cachedLinkType(),
      this.precision === "nano",
    );
    if (rc === -2) return reader.delivered;
    if (rc < 0) throw statusError(rc, p, "pcap_dispatch");
    return rc;
  }

  /**
   * Processes packets with `callback` until `count` were processed (-1: no
   * limit), the savefile ends, or `breakLoop()` is called (`pcap_loop`).
   * Synchronous: a live loop blocks the thread while it waits. Returns the
   * number of packets processed. Packets stay valid.
   */
  loop(callback: PacketCallback, count = -1): number {
    if (typeof callback !== "function") throw new TypeError("callback must be a function");
    if (!Number.isInteger(count)) throw new TypeError("count must be an integer");
    const p = this.core.live();
    const ring = this.packetRing();
    if (ring) {
      // pcap_loop: reads again after a read that found nothing, until the count or a break.
      let total = 0;
      this.#loopBroken = false;
      while (count <= 0 || total < count) {
        total += this.#ringDispatch(ring, callback, count <= 0 ? -1 : count - total);
        if (this.#loopBroken || this.core.closed) break;
      }
      this.#loopBroken = false;
      return total;
    }
    this.beforeBlockingRead();
    const reader = this.#callbacks();
    const rc = reader.run(
      "loop",
      p,
      count,
      callback,
      this.#cachedLinkType(),
      this.precision === "nano",
    );
    if (rc < 0 && rc !== -2) throw statusError(rc, p, "pcap_loop");
    return reader.delivered;
  }

  /** Set when a ring `dispatch` stopped on `breakLoop()`, so that `loop` stops too. */
  #loopBroken = false;

  /**
   * `dispatch` over the ring: as libpcap's, it waits (blocking handle) when nothing is
   * there, then hands over up to `max` packets (-1: all that are there), one copy each; a
   * `breakLoop()` made before or during it ends it.
   */
  #ringDispatch(ring: LiveRing, callback: PacketCallback, max: number): number {
    const linkType = this.#cachedLinkType();
    let delivered = 0;
    const take = (): Packet | null => {
      if (this.#breakRequested) return null;
      return ring.next(linkType);
    };
    let packet = this.syncRead(take, (r) => r === null && !this.#breakRequested);
    while (packet !== null) {
      delivered++;
      callback(packet);
      if (this.#breakRequested || this.core.closed || delivered === max) break;
      packet = ring.next(linkType);
    }
    if (this.#breakRequested) {
      this.#breakRequested = false;
      this.#loopBroken = true;
    }
    return delivered;
  }

  /** Makes a running `loop()`/`dispatch()` return, and ends async iteration (`pcap_breakloop`). */
  breakLoop(): void {
    const p = this.core.live();
    this.#breakRequested = true;
    native().pcap.symbols.pcap_breakloop(p);
    this.core.waker?.wake();
  }

  /**
   * Sets the capture filter (`pcap_setfilter`), from an expression (compiled
   * here and freed afterwards) or a compiled program.
   */
  setFilter(filter: string | BpfProgram, options: FilterOptions = {}): void {
    const p = this.core.live();
    const n = native();
    if (filter instanceof BpfProgram) {
      if (n.pcap.symbols.pcap_setfilter(p, filter.programBuffer) !== 0) {
        throw statusError(-1, p, "pcap_setfilter");
      }
      this.filterApplied(filter.instructions);
      return;
    }
    if (typeof filter !== "string") {
      throw new TypeError("filter must be a string or a BpfProgram");
    }
    const program = this.compileFilter(filter, options);
    try {
      if (n.pcap.symbols.pcap_setfilter(p, program.programBuffer) !== 0) {
        throw statusError(-1, p, "pcap_setfilter");
      }
      this.filterApplied(program.instructions);
    } finally {
      program.dispose();
    }
  }

  /**
   * Batches of packets: an async iterable whose items are arrays of packets
   * (the fast path). Each `await` waits off the JS thread when nothing is
   * available. Ends on `close()`, `breakLoop()` or the end of a savefile;
   * throws the signal's reason when `signal` aborts, and errors as
   * {@link PcapError} (after the packets read before the error). Packets
   * stay valid after the next batch. {@link Capture.columnBatches} is the
   * same without an object per packet.
   */
  async *batches(options: BatchOptions = {}): AsyncGenerator<Packet[], void, undefined> {
    const { signal, maxPackets } = options;
    for await (const batch of this.columnBatches({ signal, maxPackets })) yield batch.toArray();
  }

  /**
   * Like {@link Capture.batches}, but each batch is a {@link PacketBatch}:
   * the packets' header fields in typed arrays and their bytes in one buffer,
   * so that a loop over a batch allocates nothing (a `Packet` and its
   * `Uint8Array` cost 100-200 ns to make, more than libpcap spends on the
   * packet). The fastest way to read a busy interface. Batches stay valid.
   *
   * ```ts
   * import { openLive } from "@netcap/pcap";
   *
   * using capture = openLive("lo", { filter: "udp" });
   * for await (const batch of capture.columnBatches()) {
   *   for (let i = 0; i < batch.length; i++) {
   *     const ipProtocol = batch.bytes[batch.offsets[i] + 23];
   *   }
   * }
   * ```
   */
  async *columnBatches(
    options: ColumnBatchOptions = {},
  ): AsyncGenerator<PacketBatch, void, undefined> {
    const { signal } = options;
    const { reuse, max } = this.#batchOptions(options);
    const core = this.core;
    core.live();
    signal?.throwIfAborted();
    const onAbort = (): void => core.waker?.wake();
    signal?.addEventListener("abort", onAbort);
    const leave = this.enterAsync();
    core.iterating++;
    this.#breakRequested = false;
    const nano = this.precision === "nano";
    const linkType = this.#cachedLinkType();
    let idle = 1;
    let busy = false;
    // Only with recycled memory: fresh batches cost more to allocate the larger they are
    // (measured: Deno and Bun both lost more there than the fewer wake-ups saved).
    const pause = reuse ? this.busyPauseMs() : 0;
    try {
      for (;;) {
        if (core.closed) return;
        signal?.throwIfAborted();
        if (this.#breakRequested) return;
        const { batch, status } = this.#readBatch(max, reuse, linkType, nano);
        const found = busy;
        busy = batch.length > 0;
        if (batch.length > 0) {
          idle = 1;
          yield batch;
          await yieldIfBusy();
          if (status > 0) continue;
          if (core.closed) return;
        }
        if (status === -2) return; // breakLoop()
        if (status < 0) throw statusError(status, core.ptr, "pcap_dispatch");
        if (!this.isLive) {
          if (status === 0) return; // end of file
          continue;
        }
        if (status > 0) continue;
        if (found && pause > 0) {
          // Busy: a timer (cheap) lets the next buffer blocks fill, rather than a wait on the
          // descriptor (20-90 µs of CPU) that wakes for each one. libpcap holds packets back
          // for up to the read timeout anyway; the pause is no longer (at most 10 ms).
          await sleep(pause);
          continue;
        }
        // Nothing was waiting: wait off the JS thread.
        const fd = this.selectableFd();
        core.waits++;
        try {
          if (fd >= 0 && core.waker) {
            await waitReadable(fd, core.waker, this.waitSliceMs());
          } else {
            await sleep(idle);
            idle = Math.min(idle * 2, 10);
          }
        } finally {
          core.waits--;
          if (core.closed && core.waits === 0) core.free();
        }
      }
    } finally {
      core.iterating--;
      signal?.removeEventListener("abort", onAbort);
      if (!core.closed) leave();
    }
  }

  /** The checked `reuse` and `maxPackets` (-1: no limit) of the batch readers. */
  #batchOptions(options: Omit<ColumnBatchOptions, "signal">): { reuse: boolean; max: number } {
    const reuse = options.reuse ?? false;
    if (typeof reuse !== "boolean") throw new TypeError("reuse must be a boolean");
    const max = options.maxPackets ?? (this.isLive ? -1 : 4096);
    if (!Number.isInteger(max) || max === 0 || max < -1) {
      throw new RangeError("maxPackets must be a positive integer or -1");
    }
    return { reuse, max };
  }

  /**
   * One read of a batch: `pcap_dispatch` into the memory stream (live), or `pcap_next_ex`
   * packet by packet (savefiles); `status` is what the C call returned.
   */
  #readBatch(
    max: number,
    reuse: boolean,
    linkType: number,
    nano: boolean,
  ): { batch: PacketBatch; status: number } {
    const core = this.core;
    const ring = this.batchRing();
    if (ring) return ring.read(max, reuse, linkType);
    // The memory-stream path is for live captures: pcap_dump() skips records whose
    // time stamp does not fit the pcap format (before 1970, after 2038), which
    // savefiles can hold. Savefiles use pcap_next_ex.
    if (core.batchReader === undefined) {
      core.batchReader = this.isLive ? BatchReader.create() : null;
    }
    if (core.batchReader) {
      const r = core.batchReader.read(core.ptr, max, linkType, nano, reuse);
      if (r.status > 0 && r.batch.length !== r.status) {
        // pcap_dump() refused records (time stamps beyond 2038): stop using it.
        console.warn(
          `pcap: ${r.status - r.batch.length} packet(s) with time stamps the pcap format ` +
            "cannot hold were lost; reading packet by packet from now on",
        );
        core.batchReader.close();
        core.batchReader = null;
      }
      return r;
    }
    const builder = new PacketBatchBuilder();
    const limit = max < 0 ? 1024 : max;
    let status = 0;
    while (builder.length < limit) {
      if (!core.nextReader.nextInto(core.ptr, builder, nano)) {
        status = core.nextReader.status;
        // pcap_next_ex gives -2 at the end of a savefile.
        if (status === -2 && !this.isLive && !this.#breakRequested) status = 0;
        break;
      }
    }
    if (status === 0 && builder.length > 0 && builder.length === limit) {
      status = builder.length;
    }
    return { batch: builder.finish(linkType), status };
  }

  /**
   * The next batch, synchronously: what one read gets (live: one `pcap_dispatch`, all that
   * libpcap's buffer holds; savefile: up to `maxPackets`, default 4096), or `null` when
   * nothing came: on a live capture the read timeout passed (or, non-blocking, nothing was
   * waiting), on a savefile the end was reached, or `breakLoop()` was called. Like `next()`
   * it blocks the thread while it waits, as a C program does: for a Worker or a program
   * that does nothing else, where it spares the event loop's wake-ups (each costs tens of
   * µs); {@link Capture.columnBatches} is the same without blocking. With `reuse`, the batch
   * is valid until the next one (see {@link ColumnBatchOptions.reuse}). Errors throw
   * {@link PcapError}.
   *
   * @example
   * ```ts
   * import { openLive } from "@netcap/pcap";
   *
   * using capture = openLive("lo", { timeout: 10 });
   * let packets = 0;
   * const end = Date.now() + 1000;
   * while (Date.now() < end) {
   *   const batch = capture.nextBatch({ reuse: true });
   *   if (batch) packets += batch.length;
   * }
   * ```
   */
  nextBatch(options: Omit<ColumnBatchOptions, "signal"> = {}): PacketBatch | null {
    const { reuse, max } = this.#batchOptions(options);
    const core = this.core;
    core.live();
    this.#breakRequested = false;
    const linkType = this.#cachedLinkType(), nano = this.precision === "nano";
    const { batch, status } = this.syncRead(
      () => this.#readBatch(max, reuse, linkType, nano),
      (r) => r.batch.length === 0 && r.status >= 0,
      this.#drained,
    );
    // A read of everything that was ready (live, no limit): the next one waits first.
    this.#drained = this.isLive && max === -1 && batch.length > 0;
    if (batch.length > 0) return batch;
    if (status >= 0 || status === -2) return null;
    throw statusError(status, core.ptr, "pcap_dispatch");
  }

  /**
   * Packets one by one: an async iterable (the convenient path, one `await`
   * per packet). Same ending rules as `batches()`. Packets stay valid.
   */
  packets(options: IterateOptions = {}): AsyncGenerator<Packet, void, undefined> {
    return flatten(this.batches(options));
  }

  /** `for await (const packet of capture)`: same as `packets()`. */
  [Symbol.asyncIterator](): AsyncGenerator<Packet, void, undefined> {
    return this.packets();
  }

  /**
   * The packets as a `ReadableStream`; cancelling the stream stops reading
   * (it does not close the handle).
   */
  get readable(): ReadableStream<Packet> {
    return streamOf(this.packets());
  }
}

/** A savefile read through libpcap (`openOffline`). */
export class OfflineCapture extends Capture {
  /** The file's path. */
  readonly path: string;

  /**
   * @internal Use `openOffline()`. `streamBuffer`: memory (from `malloc`) the handle's stdio
   * stream reads into, freed after the handle is closed.
   */
  constructor(ptr: Ptr, path: string, precision: TimestampPrecision, streamBuffer: Ptr = null) {
    super(ptr, precision);
    this.path = path;
    this.core.streamBuffer = streamBuffer;
  }

  /** @internal */
  protected get isLive(): boolean {
    return false;
  }

  /** True when the file's byte order differs from this machine's (`pcap_is_swapped`). */
  get isSwapped(): boolean {
    const p = this.core.live();
    return requireSymbol("pcap_is_swapped")(p) !== 0;
  }

  /** The file format version (`pcap_major_version`, `pcap_minor_version`). */
  get version(): { major: number; minor: number } {
    const p = this.core.live();
    const s = native().pcap.symbols;
    return { major: s.pcap_major_version(p), minor: s.pcap_minor_version(p) };
  }

  /** The upper bits of the link-type field: FCS information (`pcap_datalink_ext`). */
  get linkTypeExtension(): number {
    const p = this.core.live();
    return requireSymbol("pcap_datalink_ext")(p);
  }
}

/** Packet direction for `setDirection`. */
export type Direction = "inout" | "in" | "out";
const directions: Record<Direction, number> = { inout: 0, in: 1, out: 2 };

/** Capture statistics (`pcap_stats`). */
export interface CaptureStats {
  /** Packets received (see pcap_stats(3PCAP) for what each platform counts). */
  readonly received: number;
  /** Packets dropped because there was no room in the buffer. */
  readonly dropped: number;
  /** Packets dropped by the interface or its driver. */
  readonly interfaceDropped: number;
  /** Windows only: packets that reached the application. */
  readonly captured?: number;
  /** Windows only: packets sent. */
  readonly sent?: number;
  /** Windows only: packets dropped by the network. */
  readonly networkDropped?: number;
}

/** A live capture on a device (`openLive`). */
export class LiveCapture extends Capture {
  /** The device name. */
  readonly device: string;
  /** The activation warning, if `pcap_activate` returned one. */
  readonly warning: string | null;
  #timeoutMs: number;
  #immediate: boolean;
  #userNonblocking = false;
  /** True while `syncRead` left the handle non-blocking for a user who wants it blocking. */
  #syncNonblock = false;

  /** @internal Use `openLive()`. */
  constructor(
    ptr: Ptr,
    device: string,
    precision: TimestampPrecision,
    warning: string | null,
    timeoutMs: number,
    immediate = false,
    bufferSize = DEFAULT_BUFFER_SIZE,
  ) {
    super(ptr, precision);
    this.device = device;
    this.warning = warning;
    this.#timeoutMs = timeoutMs;
    this.#immediate = immediate;
    const s = native().pcap.symbols;
    // Mapped now, before anything reads the handle; used once batches are read.
    this.core.ring = LiveRing.attach(this.selectableFd(), {
      device,
      linkType: s.pcap_datalink(ptr),
      snapshot: s.pcap_snapshot(ptr),
      bufferSize,
      nano: precision === "nano",
    });
  }

  /** @internal */
  protected override batchRing(): LiveRing | null {
    const core = this.core;
    if (core.ring !== null) core.ringInUse = true;
    return core.ring;
  }

  /** @internal */
  protected override packetRing(): LiveRing | null {
    const core = this.core;
    if (core.ring !== null && !core.ringInUse) {
      // libpcap reads this handle: its place in the ring is the one that counts.
      core.ring.close();
      core.ring = null;
    }
    return core.ring;
  }

  /** @internal */
  protected override filterApplied(instructions: readonly BpfInstruction[]): void {
    this.core.ring?.filterSet(instructions);
  }

  /** @internal */
  protected get isLive(): boolean {
    return true;
  }

  /** @internal */
  protected override busyPauseMs(): number {
    // libpcap holds packets back for up to the read timeout anyway (not in immediate mode).
    return this.#immediate ? 0 : Math.min(BUSY_PAUSE_MAX_MS, Math.max(0, this.#timeoutMs));
  }

  /** @internal */
  protected override waitSliceMs(): number {
    const n = native();
    const req = n.pcap.symbols.pcap_get_required_select_timeout;
    if (req) {
      const tv = req(this.core.ptr);
      if (!n.backend.isNull(tv)) {
        const s = structs();
        const v = new DataView(n.backend.copy(tv, s.timeval.size).buffer);
        const ms = (s.timeval.reader("tv_sec")(v, 0) as number) * 1000 +
          (s.timeval.reader("tv_usec")(v, 0) as number) / 1000;
        return Math.max(1, Math.min(1000, Math.ceil(ms)));
      }
    }
    // Linux wakes poll() itself when the read timeout retires a buffer block
    // (TPACKET_V3) or a packet lands (TPACKET_V2), so waking at every timeout
    // would only cost CPU (20-90 µs a wake here). Elsewhere the wait is cut
    // into read-timeout slices so buffered packets are not held back.
    if (native().backend.os === "linux") return 1000;
    return this.#timeoutMs > 0 ? Math.min(1000, this.#timeoutMs) : 1000;
  }

  /** The selectable descriptor (-2: not asked yet); it does not change while the handle lives. */
  #fd = -2;

  /** @internal */
  protected override selectableFd(): number {
    if (this.#fd === -2) {
      const f = native().pcap.symbols.pcap_get_selectable_fd;
      this.#fd = f ? f(this.core.ptr) : -1;
    }
    return this.#fd;
  }

  /**
   * @internal libpcap's blocking read on Linux (TPACKET_V3) does not return on an idle
   * device until a packet comes: read non-blocking, and wait in `poll(2)` for at most the
   * read timeout when nothing was there.
   */
  protected override syncRead<T>(
    read: () => T,
    empty: (result: T) => boolean,
    drained = false,
  ): T {
    const fd = this.selectableFd();
    if (fd < 0 || !native().libc?.symbols.poll) return read();
    if (!this.#syncNonblock) {
      if (this.core.iterating > 0 ? this.#userNonblocking : this.#getNonblock()) return read();
      // Left non-blocking until a read that blocks as libpcap does (switching costs syscalls).
      if (this.core.iterating === 0) {
        this.#setNonblock(true);
        this.#syncNonblock = true;
      }
    }
    const timeout = this.#timeoutMs > 0 ? this.#timeoutMs : -1;
    const ring = this.core.ringInUse ? this.core.ring : null;
    // Blocks a batch kept go back to the kernel first, or poll would report them.
    ring?.release();
    // After a read that took everything, the next is empty until the descriptor says more.
    // Busy (the ring is read in place): let the next blocks fill for a while first, rather
    // than wake for each one (each wake costs more CPU than a block's packets; libpcap holds
    // packets back for up to the read timeout anyway).
    if (drained) {
      const pause = ring ? this.busyPauseMs() : 0;
      if (pause > 0) sleepSync(pause);
      else pollReadableSync(fd, timeout);
    }
    const first = read();
    if (!empty(first)) return first;
    if (drained && !ring) return first;
    if (!pollReadableSync(fd, timeout)) return first;
    const again = read();
    if (ring && empty(again)) {
      // Woken with nothing to read: an error condition on the socket, as libpcap reports it.
      const error = ring.socketError();
      if (error) throw error;
    }
    return again;
  }

  /** @internal */
  protected override beforeBlockingRead(): void {
    if (!this.#syncNonblock) return;
    this.#syncNonblock = false;
    if (this.core.iterating === 0) this.#setNonblock(false);
  }

  /** @internal */
  protected override enterAsync(): () => void {
    const was = this.#syncNonblock ? false : this.#getNonblock();
    this.#syncNonblock = false;
    this.#userNonblocking = was;
    if (!was) this.#setNonblock(true);
    return () => {
      if (this.core.iterating === 0 && !this.#userNonblocking) this.#setNonblock(false);
    };
  }

  #getNonblock(): boolean {
    const p = this.core.live();
    const errbuf = errorBuffer();
    const r = native().pcap.symbols.pcap_getnonblock(p, errbuf);
    if (r < 0) throw new PcapError(ErrorCode.ERROR, `pcap_getnonblock: ${fromCBuffer(errbuf)}`);
    return r === 1;
  }

  #setNonblock(on: boolean): void {
    const p = this.core.live();
    const errbuf = errorBuffer();
    if (native().pcap.symbols.pcap_setnonblock(p, on ? 1 : 0, errbuf) < 0) {
      throw new PcapError(ErrorCode.ERROR, `pcap_setnonblock: ${fromCBuffer(errbuf)}`);
    }
  }

  /**
   * Non-blocking mode (`pcap_getnonblock` / `pcap_setnonblock`): `next()`
   * returns null at once when nothing waits. (Async iteration runs in
   * non-blocking mode while it lasts, then restores this setting.)
   */
  get nonblocking(): boolean {
    if (this.core.iterating > 0) {
      this.core.live();
      return this.#userNonblocking;
    }
    if (this.#syncNonblock) {
      this.core.live();
      return false;
    }
    return this.#getNonblock();
  }

  set nonblocking(on: boolean) {
    if (typeof on !== "boolean") throw new TypeError("nonblocking must be a boolean");
    this.core.live();
    this.#userNonblocking = on;
    this.#syncNonblock = false;
    if (this.core.iterating === 0) this.#setNonblock(on);
  }

  /** Sends a raw packet (`pcap_inject`); returns the number of bytes sent. */
  inject(bytes: Uint8Array): number {
    if (!(bytes instanceof Uint8Array)) throw new TypeError("bytes must be a Uint8Array");
    const p = this.core.live();
    const n = native();
    const inject = n.pcap.symbols.pcap_inject;
    if (inject) {
      const r = inject(p, bytes, bytes.length);
      if (r < 0) throw statusError(r, p, "pcap_inject");
      return r;
    }
    const r = n.pcap.symbols.pcap_sendpacket(p, bytes, bytes.length);
    if (r < 0) throw statusError(r, p, "pcap_sendpacket");
    return bytes.length;
  }

  /** Sends a raw packet (`pcap_sendpacket`, WinPcap's name); throws unless all of it was sent. */
  sendPacket(bytes: Uint8Array): void {
    if (!(bytes instanceof Uint8Array)) throw new TypeError("bytes must be a Uint8Array");
    const p = this.core.live();
    const r = native().pcap.symbols.pcap_sendpacket(p, bytes, bytes.length);
    if (r < 0) throw statusError(r, p, "pcap_sendpacket");
  }

  /** Capture statistics (`pcap_stats`). */
  stats(): CaptureStats {
    const p = this.core.live();
    const s = structs();
    const buf = new Uint8Array(s.pcap_stat.size);
    const r = native().pcap.symbols.pcap_stats(p, buf);
    if (r < 0) throw statusError(r, p, "pcap_stats");
    const v = s.pcap_stat.read(new DataView(buf.buffer)) as Record<string, number>;
    const out: Record<string, number> = {
      received: v.ps_recv,
      dropped: v.ps_drop,
      interfaceDropped: v.ps_ifdrop,
    };
    // The Windows-only fields come from pcap_stats_ex (pcap_stats leaves them unset).
    const statsEx = native().pcap.symbols.pcap_stats_ex;
    if ("ps_capt" in v && statsEx) {
      const sizeOut = new Int32Array(1);
      const b = native().backend;
      const ptr = statsEx(p, sizeOut);
      if (!b.isNull(ptr) && sizeOut[0] >= s.pcap_stat.size) {
        const x = s.pcap_stat.read(new DataView(b.copy(ptr, s.pcap_stat.size).buffer)) as Record<
          string,
          number
        >;
        out.captured = x.ps_capt;
        out.sent = x.ps_sent;
        out.networkDropped = x.ps_netdrop;
      }
    }
    return out as unknown as CaptureStats;
  }

  /** The link types the device supports (`pcap_list_datalinks`). */
  linkTypes(): number[] {
    const p = this.core.live();
    const n = native();
    const out = new BigUint64Array(1);
    const count = n.pcap.symbols.pcap_list_datalinks(p, out);
    if (count < 0) throw statusError(count, p, "pcap_list_datalinks");
    const ptr = n.backend.fromAddress(out[0]);
    try {
      const bytes = n.backend.copy(ptr, count * 4);
      return Array.from(new Int32Array(bytes.buffer, 0, count));
    } finally {
      const free = n.pcap.symbols.pcap_free_datalinks;
      if (free) free(ptr);
    }
  }

  /** Switches the link type (`pcap_set_datalink`). */
  setLinkType(linkType: number): void {
    if (!Number.isInteger(linkType)) throw new TypeError("linkType must be an integer");
    const p = this.core.live();
    if (native().pcap.symbols.pcap_set_datalink(p, linkType) < 0) {
      throw statusError(-1, p, "pcap_set_datalink");
    }
    this.linkTypeChanged();
  }

  /** Which directions to capture (`pcap_setdirection`). */
  setDirection(direction: Direction): void {
    if (!(direction in directions)) {
      throw new TypeError('direction must be "inout", "in" or "out"');
    }
    const p = this.core.live();
    if (requireSymbol("pcap_setdirection")(p, directions[direction]) < 0) {
      throw statusError(-1, p, "pcap_setdirection");
    }
    if (this.core.ring) this.core.ring.direction = directions[direction];
  }
}
