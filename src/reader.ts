/**
 * Internal: the three ways packets leave libpcap, each built so that no
 * pointer object or native view is made per packet.
 *
 * - {@link NextReader}: `pcap_next_ex`, then one `memcpy` of the data into a
 *   buffer owned by JS (the header is read through a view of libpcap's
 *   per-handle header, which never moves while the handle is open).
 * - {@link BatchReader}: `pcap_dispatch` with libpcap's own `pcap_dump` as
 *   the handler, writing records into a C memory stream
 *   (`open_memstream`); one copy per batch moves them into JS, where the
 *   records are walked. The per-packet loop stays in C.
 * - {@link CallbackReader}: `pcap_dispatch` / `pcap_loop` with a JS callback
 *   receiving raw addresses.
 *
 * @module
 */

import type { Ptr } from "../ffi/types.ts";
import type { FieldReader } from "../ffi/layout.ts";
import { cString, native, structs } from "./native.ts";
import { Packet } from "./packet.ts";
import {
  type Columns,
  emptyBatch,
  newColumns,
  PacketBatch,
  type PacketBatchBuilder,
} from "./batch.ts";

const TWO32 = 4294967296;

/**
 * Copies packet bytes out of libpcap's memory with no per-packet pointer
 * object or native call where it can:
 * - where libpcap hands out the same data address again (a savefile's
 *   read buffer, the start of a ring slot), a view of that memory is kept and
 *   copied from in JS (no FFI call at all);
 * - elsewhere, one `memcpy` through FFI, the address passed as a plain number.
 * Only `len` bytes at the current address are ever read, which libpcap
 * guarantees valid, so a view longer than `len` is harmless.
 */
class Copier {
  #addr = -1;
  #src: Uint8Array | null = null;
  #memcpy = native().libc?.symbols.memcpy ?? null;

  copy(dst: Uint8Array, addr: number, len: number): void {
    if (addr === this.#addr) {
      let src = this.#src;
      if (src === null || src.length < len) {
        const b = native().backend;
        src = this.#src = new Uint8Array(b.unsafeView(b.fromAddress(addr), len));
      }
      dst.set(src.length === len ? src : src.subarray(0, len));
      return;
    }
    this.#addr = addr;
    this.#src = null;
    const memcpy = this.#memcpy;
    if (memcpy) {
      memcpy(dst, addr, len);
    } else {
      const b = native().backend;
      dst.set(b.copy(b.fromAddress(addr), len));
    }
  }

  /** Forgets the cached view (the memory behind it may go away). */
  reset(): void {
    this.#addr = -1;
    this.#src = null;
  }
}

/**
 * Memory for packets that outlive the call. Where the back end says small
 * `ArrayBuffer`s are costly (Deno: about 0.5 µs each against 25 ns for a view
 * of an existing one), packets get views of 64 KiB chunks: each still owns
 * its bytes (no other packet's view overlaps them) and, like the packets of
 * one `batches()` buffer, keeps its chunk alive while it lives. Packets above
 * a quarter chunk get their own buffer. Elsewhere (Bun: 25-50 ns) every
 * packet gets a buffer of its own.
 */
class Slab {
  static readonly SIZE = 65536;
  #buf = new ArrayBuffer(0);
  #off = 0;
  #chunks = native().backend.poolSmallBuffers;

  take(len: number): Uint8Array {
    if (!this.#chunks || len > Slab.SIZE >> 2) return new Uint8Array(len);
    if (this.#off + len > this.#buf.byteLength) {
      this.#buf = new ArrayBuffer(Slab.SIZE);
      this.#off = 0;
    }
    const out = new Uint8Array(this.#buf, this.#off, len);
    // Keep each packet's start 8-byte aligned, as a buffer of its own would be.
    this.#off += (len + 7) & ~7;
    return out;
  }
}

/** This machine's byte order (typed arrays use it). */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * `struct pcap_pkthdr` read through 32-bit word views of libpcap's memory
 * (every field is 4-byte aligned on every ABI): index arithmetic instead of
 * `DataView` calls, which matters at one header per 70 ns.
 */
class HeaderWords {
  readonly size: number;
  #secLo: number;
  #secHi: number;
  #frac: number;
  #fracHi: number;
  #caplen: number;
  #len: number;
  #i32: Int32Array = new Int32Array(0);
  #u32: Uint32Array = new Uint32Array(0);

  constructor() {
    const s = structs();
    const ts = s.pcap_pkthdr.offsetOf("ts");
    const word = (offset: number, size: number, high: boolean): number => {
      const lowFirst = LITTLE_ENDIAN === !high;
      return (offset + (size === 8 && !lowFirst ? 4 : 0)) >> 2;
    };
    const sizeOf = (name: string): number => s.timeval.fields.find((f) => f.name === name)!.size;
    const secSize = sizeOf("tv_sec");
    const secOff = ts + s.timeval.offsetOf("tv_sec");
    this.#secLo = word(secOff, secSize, false);
    this.#secHi = secSize === 8 ? word(secOff, secSize, true) : -1;
    // libpcap scales a microsecond file's fraction to nanoseconds in place, so
    // a bogus fraction may need the high word too.
    const fracSize = sizeOf("tv_usec");
    const fracOff = ts + s.timeval.offsetOf("tv_usec");
    this.#frac = word(fracOff, fracSize, false);
    this.#fracHi = fracSize === 8 ? word(fracOff, fracSize, true) : -1;
    this.#caplen = s.pcap_pkthdr.offsetOf("caplen") >> 2;
    this.#len = s.pcap_pkthdr.offsetOf("len") >> 2;
    this.size = s.pcap_pkthdr.size;
  }

  /** Points the views at a header in libpcap's memory. */
  attach(buffer: ArrayBuffer): void {
    this.#i32 = new Int32Array(buffer, 0, this.size >> 2);
    this.#u32 = new Uint32Array(buffer, 0, this.size >> 2);
  }

  detach(): void {
    this.#i32 = new Int32Array(0);
    this.#u32 = new Uint32Array(0);
  }

  get seconds(): number {
    const hi = this.#secHi;
    return hi < 0 ? this.#i32[this.#secLo] : this.#u32[this.#secLo] + this.#i32[hi] * TWO32;
  }
  get fraction(): number {
    const hi = this.#fracHi;
    return hi < 0 ? this.#i32[this.#frac] : this.#u32[this.#frac] + this.#i32[hi] * TWO32;
  }
  get caplen(): number {
    return this.#u32[this.#caplen];
  }
  get length(): number {
    return this.#u32[this.#len];
  }
}

/**
 * Views of one place in libpcap's memory that packets from `next()` may
 * share (a savefile's read buffer: libpcap reads every record into it). All
 * the `ArrayBuffer`s handed out are detached (zero length) as soon as the
 * memory may go away: when libpcap's data address moves (it reallocated) and
 * before the handle closes, so no JS view outlives the memory.
 */
class SharedMemory {
  #addr = -1;
  #view: Uint8Array = new Uint8Array(0);
  #buffers: ArrayBuffer[] = [];
  /** The last view handed out, reused while the length repeats. */
  #last: Uint8Array = new Uint8Array(0);

  get address(): number {
    return this.#addr;
  }

  /** `len` bytes at `addr` (the address this memory was last moved to). */
  view(len: number): Uint8Array {
    // #last is always a view of the current #view (both are replaced together).
    let last = this.#last;
    if (last.length === len) return last;
    let view = this.#view;
    if (view.length < len) {
      const b = native().backend;
      const buf = b.unsafeView(b.fromAddress(this.#addr), Math.max(len, 2048));
      this.#buffers.push(buf);
      view = this.#view = new Uint8Array(buf);
    }
    last = this.#last = view.length === len ? view : view.subarray(0, len);
    return last;
  }

  /** Forgets the memory (detaching every view of it) and remembers `addr` instead. */
  moveTo(addr: number): void {
    for (const buf of this.#buffers) detach(buf);
    this.#buffers.length = 0;
    this.#addr = addr;
    this.#view = this.#last = new Uint8Array(0);
  }
}

/** Detaches an `ArrayBuffer` (every view of it gets length 0). */
function detach(buf: ArrayBuffer): void {
  (buf as ArrayBuffer & { transfer(length: number): ArrayBuffer }).transfer(0);
}

/**
 * Reads with `pcap_next_ex`. A packet for `next()` (not `stable`) shares
 * memory with the following call: where libpcap reads every packet into the
 * same buffer (savefiles), it is a view of that buffer, detached when the
 * buffer may go; elsewhere it is a copy into one reused JS buffer.
 */
export class NextReader {
  #hdrOut = new Uint32Array(2);
  #dataOut = new Uint32Array(2);
  #hdrAddr = -1;
  #h = new HeaderWords();
  #buf = new Uint8Array(2048);
  /** `#buf.subarray(0, caplen)` of the last copied packet, reused while the length repeats. */
  #shared = this.#buf.subarray(0, 0);
  #nextEx = native().pcap.symbols.pcap_next_ex;
  #copier = new Copier();
  #memory = new SharedMemory();
  /** Status of the last call that returned no packet (0, -1, -2). */
  status = 0;

  /**
   * The next packet, or null with {@link NextReader.status} set. Its data
   * shares memory with the next call.
   */
  next(handle: Ptr, linkType: number, nano: boolean): Packet | null {
    const data = this.#advance(handle);
    if (data === null) return null;
    const h = this.#h;
    const frac = h.fraction;
    return new Packet(h.seconds, nano ? frac : frac * 1000, data.length, h.length, data, linkType);
  }

  /** Like {@link NextReader.next}, but copies the packet into `batch`; false when there is none. */
  nextInto(handle: Ptr, batch: PacketBatchBuilder, nano: boolean): boolean {
    const data = this.#advance(handle);
    if (data === null) return false;
    const h = this.#h;
    const frac = h.fraction;
    batch.add(h.seconds, nano ? frac : frac * 1000, h.length, data);
    return true;
  }

  /** `pcap_next_ex`; the packet's bytes (shared with the next call), its header in `#h`. */
  #advance(handle: Ptr): Uint8Array | null {
    const rc = this.#nextEx(handle, this.#hdrOut, this.#dataOut);
    if (rc !== 1) {
      this.status = rc;
      return null;
    }
    const ho = this.#hdrOut;
    const hdrAddr = ho[0] + ho[1] * TWO32;
    const h = this.#h;
    if (hdrAddr !== this.#hdrAddr) {
      const b = native().backend;
      h.attach(b.unsafeView(b.fromAddress(hdrAddr), h.size));
      this.#hdrAddr = hdrAddr;
    }
    const caplen = h.caplen;
    const d = this.#dataOut;
    const dataAddr = d[0] + d[1] * TWO32;
    if (dataAddr === this.#memory.address) return this.#memory.view(caplen);
    this.#memory.moveTo(dataAddr);
    if (this.#buf.length < caplen) {
      this.#buf = new Uint8Array(Math.max(caplen, this.#buf.length * 2));
    }
    let data = this.#shared;
    if (data.length !== caplen || data.buffer !== this.#buf.buffer) {
      data = this.#shared = this.#buf.subarray(0, caplen);
    }
    if (caplen > 0) this.#copier.copy(data, dataAddr, caplen);
    return data;
  }

  /** Drops (and detaches) the views of libpcap's memory: call before the handle is closed. */
  release(): void {
    this.#h.detach();
    this.#hdrAddr = -1;
    this.#copier.reset();
    this.#memory.moveTo(-1);
  }
}

/** The result of one {@link BatchReader.read}. */
export interface BatchResult {
  /** The packets, in one fresh buffer. */
  readonly batch: PacketBatch;
  /** `pcap_dispatch`'s return value. */
  readonly status: number;
}

/** Reads batches through `pcap_dispatch` + `pcap_dump` into a memory stream. */
export class BatchReader {
  #fp: Ptr;
  #ptrOut = new BigUint64Array(1);
  #sizeOut = new BigUint64Array(1);
  #dump: Ptr;
  /** The memory of `read(…, reuse)`: the records, and the columns over them. */
  #recycledBytes = new Uint8Array(0);
  #recycledColumns: Columns = newColumns(0);

  private constructor(fp: Ptr, dump: Ptr) {
    this.#fp = fp;
    this.#dump = dump;
  }

  /** A reader, or null where the C library lacks memory streams or `dlsym`. */
  static create(): BatchReader | null {
    const n = native();
    const c = n.libc?.symbols;
    if (!c?.open_memstream || !c.dlopen || !c.dlsym) return null;
    const lib = c.dlopen(cString(n.path), 2 /* RTLD_NOW */);
    if (n.backend.isNull(lib)) return null;
    const addr = Number(c.dlsym(lib, cString("pcap_dump")));
    if (!addr) return null;
    const reader = new BatchReader(null, n.backend.fromAddress(addr));
    const fp = c.open_memstream(reader.#ptrOut, reader.#sizeOut);
    if (n.backend.isNull(fp)) return null;
    // pcap_dump() makes two fwrite()s per packet; in a process with threads
    // each locks the stream (about 30 ns per packet here). Only the thread
    // reading the handle ever touches this stream.
    c.__fsetlocking?.(fp, 2 /* FSETLOCKING_BYCALLER */);
    reader.#fp = fp;
    return reader;
  }

  /** One `pcap_dispatch` of up to `max` packets into the stream; returns its status. */
  #fill(handle: Ptr, max: number): number {
    const n = native();
    const c = n.libc!.symbols;
    const fp = this.#fp;
    c.fseek(fp, 0, 0);
    const status = n.pcap.symbols.pcap_dispatch(handle, max, this.#dump, fp);
    c.fflush(fp);
    return status;
  }

  /**
   * Reads up to `max` packets (-1: what one buffer holds) into fresh memory, or with
   * `reuse` into memory of this reader's that the next `read` overwrites (no allocation).
   */
  read(
    handle: Ptr,
    max: number,
    linkType: number,
    nano: boolean,
    reuse = false,
  ): BatchResult {
    const status = this.#fill(handle, max);
    const size = Number(this.#sizeOut[0]);
    if (size === 0) return { batch: emptyBatch(linkType), status };
    // At most one record per header's worth of bytes; pcap_dispatch said how many it handled.
    const most = Math.floor(size / recordHeader().size);
    if (reuse) {
      // One record buffer and one set of columns, overwritten by each batch (fresh memory
      // costs Deno about 1 ns a byte, more than libpcap spends on a small packet).
      if (this.#recycledBytes.length < size) {
        this.#recycledBytes = new Uint8Array(Math.max(size, 2 * this.#recycledBytes.length));
      }
      const bytes = this.#recycledBytes;
      native().libc!.symbols.memcpy(bytes, Number(this.#ptrOut[0]), size);
      if (this.#recycledColumns.offsets.length < most) {
        this.#recycledColumns = newColumns(
          Math.max(most, 2 * this.#recycledColumns.offsets.length),
        );
      }
      const batch = recordsToBatch(bytes.subarray(0, size), linkType, nano, this.#recycledColumns);
      return { batch, status };
    }
    const b = native().backend;
    const bytes = b.copy(b.fromAddress(this.#ptrOut[0]), size);
    const columns = newColumns(status > 0 ? Math.min(status, most) : most);
    return { batch: recordsToBatch(bytes, linkType, nano, columns), status };
  }

  /**
   * Like {@link BatchReader.read}, but only the record headers are read, in
   * place (no copy, no object per packet): `fn(seconds, fraction, length)` for
   * each. Returns `pcap_dispatch`'s status.
   */
  forEachHeader(
    handle: Ptr,
    max: number,
    fn: (seconds: number, fraction: number, length: number) => void,
  ): number {
    const status = this.#fill(handle, max);
    const size = Number(this.#sizeOut[0]);
    if (size === 0) return status;
    const b = native().backend;
    const r = recordHeader();
    const v = new DataView(b.unsafeView(b.fromAddress(this.#ptrOut[0]), size));
    for (let off = 0; off + r.size <= size; off += r.size + r.caplen(v, off)) {
      fn(r.sec(v, off), r.frac(v, off), r.len(v, off));
    }
    return status;
  }

  /** Frees the stream and its buffer. */
  close(): void {
    const n = native();
    const c = n.libc!.symbols;
    if (this.#fp !== null) {
      c.fclose(this.#fp);
      this.#fp = null;
      const p = n.backend.fromAddress(this.#ptrOut[0]);
      if (!n.backend.isNull(p)) c.free(p);
    }
  }
}

interface RecordHeader {
  size: number;
  sec: FieldReader<number>;
  frac: FieldReader<number>;
  caplen: FieldReader<number>;
  len: FieldReader<number>;
}
let recordHeaderCache: RecordHeader | null = null;

/** Readers of the record header `pcap_dump` writes (`struct pcap_sf_pkthdr`, host order). */
function recordHeader(): RecordHeader {
  if (recordHeaderCache) return recordHeaderCache;
  const h = structs().pcap_sf_pkthdr;
  // Seconds as unsigned: pcap_dump() writes only 0 to INT32_MAX, and this reads past 2038 too.
  const secAt = h.offsetOf("tv_sec");
  const le = h.abi.littleEndian;
  return recordHeaderCache = {
    size: h.size,
    sec: (v, b) => v.getUint32(b + secAt, le),
    frac: h.reader("tv_usec") as FieldReader<number>,
    caplen: h.reader("caplen") as FieldReader<number>,
    len: h.reader("len") as FieldReader<number>,
  };
}

/**
 * Walks `pcap_dump` records into a {@link PacketBatch} over `bytes` and `columns`, which
 * must have room for every record (`columns` may be reused from batch to batch).
 */
function recordsToBatch(
  bytes: Uint8Array,
  linkType: number,
  nano: boolean,
  columns: Columns,
): PacketBatch {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const r = recordHeader();
  const scale = nano ? 1 : 1000;
  const { offsets, caplens, lengths, seconds, nanos } = columns;
  const room = offsets.length;
  const end = bytes.length;
  let n = 0, off = 0;
  while (off + r.size <= end && n < room) {
    const caplen = r.caplen(v, off);
    const start = off + r.size;
    if (start + caplen > end) break;
    offsets[n] = start;
    caplens[n] = caplen;
    lengths[n] = r.len(v, off);
    seconds[n] = r.sec(v, off);
    nanos[n] = r.frac(v, off) * scale;
    n++;
    off = start + caplen;
  }
  return new PacketBatch(linkType, bytes, n, offsets, caplens, lengths, seconds, nanos);
}

/** Calls a JS function for each packet from `pcap_dispatch` / `pcap_loop`. */
export class CallbackReader {
  #cb: { pointer: Ptr; close(): void } | null = null;
  /** The header is read in place, through views kept while its address repeats. */
  #hdrAddr = -1;
  #h = new HeaderWords();
  #copier = new Copier();
  #slab = new Slab();
  #target: ((p: Packet) => void) | null = null;
  #linkType = 0;
  #nano = false;
  #error: unknown = null;
  #handle: Ptr = null;
  /** Packets delivered by the last run. */
  delivered = 0;

  #pointer(): Ptr {
    if (!this.#cb) {
      const n = native();
      this.#cb = n.backend.callback(["usize", "usize", "usize"], "void", (_user, hdr, data) => {
        if (this.#error !== null) return;
        try {
          const h = this.#h;
          if (hdr !== this.#hdrAddr) {
            const b = native().backend;
            h.attach(b.unsafeView(b.fromAddress(hdr), h.size));
            this.#hdrAddr = hdr;
          }
          const caplen = h.caplen;
          const frac = h.fraction;
          const bytes = this.#slab.take(caplen);
          if (caplen > 0) this.#copier.copy(bytes, data, caplen);
          this.delivered++;
          this.#target!(
            new Packet(
              h.seconds,
              this.#nano ? frac : frac * 1000,
              caplen,
              h.length,
              bytes,
              this.#linkType,
            ),
          );
        } catch (e) {
          this.#error = e;
          native().pcap.symbols.pcap_breakloop(this.#handle);
        }
      });
    }
    return this.#cb.pointer;
  }

  /** Runs `pcap_dispatch` or `pcap_loop`; rethrows what the callback threw. */
  run(
    which: "dispatch" | "loop",
    handle: Ptr,
    count: number,
    fn: (p: Packet) => void,
    linkType: number,
    nano: boolean,
  ): number {
    const n = native();
    const ptr = this.#pointer();
    this.#target = fn;
    this.#linkType = linkType;
    this.#nano = nano;
    this.#error = null;
    this.#handle = handle;
    this.delivered = 0;
    try {
      const f = which === "dispatch" ? n.pcap.symbols.pcap_dispatch : n.pcap.symbols.pcap_loop;
      const rc = f(handle, count, ptr, null);
      if (this.#error !== null) throw this.#error;
      return rc;
    } finally {
      this.#target = null;
      this.#error = null;
    }
  }

  /** Frees the trampoline and forgets the views of libpcap's memory. */
  close(): void {
    this.#cb?.close();
    this.#cb = null;
    this.#h.detach();
    this.#hdrAddr = -1;
    this.#copier.reset();
  }
}
