/**
 * The savefile reader: {@link SavefileReader} and the `readPackets` / `readPacketsSync` /
 * `readBatches` functions.
 *
 * @module
 */

import { PcapFormatError } from "../errors.ts";
import type {
  CustomBlock,
  DecryptionSecrets,
  InterfaceInfo,
  InterfaceStatistics,
  NameResolutionBlock,
  PacketRecord,
  ReadOptions,
  ReadSource,
  SavefileInfo,
  SectionInfo,
} from "./types.ts";
import { Packet } from "./record.ts";
import type { Decoder } from "./decoder.ts";
import { NEED, READY, RECORD } from "./decoder.ts";
import { PcapDecoder, pcapMagicOf } from "./pcap_reader.ts";
import { PcapngDecoder } from "./pcapng_reader.ts";
import type { ByteSource } from "./sources.ts";
import { openSource } from "./sources.ts";

const EMPTY = new Uint8Array(0);
const DEFAULT_CHUNK = 1024 * 1024;
/** File bytes read synchronously between two turns of the event loop. */
const YIELD_BYTES = 32 * 1024 * 1024;

/** Resolves on a later turn of the event loop (after pending I/O callbacks). */
function yieldToEventLoop(): Promise<void> {
  const g = globalThis as { setImmediate?: (f: () => void) => unknown };
  return new Promise<void>((resolve) =>
    typeof g.setImmediate === "function" ? g.setImmediate(resolve) : setTimeout(resolve, 0)
  );
}

/** Picks the decoder from the first bytes (`bytes.length >= 12` unless the input is shorter). */
function sniff(bytes: Uint8Array, avail: number, base: number): Decoder {
  if (avail < 4) {
    throw new PcapFormatError(
      base + avail,
      `truncated dump file; tried to read 4 file header bytes, only got ${avail}`,
    );
  }
  const m = bytes[0] | bytes[1] << 8 | bytes[2] << 16 | bytes[3] << 24;
  if (pcapMagicOf(m)) return new PcapDecoder();
  if (m === 0x0a0d0d0a && avail >= 12) {
    const bom = (bytes[8] | bytes[9] << 8 | bytes[10] << 16 | bytes[11] << 24) >>> 0;
    if (bom === 0x1a2b3c4d || bom === 0x4d3c2b1a) return new PcapngDecoder();
  }
  throw new PcapFormatError(base, "unknown file format");
}

/** Feeds a decoder from a source. */
class Feeder {
  dec!: Decoder;
  src: ByteSource | null;
  buf: Uint8Array = EMPTY;
  chunkSize: number;
  signal: AbortSignal | undefined;
  eof = false;
  /** Bytes of `buf` holding data after the last fill. */
  filled = 0;
  /** Bytes asked of a file since the reader last yielded to the event loop. */
  readBytes = 0;

  constructor(src: ByteSource | null, options: ReadOptions) {
    this.src = src;
    this.chunkSize = Math.max(4096, options.chunkSize ?? DEFAULT_CHUNK);
    this.signal = options.signal;
  }

  /**
   * Makes at least `need` bytes available from the decoder position. Returns false at the
   * end of the input (the decoder then holds what is left). With `reuse`, file buffers are
   * recycled (so earlier `data` views become invalid).
   */
  async fill(dec: Decoder | null, need: number, reuse: boolean): Promise<boolean> {
    this.signal?.throwIfAborted();
    const src = this.src;
    const pos = dec ? dec.pos : 0, end = dec ? dec.end : 0, base = dec ? dec.base : 0;
    const left = end - pos;
    if (!src || this.eof) return false;
    if (src.kind === "fill") {
      const size = Math.max(this.chunkSize, need);
      let buf: Uint8Array;
      if (reuse && this.buf.length >= size) {
        buf = this.buf;
        buf.copyWithin(0, pos, end);
      } else {
        buf = new Uint8Array(size);
        buf.set(this.buf.subarray(pos, end));
      }
      this.buf = buf;
      let n = left;
      while (n < need) {
        // File reads are synchronous; give timers and I/O a turn every few dozen MiB.
        this.readBytes += buf.length - n;
        if (this.readBytes >= YIELD_BYTES) {
          this.readBytes = 0;
          await yieldToEventLoop();
          this.signal?.throwIfAborted();
        }
        const got = src.readInto(buf, n, buf.length - n);
        if (got === 0) {
          this.eof = true;
          break;
        }
        n += got;
      }
      this.filled = n;
      dec?.setBuffer(buf, 0, n, base + pos);
      return n >= need;
    }
    const parts: Uint8Array[] = [];
    let total = left;
    while (total < need) {
      const c = await src.next();
      if (c === null) {
        this.eof = true;
        break;
      }
      if (c.length === 0) continue;
      parts.push(c);
      total += c.length;
    }
    if (parts.length > 0) {
      let buf: Uint8Array;
      if (left === 0 && parts.length === 1) buf = parts[0];
      else {
        buf = new Uint8Array(total);
        buf.set(this.buf.subarray(pos, end));
        let o = left;
        for (const c of parts) {
          buf.set(c, o);
          o += c.length;
        }
      }
      this.buf = buf;
      this.filled = total;
      dec?.setBuffer(buf, 0, total, base + pos);
    }
    return total >= need;
  }
}

/**
 * Iterates the records of an in-memory savefile as fresh objects, then checks the end of the
 * input (synchronous iteration of a reader created from bytes).
 */
class SyncPackets implements IterableIterator<PacketRecord> {
  #dec: Decoder;
  #done = false;
  /** One result object, reused (for-of reads it at once). */
  #result: { value: PacketRecord; done: false };

  constructor(dec: Decoder) {
    this.#dec = dec;
    this.#result = { value: null as unknown as PacketRecord, done: false };
  }

  // Kept small: the JIT inlines it into the caller's for-of loop.
  next(): IteratorResult<PacketRecord> {
    const rec = new Packet();
    if (!this.#done && this.#dec.next(rec) === RECORD) {
      const res = this.#result;
      res.value = rec;
      return res;
    }
    return this.#end();
  }

  #end(): IteratorResult<PacketRecord> {
    if (!this.#done) {
      this.#done = true;
      this.#dec.finish();
    }
    return { value: undefined, done: true };
  }

  [Symbol.iterator](): IterableIterator<PacketRecord> {
    return this;
  }
}

/**
 * Iterates the records that are complete in the decoder's buffer into one shared record (the
 * batches of {@link SavefileReader.batches}). Plain fields (not `#private`) and no per-record
 * allocation or branch on the record kind: `next` stays small for the JIT to inline, with the
 * decoder's fast path, into the consumer's for-of loop.
 */
class BatchRecords implements IterableIterator<PacketRecord> {
  dec: Decoder;
  rec: Packet;
  done = false;
  onNeed: () => void;
  /** One result object, reused (for-of reads it at once). */
  result: { value: PacketRecord; done: false };

  constructor(dec: Decoder, rec: Packet, onNeed: () => void) {
    this.dec = dec;
    this.rec = rec;
    this.onNeed = onNeed;
    this.result = { value: rec, done: false };
  }

  next(): IteratorResult<PacketRecord> {
    const rec = this.rec, res = this.result;
    if (!this.done && this.dec.next(rec) === RECORD) {
      res.value = rec;
      return res;
    }
    return this.end();
  }

  end(): IteratorResult<PacketRecord> {
    if (!this.done) {
      this.done = true;
      this.onNeed();
    }
    return { value: undefined, done: true };
  }

  [Symbol.iterator](): IterableIterator<PacketRecord> {
    return this;
  }
}

/**
 * A pcap or pcapng savefile being read. Create one with {@link SavefileReader.open} (any
 * source) or {@link SavefileReader.fromBytes} (synchronous, in memory). The header (and, for
 * pcapng, everything up to the first Interface Description Block) is read on creation, so
 * {@link SavefileReader.info} is available at once; interfaces, statistics, name resolution
 * records and custom blocks accumulate as reading proceeds.
 *
 * A reader is single-pass: iterate it once, with `for await` (fresh records), with
 * {@link SavefileReader.batches} (the fast path) or, for byte sources, with `for`.
 *
 * @example
 * ```ts
 * await using reader = await SavefileReader.open("capture.pcapng");
 * console.log(reader.info.format, reader.info.linkType);
 * for await (const pkt of reader) console.log(pkt.seconds, pkt.caplen);
 * ```
 */
export class SavefileReader implements AsyncIterable<PacketRecord>, Iterable<PacketRecord> {
  #dec: Decoder;
  #feeder: Feeder;
  #started = false;
  #closed = false;

  private constructor(dec: Decoder, feeder: Feeder) {
    this.#dec = dec;
    this.#feeder = feeder;
  }

  /**
   * Opens a savefile from bytes, a file path, a `file:` (or `http(s):`) URL or a byte stream
   * and reads its header. Throws {@link PcapFormatError} when the header is bad.
   */
  static async open(source: ReadSource, options: ReadOptions = {}): Promise<SavefileReader> {
    if (source instanceof Uint8Array) return SavefileReader.fromBytes(source);
    const src = await openSource(source);
    const feeder = new Feeder(src, options);
    try {
      await feeder.fill(null, 12, false);
      const buf = feeder.buf, n = feeder.filled;
      const dec = sniff(buf, n, 0);
      dec.setBuffer(buf, 0, n, 0);
      feeder.dec = dec;
      const rec = new Packet();
      for (;;) {
        const r = dec.next(rec);
        if (r === READY) break;
        if (r === NEED && !(await feeder.fill(dec, dec.need, false))) {
          dec.finish();
          if (dec.ready) break;
        }
      }
      return new SavefileReader(dec, feeder);
    } catch (e) {
      await src.close();
      throw e;
    }
  }

  /** Reads the header of an in-memory savefile (synchronous). */
  static fromBytes(bytes: Uint8Array): SavefileReader {
    if (!(bytes instanceof Uint8Array)) throw new TypeError("bytes must be a Uint8Array");
    const dec = sniff(bytes, bytes.length, 0);
    dec.setBuffer(bytes, 0, bytes.length, 0);
    const rec = new Packet();
    for (;;) {
      const r = dec.next(rec);
      if (r === READY) break;
      if (r === NEED) {
        dec.finish();
        break;
      }
    }
    const feeder = new Feeder(null, {});
    feeder.dec = dec;
    return new SavefileReader(dec, feeder);
  }

  /** Format facts from the header (pcapng: the first section and its first interface). */
  get info(): SavefileInfo {
    return this.#dec.info();
  }

  /** Sections read so far (a pcap file has one). */
  get sections(): readonly SectionInfo[] {
    return this.#dec.sections;
  }

  /** Interfaces read so far, across sections, in file order. */
  get interfaces(): readonly InterfaceInfo[] {
    return this.#dec.interfaces;
  }

  /** Name Resolution Blocks read so far. */
  get nameResolution(): readonly NameResolutionBlock[] {
    return this.#dec.nameResolution;
  }

  /** Interface Statistics Blocks read so far. */
  get statistics(): readonly InterfaceStatistics[] {
    return this.#dec.statistics;
  }

  /** Custom Blocks read so far. */
  get customBlocks(): readonly CustomBlock[] {
    return this.#dec.customBlocks;
  }

  /** Decryption Secrets Blocks read so far. */
  get decryptionSecrets(): readonly DecryptionSecrets[] {
    return this.#dec.decryptionSecrets;
  }

  #start(): void {
    if (this.#started) throw new TypeError("a SavefileReader can be iterated only once");
    this.#started = true;
  }

  /**
   * Synchronous iteration, for readers created from bytes. Records are fresh objects.
   * Throws {@link PcapFormatError} where the file is bad, after the records before it.
   */
  [Symbol.iterator](): IterableIterator<PacketRecord> {
    if (this.#feeder.src) {
      throw new TypeError("synchronous iteration needs a reader created from bytes");
    }
    this.#start();
    return new SyncPackets(this.#dec);
  }

  /** Same as {@link SavefileReader.packets}. */
  [Symbol.asyncIterator](): AsyncIterableIterator<PacketRecord> {
    return this.packets();
  }

  /**
   * All records as fresh objects that stay valid (the convenience path). The source is
   * closed when the iteration ends, fails or is left early.
   */
  async *packets(): AsyncIterableIterator<PacketRecord> {
    this.#start();
    const dec = this.#dec, feeder = this.#feeder;
    try {
      for (;;) {
        const rec = new Packet();
        const r = dec.next(rec);
        if (r === RECORD) {
          yield rec;
          continue;
        }
        if (!(await feeder.fill(dec, dec.need, false))) {
          dec.finish();
          return;
        }
      }
    } finally {
      await this.close();
    }
  }

  /**
   * The streaming fast path: each batch is a synchronous iterable of the records complete in
   * the current buffer. Within a batch one record object is reused, and with a file path the
   * read buffer is recycled: a record's fields are valid until the batch iterator advances
   * and its `data` until the next batch is requested; use `record.copy()` to keep one.
   *
   * For the fastest loops, walk each batch in a plain (not `async`) function: Bun's
   * JavaScriptCore compiles a `for...of` loop that updates variables of the enclosing `async`
   * function (sums and counters kept across the `for await`) markedly slower.
   */
  async *batches(): AsyncIterableIterator<Iterable<PacketRecord>> {
    this.#start();
    const dec = this.#dec, feeder = this.#feeder;
    const shared = new Packet();
    let exhausted = false;
    const onNeed = (): void => {
      exhausted = true;
    };
    const batch: Iterable<PacketRecord> = {
      [Symbol.iterator]: (): IterableIterator<PacketRecord> =>
        new BatchRecords(dec, shared, onNeed),
    };
    try {
      for (;;) {
        exhausted = false;
        yield batch;
        if (!exhausted) {
          // The consumer left the batch early: drain it so the position is at a boundary.
          for (const _ of batch) { /* skip */ }
        }
        if (!(await feeder.fill(dec, dec.need, true))) {
          dec.finish();
          return;
        }
      }
    } finally {
      await this.close();
    }
  }

  /** Releases the source (file handle or stream lock). Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#feeder.src?.close();
  }

  /** Same as {@link SavefileReader.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/**
 * Reads every record of a savefile (pcap or pcapng, detected from the magic) as fresh,
 * independent objects. Throws {@link PcapFormatError} where the input is bad, after the
 * records before that point.
 *
 * @example
 * ```ts
 * for await (const pkt of readPackets("capture.pcap")) console.log(pkt.length);
 * ```
 */
export async function* readPackets(
  source: ReadSource,
  options: ReadOptions = {},
): AsyncIterableIterator<PacketRecord> {
  const reader = await SavefileReader.open(source, options);
  yield* reader.packets();
}

/**
 * Reads an in-memory savefile synchronously; records are fresh objects whose `data` are
 * views of `bytes`. A bad header throws at once; later problems throw during iteration.
 */
export function readPacketsSync(bytes: Uint8Array): IterableIterator<PacketRecord> {
  return SavefileReader.fromBytes(bytes)[Symbol.iterator]();
}

/**
 * The fast streaming path: an async iterable of batches, each a synchronous iterable of
 * records. See {@link SavefileReader.batches} for the validity rules of reused records.
 *
 * @example
 * ```ts
 * let bytes = 0;
 * for await (const batch of readBatches("big.pcapng")) {
 *   for (const pkt of batch) bytes += pkt.data.length;
 * }
 * ```
 */
export async function* readBatches(
  source: ReadSource,
  options: ReadOptions = {},
): AsyncIterableIterator<Iterable<PacketRecord>> {
  const reader = await SavefileReader.open(source, options);
  yield* reader.batches();
}
