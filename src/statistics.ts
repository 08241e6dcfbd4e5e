/**
 * The statistics engine: packets and bytes that pass a filter, per interval
 * (WinPcap's statistics mode, `pcap_setmode(p, MODE_STAT)`).
 *
 * ```ts
 * import { openStatistics } from "@netcap/pcap";
 *
 * using stats = openStatistics("eth0", { filter: "tcp", interval: 1000 });
 * for await (const s of stats) console.log(new Date(s.timestamp), s.packets, "packets/s", s.bytes * 8, "bit/s");
 * ```
 *
 * Where the library has the statistics mode (WinPcap, Npcap) the driver
 * counts and no packet reaches user space (`counter: "driver"`). Elsewhere, the first of
 * these that can be used (or the one `counter` names):
 * - `"kernel"`, on Linux (x86-64, arm64) for Ethernet-like devices with the privilege for
 *   `bpf(2)` (root or `CAP_BPF`): the filter, compiled by libpcap on the device's handle, is
 *   translated to an eBPF socket filter that adds each packet it accepts to two counters in a
 *   BPF map and drops it. The kernel counts as packets pass, as WinPcap's driver does; no
 *   packet is queued, and the counters are read once per interval, at its end.
 * - `"ring"`, on Linux for Ethernet-like devices: a packet socket with a `TPACKET_V3` ring of
 *   our own, the filter in the kernel keeping one byte of each packet, and the packets'
 *   headers summed in place in the shared ring, with no call per packet;
 * - `"libpcap"`: a libpcap capture with the smallest snapshot length the filter allows (1
 *   byte without a filter; see {@link filterSnaplen}), the filter in the kernel, read through
 *   the batch path, summing each record header's length field (`len`) so no payload is
 *   copied.
 *
 * The last two count by packet time stamp and read with a timeout of a quarter interval (10
 * to 100 ms), so that the kernel hands packets over in large blocks; a sample then comes that
 * much after its interval's end.
 *
 * What `bytes` counts: the length of each frame as libpcap reports it (the
 * `len` of its record header: link-layer header and payload, without
 * preamble, start-of-frame delimiter or FCS). WinPcap's and Npcap's drivers
 * add 12 bytes per packet in statistics mode for the preamble, SFD and FCS
 * (NPF's tap routine); the native path subtracts them again, so both paths
 * give the same numbers.
 *
 * @module
 */

import type { Ptr } from "../ffi/types.ts";
import { handlePointer, type LiveCapture, statusError } from "./capture.ts";
import { LinkType } from "./dlt.ts";
import { ErrorCode, PcapError } from "./errors.ts";
import type { BpfInstruction } from "./filter.ts";
import { native } from "./native.ts";
import { openLive } from "./open.ts";
import { KernelCounter, type KernelCounts } from "./kernel_counter.ts";
import { PacketRing } from "./packet_ring.ts";
import { BatchReader } from "./reader.ts";
import type { Packet } from "./packet.ts";
import { sleep, waitReadable, Waker } from "./wait.ts";

/** WinPcap's `MODE_STAT`. */
const MODE_STAT = 1;
/** Bytes NPF adds to each packet's length in statistics mode (preamble, SFD, FCS). */
const NPF_FRAMING = 12;

/** Options of {@link openStatistics}. */
export interface StatisticsOptions {
  /** A BPF filter: only packets that pass it are counted. */
  readonly filter?: string;
  /** Length of each interval in milliseconds (default 1000). */
  readonly interval?: number;
  /** Ends the iteration (by throwing the signal's reason) when aborted. */
  readonly signal?: AbortSignal;
  /** Promiscuous mode (default false). */
  readonly promiscuous?: boolean;
  /** Kernel buffer size for the user-space counting path (default 16 MiB). */
  readonly bufferSize?: number;
  /**
   * When not the driver counts: which counter (see {@link Statistics.counter}). By default
   * the first that can be used of `"kernel"`, `"ring"` and `"libpcap"`; naming one uses that
   * one, or throws a `NOT_SUPPORTED` {@link PcapError} where it cannot be used. All give the
   * same counts.
   *
   * @example
   * ```ts
   * using stats = openStatistics("eth0", { counter: "libpcap" }); // as on any system
   * ```
   */
  readonly counter?: "kernel" | "ring" | "libpcap";
  /**
   * `"auto"` (default): the driver's statistics mode where the library has
   * it, else counting here; `"native"`: the driver's or a `NOT_SUPPORTED`
   * error; `"user"`: always counting here.
   */
  readonly mode?: "auto" | "native" | "user";
}

/**
 * Who counts: see {@link Statistics.counter}.
 *
 * @example
 * ```ts
 * import { type Counter, openStatistics } from "@netcap/pcap";
 *
 * using stats = openStatistics("lo");
 * const counter: Counter = stats.counter; // "kernel", "ring" or "libpcap" on Linux
 * ```
 */
export type Counter = "driver" | "kernel" | "ring" | "libpcap";

/** One interval's counts. */
export interface StatisticsSample {
  /** The end of the interval, in milliseconds since the epoch. */
  readonly timestamp: number;
  /** Packets that passed the filter in the interval. */
  readonly packets: number;
  /** Their total length in bytes (see the module documentation). */
  readonly bytes: number;
}

/** A running statistics engine: an async iterable of one sample per interval. */
export interface Statistics extends AsyncIterable<StatisticsSample> {
  /** True when the driver counts (`pcap_setmode(MODE_STAT)`), false when counted here. */
  readonly native: boolean;
  /** The interval in milliseconds. */
  readonly interval: number;
  /**
   * Who counts: `"driver"` (the statistics mode of WinPcap's or Npcap's driver),
   * `"kernel"` (Linux, with the privilege for `bpf(2)`: the filter, translated to eBPF,
   * counts in the kernel as packets pass, and no packet reaches user space), `"ring"` (Linux:
   * the filter in the kernel, the packets' headers summed from a packet ring of our own with
   * no call per packet) or `"libpcap"` (from libpcap's read loop).
   *
   * @example
   * ```ts
   * using stats = openStatistics("eth0", { filter: "udp" });
   * console.log(stats.counter); // "kernel" on Linux as root, "driver" with Npcap
   * ```
   */
  readonly counter: Counter;
  /**
   * Stops counting. The iteration yields the packets read up to now as a last
   * (partial) sample, then ends quietly. Idempotent.
   */
  close(): void;
  /** The samples, one per interval (empty intervals give zeros). Iterable once. */
  [Symbol.asyncIterator](): AsyncIterator<StatisticsSample>;
  /** Same as `close()`. */
  [Symbol.dispose](): void;
}

/**
 * @internal True when the library has `pcap_setmode` (WinPcap, Npcap; the loader
 * already treats Wine's built-in stubs as absent).
 */
export function statisticsModeAvailable(): boolean {
  return native().pcap.symbols.pcap_setmode !== null;
}

/** A promise that resolves to "tick" after `ms`, and a function that cancels its timer. */
function timer(ms: number): { promise: Promise<"tick">; cancel(): void } {
  let id: ReturnType<typeof setTimeout> | undefined;
  const promise = new Promise<"tick">((resolve) => {
    id = setTimeout(() => resolve("tick"), Math.max(0, ms));
  });
  return { promise, cancel: () => clearTimeout(id) };
}

/**
 * How long after an interval's end its sample waits for packets still on their way up, beyond
 * the capture's read timeout (the longest libpcap holds a packet back to batch it).
 */
const GRACE_MS = 20;

/**
 * How long the counting loop pauses after a read that found packets: at high rates a few
 * milliseconds of packets (a few thousand) are then counted per read, and the ring (2 MiB and
 * up) holds far more than that.
 */
const BUSY_PAUSE_MS = 2;

/** @internal The read timeout of the counting capture for an interval: a quarter of it, 10 to 100 ms. */
export function readTimeout(interval: number): number {
  return Math.max(10, Math.min(100, Math.floor(interval / 4)));
}

/** Packets and bytes per interval, by time stamp, from `start` on (the user-space paths). */
class Intervals {
  #start: number;
  #interval: number;
  #packets: number[] = [];
  #bytes: number[] = [];
  /** The first interval not yet taken. */
  #next = 0;
  /** When the first open interval ends (ms since the epoch). */
  due: number;

  constructor(start: number, interval: number) {
    this.#start = start;
    this.#interval = interval;
    this.due = start + interval;
  }

  /** Counts one packet with time stamp `ms` (since the epoch) and `length` bytes. */
  add(ms: number, length: number): void {
    let k = Math.floor((ms - this.#start) / this.#interval) - this.#next;
    // A packet that comes up after its interval was taken counts in the oldest open one.
    if (k < 0) k = 0;
    const packets = this.#packets;
    while (packets.length <= k) {
      packets.push(0);
      this.#bytes.push(0);
    }
    packets[k]++;
    this.#bytes[k] += length;
  }

  /** Counts packets in the oldest open interval. */
  addOldest(packets: number, bytes: number): void {
    if (this.#packets.length === 0) {
      this.#packets.push(0);
      this.#bytes.push(0);
    }
    this.#packets[0] += packets;
    this.#bytes[0] += bytes;
  }

  /** The oldest open interval's sample; the next one becomes the oldest. */
  take(): StatisticsSample {
    const sample = {
      timestamp: this.due,
      packets: this.#packets.shift() ?? 0,
      bytes: this.#bytes.shift() ?? 0,
    };
    this.#next++;
    this.due += this.#interval;
    return sample;
  }

  /** Every remaining sample up to the interval holding `now` (the last one partial). */
  *flush(now: number): Generator<StatisticsSample, void, undefined> {
    const last = Math.max(
      this.#next + this.#packets.length - 1,
      Math.floor((now - this.#start) / this.#interval),
    );
    while (this.#next <= last) yield this.take();
  }
}

class Engine implements Statistics {
  readonly native: boolean;
  readonly counter: Counter;
  readonly interval: number;
  /** The libpcap capture counted from, or null when counting with a counter of our own. */
  #capture: LiveCapture | null;
  #ring: PacketRing | null;
  #kernel: KernelCounter | null;
  #signal: AbortSignal | undefined;
  #closed = false;
  #iterated = false;
  #wake: () => void = () => {};
  #start: number;
  #waker: Waker | null = null;

  constructor(
    source: LiveCapture | PacketRing | KernelCounter,
    isNative: boolean,
    interval: number,
    signal?: AbortSignal,
  ) {
    this.#ring = source instanceof PacketRing ? source : null;
    this.#kernel = source instanceof KernelCounter ? source : null;
    this.#capture = this.#ring || this.#kernel ? null : source as LiveCapture;
    this.counter = isNative ? "driver" : this.#kernel ? "kernel" : this.#ring ? "ring" : "libpcap";
    this.native = isNative;
    this.interval = interval;
    this.#signal = signal;
    this.#start = Date.now();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (!this.#iterated) {
      this.#capture?.close();
      this.#ring?.close();
      this.#kernel?.close();
      return;
    }
    this.#wake();
    this.#waker?.wake();
    if (this.#capture && !this.#capture.closed) this.#capture.breakLoop();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  [Symbol.asyncIterator](): AsyncIterator<StatisticsSample> {
    if (this.#iterated) throw new TypeError("A Statistics object can be iterated only once");
    this.#iterated = true;
    if (this.native) return this.#driver();
    if (this.#kernel) return this.#kernelCount(this.#kernel);
    if (this.#ring) return this.#ringCount(this.#ring);
    // Counting from the record headers in place (no packet object per packet) where the
    // memory-stream batch path exists and the capture can be waited on; else from packets.
    const n = native();
    const counter = n.pcap.symbols.pcap_get_selectable_fd && Waker.available()
      ? BatchReader.create()
      : null;
    return counter ? this.#fast(counter) : this.#counted();
  }

  async *#driver(): AsyncGenerator<StatisticsSample, void, undefined> {
    const cap = this.#capture!;
    try {
      if (this.#closed) return;
      for await (const batch of cap.batches({ signal: this.#signal })) {
        for (const p of batch) {
          if (p.caplen < 16) continue;
          const v = new DataView(p.data.buffer, p.data.byteOffset, 16);
          const packets = Number(v.getBigUint64(0, true));
          const bytes = Number(v.getBigUint64(8, true)) - NPF_FRAMING * packets;
          yield { timestamp: p.timestampMs, packets, bytes };
        }
        if (this.#closed) return;
      }
    } finally {
      cap.close();
    }
  }

  /** Counting from the records in place (UNIX): waits on the capture's descriptor. */
  async *#fast(counter: BatchReader): AsyncGenerator<StatisticsSample, void, undefined> {
    const cap = this.#capture!;
    const counts = new Intervals(this.#start, this.interval);
    const add = (seconds: number, micros: number, length: number): void =>
      counts.add(seconds * 1000 + micros / 1000, length);
    let p: Ptr = null;
    let fd = -1;
    const read = (): number => {
      const status = counter.forEachHeader(p, -1, add);
      if (status < 0 && status !== -2) throw statusError(status, p, "pcap_dispatch");
      return status;
    };
    const waker = this.#waker = new Waker();
    try {
      if (!this.#closed) {
        p = handlePointer(cap);
        cap.nonblocking = true;
        fd = native().pcap.symbols.pcap_get_selectable_fd!(p) as number;
      }
      // Busy: let packets gather for a moment rather than waking on every buffer block (a
      // wait off the JS thread costs 20-90 µs of CPU; a timer far less).
      yield* this.#count(counts, read, (ms) => waitReadable(fd, waker, ms), BUSY_PAUSE_MS);
    } finally {
      this.#waker = null;
      waker.close();
      counter.close();
      cap.close();
    }
  }

  /**
   * Counting in the kernel (Linux): the counters are read at each interval's end; nothing
   * happens in between.
   */
  async *#kernelCount(counter: KernelCounter): AsyncGenerator<StatisticsSample, void, undefined> {
    const signal = this.#signal;
    const woken = new Promise<"closed">((resolve) => this.#wake = () => resolve("closed"));
    const onAbort = (): void => this.#wake();
    signal?.addEventListener("abort", onAbort);
    let last: KernelCounts = { packets: 0, bytes: 0 };
    const take = (timestamp: number): StatisticsSample => {
      const now = counter.read();
      const sample = {
        timestamp,
        packets: now.packets - last.packets,
        bytes: now.bytes - last.bytes,
      };
      last = now;
      return sample;
    };
    let due = this.#start + this.interval;
    try {
      signal?.throwIfAborted();
      for (;;) {
        if (this.#closed) break;
        const ms = due - Date.now();
        if (ms > 0) {
          const t = timer(ms);
          await Promise.race([t.promise, woken]);
          t.cancel();
          signal?.throwIfAborted();
          continue;
        }
        // (After a stall of the event loop, the missed intervals' packets count in the first.)
        yield take(due);
        due += this.interval;
      }
      // close(): packets still on their way through the kernel, then the last partial sample.
      await new Promise((resolve) => setTimeout(resolve, GRACE_MS));
      yield take(due);
    } finally {
      signal?.removeEventListener("abort", onAbort);
      counter.close();
    }
  }

  /** Counting from a packet ring of our own (Linux): waits on its socket. */
  async *#ringCount(ring: PacketRing): AsyncGenerator<StatisticsSample, void, undefined> {
    const counts = new Intervals(this.#start, this.interval);
    const waker = this.#waker = new Waker();
    try {
      // The kernel hands over a block when it is full or after the read timeout: no pause.
      yield* this.#count(
        counts,
        () => ring.walk(counts),
        (ms) => waitReadable(ring.fd, waker, ms),
        0,
      );
    } finally {
      this.#waker = null;
      waker.close();
      ring.close();
    }
  }

  /**
   * The counting loop of the user-space paths: `read()` counts what is ready (returns > 0
   * when it found packets); `wait(ms)` returns when more may be ready, after at most `ms`, or
   * at once on `close()` or abort.
   */
  async *#count(
    counts: Intervals,
    read: () => number,
    wait: (ms: number) => Promise<void>,
    busyPauseMs: number,
  ): AsyncGenerator<StatisticsSample, void, undefined> {
    const signal = this.#signal;
    const holdMs = readTimeout(this.interval) + GRACE_MS;
    const onAbort = (): void => {
      this.#wake();
      this.#waker?.wake();
    };
    signal?.addEventListener("abort", onAbort);
    try {
      signal?.throwIfAborted();
      if (this.#closed) return;
      for (;;) {
        if (this.#closed) break;
        signal?.throwIfAborted();
        const status = read();
        while (Date.now() >= counts.due + holdMs) {
          yield counts.take();
          if (this.#closed) break;
        }
        if (status > 0) {
          if (busyPauseMs > 0) await sleep(busyPauseMs);
          continue;
        }
        const ms = counts.due + holdMs - Date.now();
        if (ms > 0) await wait(Math.min(1000, Math.ceil(ms)));
      }
      // close(): packets still held back (a block not yet full) come up within the read timeout.
      await new Promise((resolve) => setTimeout(resolve, holdMs));
      for (let i = 0; i < 64; i++) {
        const status = read();
        if (status === 0 && i > 0) break;
      }
      yield* counts.flush(Date.now());
    } finally {
      signal?.removeEventListener("abort", onAbort);
    }
  }

  async *#counted(): AsyncGenerator<StatisticsSample, void, undefined> {
    const cap = this.#capture!;
    const signal = this.#signal;
    const counts = new Intervals(this.#start, this.interval);
    const add = (packets: Packet[]): void => {
      for (const p of packets) counts.add(p.timestampMs, p.length);
    };
    const holdMs = readTimeout(this.interval) + GRACE_MS;
    const woken = new Promise<"closed">((resolve) => this.#wake = () => resolve("closed"));
    const onAbort = (): void => this.#wake();
    signal?.addEventListener("abort", onAbort);
    const reader = cap.batches({ maxPackets: -1 });
    let pending: Promise<IteratorResult<Packet[], void>> | null = null;
    try {
      signal?.throwIfAborted();
      for (;;) {
        if (this.#closed) break;
        const t = timer(counts.due + holdMs - Date.now());
        pending ??= reader.next();
        const r = await Promise.race([pending, t.promise, woken]);
        t.cancel();
        signal?.throwIfAborted();
        if (r === "closed") break;
        if (r === "tick") {
          yield counts.take();
          continue;
        }
        pending = null;
        if (r.done) break;
        add(r.value);
      }
      // close(): what is still buffered, then the intervals up to now (the last one partial).
      if (!cap.closed) {
        cap.breakLoop();
        if (pending) {
          const r = await pending;
          if (!r.done) add(r.value);
          pending = null;
        }
        await reader.return();
        // Packets libpcap still holds back come up within the read timeout.
        await new Promise((resolve) => setTimeout(resolve, holdMs));
        cap.nonblocking = true;
        for (let i = 0; i < 64; i++) {
          const got: Packet[] = [];
          const n = cap.dispatch((p) => got.push(p), -1);
          add(got);
          if (n === 0 && i > 0) break;
        }
      }
      yield* counts.flush(Date.now());
    } finally {
      signal?.removeEventListener("abort", onAbort);
      if (pending) pending.catch(() => {});
      cap.close();
    }
  }
}

/**
 * Starts counting the packets and bytes on `device` that pass `filter`, per
 * interval (WinPcap's statistics mode). Counting starts at once; iterate
 * the result to get one {@link StatisticsSample} per interval, empty
 * intervals included. `close()` ends the iteration after a last partial
 * sample; aborting `signal` ends it by throwing the signal's reason.
 * Errors from opening the device are thrown here, as {@link PcapError}s.
 */
export function openStatistics(
  device: string | { readonly name: string },
  options: StatisticsOptions = {},
): Statistics {
  const interval = options.interval ?? 1000;
  if (typeof interval !== "number" || !Number.isInteger(interval) || interval < 1) {
    throw new RangeError("interval must be a positive integer (milliseconds)");
  }
  const mode = options.mode ?? "auto";
  if (mode !== "auto" && mode !== "native" && mode !== "user") {
    throw new TypeError('mode must be "auto", "native" or "user"');
  }
  const want = options.counter;
  if (want !== undefined && want !== "kernel" && want !== "ring" && want !== "libpcap") {
    throw new TypeError('counter must be "kernel", "ring" or "libpcap"');
  }
  options.signal?.throwIfAborted();
  const useNative = mode === "native" || (mode === "auto" && statisticsModeAvailable());
  if (useNative && !statisticsModeAvailable()) {
    throw new PcapError(
      ErrorCode.NOT_SUPPORTED,
      "The statistics mode (pcap_setmode) needs WinPcap or Npcap",
    );
  }
  if (useNative) {
    // The driver returns one 16-byte record per read timeout: the interval.
    const cap = openLive(device, {
      snaplen: 65535,
      timeout: interval,
      promiscuous: options.promiscuous,
      filter: options.filter,
    });
    try {
      const p = handlePointer(cap);
      if (native().pcap.symbols.pcap_setmode!(p, MODE_STAT) !== 0) {
        const n = native();
        throw new PcapError(
          ErrorCode.ERROR,
          `pcap_setmode: ${n.backend.readCString(n.pcap.symbols.pcap_geterr(p)) ?? "failed"}`,
        );
      }
    } catch (e) {
      cap.close();
      throw e;
    }
    return new Engine(cap, true, interval, options.signal);
  }
  const open = (snaplen: number, filter?: string): LiveCapture =>
    openLive(device, {
      snaplen,
      timeout: readTimeout(interval),
      bufferSize: options.bufferSize ?? 16 << 20,
      promiscuous: options.promiscuous,
      filter,
    });
  let cap = open(1);
  // The filter, compiled once by libpcap on this device's handle.
  let instructions: readonly BpfInstruction[] | undefined;
  let own: KernelCounter | PacketRing | null = null;
  try {
    if (options.filter !== undefined) {
      using program = cap.compileFilter(options.filter);
      instructions = program.instructions;
    }
    // Linux, Ethernet-like device: a counter of our own, the filter in the kernel; the handle
    // then goes. In the kernel itself where bpf(2) is allowed, else from a packet ring.
    const name = typeof device === "string" ? device : device.name;
    const ethernet = cap.linkType === LinkType.EN10MB;
    if (ethernet && (want === undefined || want === "kernel")) {
      own = KernelCounter.open(name, { instructions, promiscuous: options.promiscuous });
    }
    if (ethernet && !own && (want === undefined || want === "ring")) {
      own = PacketRing.open(name, {
        instructions,
        bufferSize: options.bufferSize ?? 16 << 20,
        blockTimeoutMs: readTimeout(interval),
        promiscuous: options.promiscuous,
      });
    }
    if (!own && want !== undefined && want !== "libpcap") {
      throw new PcapError(
        ErrorCode.NOT_SUPPORTED,
        want === "kernel"
          ? "The kernel counter needs Linux (x86-64 or arm64), an Ethernet-like device, the " +
            "privilege for bpf(2) (CAP_BPF or root) and a filter with an eBPF counterpart"
          : "The ring counter needs Linux, an Ethernet-like device and a filter the kernel accepts",
      );
    }
  } catch (e) {
    cap.close();
    throw e;
  }
  if (own) {
    cap.close();
    return new Engine(own, false, interval, options.signal);
  }
  if (instructions) {
    cap.close();
    cap = open(filterSnaplen(instructions), options.filter);
  }
  return new Engine(cap, false, interval, options.signal);
}

/**
 * @internal The bytes of a packet a BPF program may read: the snapshot length
 * the user-space counting path needs with a filter. (libpcap on Linux runs the
 * filter once more in user space, on the captured bytes, for the first packet
 * after `pcap_setfilter`; with fewer bytes than the filter reads, that packet
 * would be rejected.) Indexed loads get 60 bytes more (the largest IPv4
 * header); a program whose index comes from elsewhere gets 65535.
 */
export function filterSnaplen(
  instructions: readonly { readonly code: number; readonly k: number }[],
): number {
  let needed = 1;
  for (const { code, k } of instructions) {
    const cls = code & 0x07;
    const mode = code & 0xe0;
    const size = [4, 2, 1, 0][(code & 0x18) >> 3];
    if (cls === 0x00 && mode === 0x20) needed = Math.max(needed, k + size); // ld [k]
    else if (cls === 0x00 && mode === 0x40) needed = Math.max(needed, k + size + 60); // ld [x + k]
    else if (cls === 0x01 && mode === 0xa0) needed = Math.max(needed, k + 1); // ldx 4*([k]&0xf)
    else if (cls === 0x01 && mode === 0x60) return 65535; // ldx M[k]
    else if (cls === 0x07 && (code & 0xf8) === 0x00) return 65535; // tax
  }
  return Math.min(needed, 65535);
}
