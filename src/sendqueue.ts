/**
 * Send queues: WinPcap's `pcap_sendqueue_*` on every platform.
 *
 * A {@link SendQueue} holds packets in one buffer laid out exactly like the
 * buffer of WinPcap's `pcap_send_queue`: each packet is a `struct pcap_pkthdr`
 * of the platform's ABI (24 bytes on 64-bit UNIX, 16 on Windows) followed by
 * its `caplen` bytes. `transmit()` sends them all:
 *
 * - natively with `pcap_sendqueue_transmit` where the library has it
 *   (WinPcap, Npcap, a Windows libpcap build with the extensions);
 * - elsewhere emulated: without `sync`, batched injection (Linux: one
 *   `sendmmsg(2)` on the capture's socket per batch, after a first
 *   `pcap_inject`; other systems: `pcap_inject` per packet); with `sync`,
 *   `pcap_inject` per packet at the times the time stamps say, measured with
 *   a high-resolution clock (sleep for most of each gap, then spin on
 *   `performance.now()` for the last 2 ms).
 *
 * Both return what WinPcap returns: the number of bytes sent, counting each
 * packet's header and data (the same unit as {@link SendQueue.length}). If it
 * is less than `length`, an error stopped the transmission at the first
 * packet that failed; the error is in {@link SendQueue.lastError}.
 *
 * @module
 */

import type { Ptr } from "../ffi/types.ts";
import { handlePointer, type PcapHandle } from "./capture.ts";
import { ErrorCode, PcapError } from "./errors.ts";
import { native, requireSymbol, structs } from "./native.ts";
import { Packet } from "./packet.ts";

/** The record header of a queued packet (or pass a {@link Packet}). */
export interface SendQueueHeader {
  /** Seconds since the epoch. */
  readonly seconds: number;
  /** Nanoseconds within the second (stored as microseconds, like `struct timeval`). */
  readonly nanoseconds?: number;
  /** Microseconds within the second (alternative to `nanoseconds`). */
  readonly microseconds?: number;
  /** Bytes of `data` to queue (default: `data.length`); at most `data.length`. */
  readonly caplen?: number;
  /** Length on the wire (default: `caplen`). */
  readonly length?: number;
}

/** Options of {@link SendQueue.transmit}. */
export interface TransmitOptions {
  /**
   * Reproduce the time stamps: each packet leaves when as much time passed
   * since the first one as its time stamp says (WinPcap's `sync`).
   */
  readonly sync?: boolean;
  /**
   * With `sync` and no native transmit: how long before each send to stop sleeping and
   * busy-wait on the clock instead, in milliseconds (default 2). More is more precise on a
   * busy machine, at the cost of CPU time.
   */
  readonly spinMs?: number;
}

/** Default time left before a synchronised send below which `transmit` spins instead of sleeping. */
const SPIN_MS = 2;
/** Packets per `sendmmsg` call. */
const BATCH = 1024;

interface HeaderLayout {
  readonly size: number;
  readonly secOffset: number;
  readonly secSize: number;
  readonly usecOffset: number;
  readonly usecSize: number;
  readonly caplenOffset: number;
  readonly lenOffset: number;
  readonly littleEndian: boolean;
}

let headerLayout: HeaderLayout | null = null;

/** @internal The host's `struct pcap_pkthdr`, flattened. */
export function pkthdrLayout(): HeaderLayout {
  if (headerLayout) return headerLayout;
  const s = structs();
  const h = s.pcap_pkthdr;
  const tv = s.timeval;
  const ts = h.offsetOf("ts");
  const field = (name: string): { offset: number; size: number } => {
    const f = tv.fields.find((x) => x.name === name)!;
    return { offset: ts + f.offset, size: f.size };
  };
  const sec = field("tv_sec");
  const usec = field("tv_usec");
  headerLayout = {
    size: h.size,
    secOffset: sec.offset,
    secSize: sec.size,
    usecOffset: usec.offset,
    usecSize: usec.size,
    caplenOffset: h.offsetOf("caplen"),
    lenOffset: h.offsetOf("len"),
    littleEndian: h.abi.littleEndian,
  };
  return headerLayout;
}

function writeInt(v: DataView, offset: number, size: number, value: number, le: boolean): void {
  if (size === 8) v.setBigInt64(offset, BigInt(value), le);
  else v.setInt32(offset, value, le);
}

function readInt(v: DataView, offset: number, size: number, le: boolean): number {
  return size === 8 ? Number(v.getBigInt64(offset, le)) : v.getInt32(offset, le);
}

function checkUint(name: string, v: unknown, max = 0xffffffff): number {
  if (typeof v !== "number" || !Number.isInteger(v)) {
    throw new TypeError(`${name} must be an integer`);
  }
  if (v < 0 || v > max) throw new RangeError(`${name} must be between 0 and ${max}`);
  return v;
}

/**
 * @internal True when the library has the WinPcap send-queue extensions (the
 * loader already treats Wine's built-in stubs as absent).
 */
export function winpcapExtensions(): boolean {
  const s = native().pcap.symbols;
  return !!(s.pcap_sendqueue_alloc && s.pcap_sendqueue_queue && s.pcap_sendqueue_transmit);
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** Waits until `performance.now()` reaches `target`: sleeps, then spins for the last `spin` ms. */
function waitUntil(target: number, spin: number): void {
  let left = target - performance.now();
  if (left > spin) {
    Atomics.wait(sleeper, 0, 0, left - spin);
  }
  do {
    left = target - performance.now();
  } while (left > 0);
}

/**
 * A queue of raw packets to send together (WinPcap's `pcap_send_queue`).
 *
 * ```ts
 * using q = new SendQueue(1 << 20);
 * for (const p of packets) if (!q.queue(p)) break; // full
 * const sent = q.transmit(capture, { sync: true });
 * if (sent < q.length) console.error(q.lastError);
 * ```
 */
export class SendQueue {
  #bytes: Uint8Array;
  #view: DataView;
  #len = 0;
  #count = 0;
  #disposed = false;
  #lastError: PcapError | null = null;

  /** Allocates a queue of `memorySize` bytes (headers and data), like `pcap_sendqueue_alloc`. */
  constructor(memorySize: number) {
    checkUint("memorySize", memorySize);
    this.#bytes = new Uint8Array(memorySize);
    this.#view = new DataView(this.#bytes.buffer);
  }

  #live(): void {
    if (this.#disposed) throw new PcapError(ErrorCode.CLOSED, "The send queue was disposed");
  }

  /** The queue's capacity in bytes (`maxlen`). */
  get memorySize(): number {
    return this.#bytes.length;
  }

  /** Bytes used: headers and data of every queued packet (`len`). */
  get length(): number {
    return this.#len;
  }

  /** Number of queued packets. */
  get packetCount(): number {
    return this.#count;
  }

  /** Size of each packet's header in the buffer (`sizeof(struct pcap_pkthdr)`). */
  static get headerSize(): number {
    return pkthdrLayout().size;
  }

  /** The error that stopped the last `transmit()` short, or null. */
  get lastError(): PcapError | null {
    return this.#lastError;
  }

  /** A copy of the used part of the buffer: headers and data, as `pcap_send_queue` holds them. */
  bytes(): Uint8Array {
    this.#live();
    return this.#bytes.slice(0, this.#len);
  }

  /**
   * Appends a packet (`pcap_sendqueue_queue`): its header, then `caplen`
   * bytes of `data` (default: the packet's own data). Returns false, and
   * queues nothing, when the header and data do not fit in what is left,
   * where WinPcap returns -1.
   */
  queue(header: SendQueueHeader | Packet, data?: Uint8Array): boolean {
    this.#live();
    if (header === null || typeof header !== "object") {
      throw new TypeError("header must be an object or a Packet");
    }
    let bytes = data;
    let seconds: number;
    let micros: number;
    let caplen: number | undefined;
    let length: number | undefined;
    if (header instanceof Packet) {
      bytes ??= header.data;
      seconds = header.seconds;
      micros = Math.floor(header.nanoseconds / 1000);
      caplen = data === undefined ? header.caplen : undefined;
      length = header.length;
    } else {
      seconds = header.seconds;
      if (header.microseconds !== undefined) {
        micros = checkUint("microseconds", header.microseconds, 999_999);
      } else {
        micros = Math.floor(checkUint("nanoseconds", header.nanoseconds ?? 0, 999_999_999) / 1000);
      }
      caplen = header.caplen;
      length = header.length;
    }
    if (!(bytes instanceof Uint8Array)) throw new TypeError("data must be a Uint8Array");
    if (typeof seconds !== "number" || !Number.isInteger(seconds)) {
      throw new TypeError("seconds must be an integer");
    }
    caplen = checkUint("caplen", caplen ?? bytes.length, bytes.length);
    length = checkUint("length", length ?? caplen);
    const h = pkthdrLayout();
    if (h.secSize === 4 && (seconds < -0x80000000 || seconds > 0x7fffffff)) {
      throw new RangeError("seconds does not fit this platform's 32-bit time_t");
    }
    if (this.#len + h.size + caplen > this.#bytes.length) return false;
    const v = this.#view;
    const at = this.#len;
    const le = h.littleEndian;
    writeInt(v, at + h.secOffset, h.secSize, seconds, le);
    writeInt(v, at + h.usecOffset, h.usecSize, micros, le);
    v.setUint32(at + h.caplenOffset, caplen, le);
    v.setUint32(at + h.lenOffset, length, le);
    this.#bytes.set(caplen === bytes.length ? bytes : bytes.subarray(0, caplen), at + h.size);
    this.#len += h.size + caplen;
    this.#count++;
    return true;
  }

  /** Empties the queue (keeps its memory). */
  clear(): void {
    this.#live();
    this.#len = 0;
    this.#count = 0;
  }

  /**
   * Sends every queued packet on `capture` (`pcap_sendqueue_transmit`), in
   * order; synchronous, like WinPcap's. Returns the bytes sent, headers
   * included; less than `length` means an error stopped it at the first
   * packet that failed (see {@link lastError}). An empty queue sends 0.
   */
  transmit(capture: PcapHandle, options: TransmitOptions = {}): number {
    this.#live();
    const p = handlePointer(capture);
    const sync = options.sync === true;
    const spin = options.spinMs ?? SPIN_MS;
    if (typeof spin !== "number" || !(spin >= 0)) {
      throw new RangeError("spinMs must be a non-negative number");
    }
    this.#lastError = null;
    if (this.#len === 0) return 0;
    if (winpcapExtensions()) return this.#transmitNative(p, sync);
    return sync ? this.#transmitSync(p, spin) : this.#transmitFast(p);
  }

  #fail(p: Ptr, status: number, what: string): void {
    const n = native();
    const text = n.backend.readCString(n.pcap.symbols.pcap_geterr(p)) ?? `status ${status}`;
    this.#lastError = new PcapError(ErrorCode.ERROR, `${what}: ${text}`, { status });
  }

  #transmitNative(p: Ptr, sync: boolean): number {
    const nq = new NativeSendQueue(this.#len);
    try {
      nq.load(this.#bytes.subarray(0, this.#len));
      const sent = requireSymbol("pcap_sendqueue_transmit")(p, nq.pointer, sync ? 1 : 0) as number;
      if (sent < this.#len) this.#fail(p, -1, "pcap_sendqueue_transmit");
      return sent;
    } finally {
      nq.destroy();
    }
  }

  /** One packet through pcap_inject (or pcap_sendpacket); true when all of it left. */
  #injectOne(p: Ptr, at: number, caplen: number): boolean {
    const s = native().pcap.symbols;
    const data = this.#bytes.subarray(at, at + caplen);
    if (s.pcap_inject) {
      const r = s.pcap_inject(p, data, caplen) as number;
      if (r < 0) {
        this.#fail(p, r, "pcap_inject");
        return false;
      }
      if (r !== caplen) {
        this.#lastError = new PcapError(
          ErrorCode.ERROR,
          `pcap_inject: sent ${r} of ${caplen} bytes`,
        );
        return false;
      }
      return true;
    }
    const r = s.pcap_sendpacket(p, data, caplen) as number;
    if (r < 0) {
      this.#fail(p, r, "pcap_sendpacket");
      return false;
    }
    return true;
  }

  #transmitSync(p: Ptr, spin: number): number {
    const h = pkthdrLayout();
    const v = this.#view;
    const le = h.littleEndian;
    let at = 0;
    let first = 0;
    let start = 0;
    while (at < this.#len) {
      const caplen = v.getUint32(at + h.caplenOffset, le);
      const us = readInt(v, at + h.secOffset, h.secSize, le) * 1e6 +
        readInt(v, at + h.usecOffset, h.usecSize, le);
      if (at === 0) {
        first = us;
        start = performance.now();
      } else {
        waitUntil(start + (us - first) / 1000, spin);
      }
      if (!this.#injectOne(p, at + h.size, caplen)) return at;
      at += h.size + caplen;
    }
    return at;
  }

  #transmitFast(p: Ptr): number {
    const h = pkthdrLayout();
    const v = this.#view;
    const le = h.littleEndian;
    const n = native();
    // The first packet through libpcap: it checks that this handle can send at all.
    let at = 0;
    const firstCaplen = v.getUint32(h.caplenOffset, le);
    if (!this.#injectOne(p, h.size, firstCaplen)) return 0;
    at = h.size + firstCaplen;
    // sendmmsg(2) on the capture's socket: Linux, where the pcap_t's descriptor is that socket.
    const send = n.backend.os === "linux" && at < this.#len ? n.libc?.symbols.sendmmsg : null;
    const selectable = n.pcap.symbols.pcap_get_selectable_fd;
    const fd = send && selectable ? selectable(p) as number : -1;
    if (!send || fd < 0) {
      while (at < this.#len) {
        const caplen = v.getUint32(at + h.caplenOffset, le);
        if (!this.#injectOne(p, at + h.size, caplen)) return at;
        at += h.size + caplen;
      }
      return at;
    }
    // One struct mmsghdr and one struct iovec per packet of a batch (layouts from
    // ffi/structs.ts); each message points at its iovec once, each iovec at its packet.
    const s = structs();
    const iovSize = s.iovec.size;
    const msgSize = s.mmsghdr.size;
    const hdrAt = s.mmsghdr.offsetOf("msg_hdr");
    const iovBaseAt = s.iovec.offsetOf("iov_base");
    const iovLenAt = s.iovec.offsetOf("iov_len");
    const base = n.backend.address(n.backend.pointerOf(this.#bytes));
    const iovBytes = new Uint8Array(BATCH * iovSize);
    const msgBytes = new Uint8Array(BATCH * msgSize);
    const msgView = new DataView(msgBytes.buffer);
    const iovAddr = n.backend.address(n.backend.pointerOf(iovBytes));
    for (let i = 0; i < BATCH; i++) {
      s.msghdr.write(
        msgView,
        { msg_iov: iovAddr + i * iovSize, msg_iovlen: 1 },
        i * msgSize + hdrAt,
      );
    }
    // Addresses as two 32-bit halves (64-bit Linux): no BigInt per packet.
    const iov = new Uint32Array(iovBytes.buffer);
    const baseWord = iovBaseAt / 4;
    const lenWord = iovLenAt / 4;
    const wordsPerIov = iovSize / 4;
    const offsets = new Float64Array(BATCH + 1);
    const hdr = h.size;
    const capOff = h.caplenOffset;
    const end = this.#len;
    while (at < end) {
      let k = 0;
      let q = at;
      while (k < BATCH && q < end) {
        const caplen = v.getUint32(q + capOff, le);
        const a = base + q + hdr;
        const w = k * wordsPerIov;
        offsets[k] = q;
        iov[w + baseWord] = a % 0x100000000;
        iov[w + baseWord + 1] = Math.floor(a / 0x100000000);
        iov[w + lenWord] = caplen;
        q += hdr + caplen;
        k++;
      }
      offsets[k] = q;
      const r = send(fd, msgBytes, k, 0) as number;
      if (r === k) {
        at = q;
        continue;
      }
      // Stopped short (or failed on the first): libpcap sends the failing one again,
      // which fails the same way and sets its own error text.
      at = offsets[Math.max(r, 0)];
      const caplen = v.getUint32(at + h.caplenOffset, le);
      if (!this.#injectOne(p, at + h.size, caplen)) return at;
      at += h.size + caplen;
    }
    return at;
  }

  /** Releases the buffer; the queue cannot be used afterwards. Idempotent. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#bytes = new Uint8Array(0);
    this.#view = new DataView(this.#bytes.buffer);
    this.#len = 0;
    this.#count = 0;
  }

  /** Same as `dispose()`. */
  [Symbol.dispose](): void {
    this.dispose();
  }
}

/**
 * @internal A `pcap_send_queue` allocated by the library (`pcap_sendqueue_alloc`),
 * for the native transmit path and for checking the layout against the library.
 */
export class NativeSendQueue {
  #ptr: Ptr;
  readonly memorySize: number;

  /** `pcap_sendqueue_alloc(memorySize)`. */
  constructor(memorySize: number) {
    checkUint("memorySize", memorySize);
    const p = requireSymbol("pcap_sendqueue_alloc")(memorySize) as Ptr;
    if (native().backend.isNull(p)) {
      throw new PcapError(ErrorCode.ERROR, `pcap_sendqueue_alloc(${memorySize}) failed`);
    }
    this.#ptr = p;
    this.memorySize = memorySize;
  }

  /** The `pcap_send_queue *`. */
  get pointer(): Ptr {
    if (this.#ptr === null) throw new PcapError(ErrorCode.CLOSED, "The send queue was destroyed");
    return this.#ptr;
  }

  #header(): { maxlen: number; len: number; buffer: Ptr } {
    const n = native();
    const layout = structs().pcap_send_queue;
    const v = new DataView(n.backend.copy(this.pointer, layout.size).buffer);
    const r = layout.read(v) as unknown as { maxlen: number; len: number; buffer: number | bigint };
    return { maxlen: r.maxlen, len: r.len, buffer: n.backend.fromAddress(r.buffer) };
  }

  /** `queue->len`. */
  get length(): number {
    return this.#header().len;
  }

  /** `pcap_sendqueue_queue`: 0, or -1 when the packet does not fit. */
  queue(header: Uint8Array, data: Uint8Array): number {
    return requireSymbol("pcap_sendqueue_queue")(this.pointer, header, data) as number;
  }

  /** A copy of `queue->buffer[0 .. len)`. */
  bytes(): Uint8Array {
    const { len, buffer } = this.#header();
    return len === 0 ? new Uint8Array(0) : native().backend.copy(buffer, len);
  }

  /** Replaces the contents with `bytes` (a whole number of records). */
  load(bytes: Uint8Array): void {
    const n = native();
    const { maxlen, buffer } = this.#header();
    if (bytes.length > maxlen) throw new RangeError("bytes do not fit the native queue");
    if (bytes.length > 0) new Uint8Array(n.backend.unsafeView(buffer, bytes.length)).set(bytes);
    const layout = structs().pcap_send_queue;
    new DataView(n.backend.unsafeView(this.pointer, layout.size)).setUint32(
      layout.offsetOf("len"),
      bytes.length,
      layout.abi.littleEndian,
    );
  }

  /** `pcap_sendqueue_destroy`. Idempotent. */
  destroy(): void {
    if (this.#ptr === null) return;
    requireSymbol("pcap_sendqueue_destroy")(this.#ptr);
    this.#ptr = null;
  }
}
