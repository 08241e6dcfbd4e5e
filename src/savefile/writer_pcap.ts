/**
 * Classic pcap writer.
 *
 * @module
 */

import { PcapFormatError } from "../errors.ts";
import type { ByteOrder, PcapngOption, TimestampPrecision } from "./types.ts";
import { PcapMagic } from "./types.ts";
import type { OptionInput } from "./options.ts";
import type { FileSink, Sink, WriterOptions, WriteTarget } from "./writer_output.ts";
import { fileSink, memorySink, now, Output, targetSink } from "./writer_output.ts";
import { pcapMagicOf } from "./pcap_reader.ts";

/**
 * A packet to write. A {@link PacketRecord} from the reader is one, so records can be copied
 * from file to file as they are.
 */
export interface WritablePacket {
  /** The captured bytes (truncated to the snapshot length when longer). */
  readonly data: Uint8Array;
  /** Seconds since the epoch (default: now). */
  readonly seconds?: number;
  /** Nanoseconds within the second (default 0, or now when `seconds` is missing). */
  readonly nanoseconds?: number;
  /** Original length on the wire (default `data.length`). */
  readonly length?: number;
  /** pcapng: interface id (default 0). */
  readonly interfaceId?: number;
  /** pcapng: `epb_flags`. */
  readonly flags?: number;
  /** pcapng: `opt_comment` values. */
  readonly comments?: readonly string[];
  /**
   * pcapng: more EPB options. Codes 1 (comment) and 2 (flags) are ignored here: they come
   * from `comments` and `flags`.
   */
  readonly options?: readonly (OptionInput | PcapngOption)[];
}

/** Options of {@link PcapWriter}. */
export interface PcapWriterOptions extends WriterOptions {
  /** Link type (`LINKTYPE_*`, default 1 = Ethernet). */
  linkType?: number;
  /** Snapshot length (default 262144). */
  snaplen?: number;
  /** Time stamp precision (default "micro"). */
  precision?: TimestampPrecision;
  /** Byte order (default "little"). */
  byteOrder?: ByteOrder;
  /** FCS length in bytes to record in the link-type field (even, at most 30). */
  fcsLength?: number;
  /**
   * Append to an existing file (file targets only). The file's header must agree with the
   * options given (link type, snaplen, precision); options left out are taken from the file.
   * An empty or missing file gets a new header.
   */
  append?: boolean;
}

/**
 * Writes a classic pcap file to a path, a `WritableStream` or memory. Records are buffered
 * and handed to the target in large chunks; `flush()` pushes them out, `close()` finishes.
 *
 * @example
 * ```ts
 * await using w = await PcapWriter.open("out.pcap", { linkType: 1, precision: "nano" });
 * w.writePacket({ data, seconds: 1700000000, nanoseconds: 5 });
 * ```
 */
export class PcapWriter implements AsyncDisposable {
  #out: Output;
  #little: boolean;
  #nano: boolean;
  /** Link type written in the header. */
  readonly linkType: number;
  /** Snapshot length written in the header. */
  readonly snaplen: number;
  /** Time stamp precision. */
  readonly precision: TimestampPrecision;
  /** Byte order. */
  readonly byteOrder: ByteOrder;
  /** Packets written so far. */
  packetsWritten = 0;

  private constructor(
    sink: Sink,
    o: Required<Pick<PcapWriterOptions, "linkType" | "snaplen" | "precision" | "byteOrder">>,
    header: number | null,
    options: PcapWriterOptions,
  ) {
    this.#out = new Output(sink, options);
    this.linkType = o.linkType;
    this.snaplen = o.snaplen;
    this.precision = o.precision;
    this.byteOrder = o.byteOrder;
    this.#little = o.byteOrder === "little";
    this.#nano = o.precision === "nano";
    if (header !== null) this.#header(header);
  }

  static #resolve(
    options: PcapWriterOptions,
  ): Required<Pick<PcapWriterOptions, "linkType" | "snaplen" | "precision" | "byteOrder">> & {
    field: number;
  } {
    const linkType = options.linkType ?? 1;
    const snaplen = options.snaplen ?? 262144;
    if (!Number.isInteger(linkType) || linkType < 0 || linkType > 0x03ffffff) {
      throw new RangeError(`invalid link type ${linkType}`);
    }
    if (!Number.isInteger(snaplen) || snaplen < 0 || snaplen > 0xffffffff) {
      throw new RangeError(`invalid snaplen ${snaplen}`);
    }
    let field = linkType;
    if (options.fcsLength !== undefined) {
      const f = options.fcsLength;
      if (!Number.isInteger(f) || f < 0 || f > 30 || f % 2) {
        throw new RangeError(`invalid FCS length ${f}`);
      }
      field = (field | 0x04000000 | (f / 2) << 28) >>> 0;
    }
    return {
      linkType,
      snaplen,
      precision: options.precision ?? "micro",
      byteOrder: options.byteOrder ?? "little",
      field,
    };
  }

  /**
   * Opens a writer on a file path / `file:` URL (created or truncated, or appended to with
   * `append: true`) or on a WritableStream, and writes the file header.
   */
  static async open(target: WriteTarget, options: PcapWriterOptions = {}): Promise<PcapWriter> {
    if (typeof target === "string" || target instanceof URL) {
      const sink: FileSink = await fileSink(target, options.append === true, 24);
      if (options.append && sink.size > 0) {
        try {
          const o = PcapWriter.#checkAppend(sink.head, sink.size, options);
          return new PcapWriter(sink, o, null, options);
        } catch (e) {
          await sink.close();
          throw e;
        }
      }
      const o = PcapWriter.#resolve(options);
      return new PcapWriter(sink, o, o.field, options);
    }
    if (options.append) throw new TypeError("append needs a file path");
    const o = PcapWriter.#resolve(options);
    return new PcapWriter(targetSink(target), o, o.field, options);
  }

  /** A writer that keeps the file in memory: get it with {@link PcapWriter.toBytes}. */
  static inMemory(options: PcapWriterOptions = {}): PcapWriter {
    const o = PcapWriter.#resolve(options);
    return new PcapWriter(memorySink(), o, o.field, options);
  }

  static #checkAppend(
    head: Uint8Array,
    size: number,
    options: PcapWriterOptions,
  ): Required<Pick<PcapWriterOptions, "linkType" | "snaplen" | "precision" | "byteOrder">> {
    const fail = (at: number, why: string): never => {
      throw new PcapFormatError(at, `cannot append: ${why}`);
    };
    if (head.length < 24) fail(size, "the file is shorter than a pcap file header");
    const v = new DataView(head.buffer, head.byteOffset, head.byteLength);
    const m = pcapMagicOf(v.getUint32(0, true));
    if (!m) fail(0, "not a pcap file (pcapng files cannot be appended to)");
    if (m!.modified) fail(0, "the modified pcap format is not supported for appending");
    const le = m!.little;
    const major = v.getUint16(4, le), minor = v.getUint16(6, le);
    if (major !== 2 || minor !== 4) fail(4, `unsupported pcap savefile version ${major}.${minor}`);
    const snaplen = v.getUint32(16, le);
    const field = v.getUint32(20, le);
    const linkType = field & 0x03ffffff;
    const precision: TimestampPrecision = m!.nano ? "nano" : "micro";
    if (options.linkType !== undefined && options.linkType !== linkType) {
      fail(20, `the file's link type is ${linkType}, not ${options.linkType}`);
    }
    if (options.snaplen !== undefined && options.snaplen !== snaplen) {
      fail(16, `the file's snaplen is ${snaplen}, not ${options.snaplen}`);
    }
    if (options.precision !== undefined && options.precision !== precision) {
      fail(0, `the file's time stamps are in ${precision}seconds, not ${options.precision}seconds`);
    }
    const byteOrder = le ? "little" : "big";
    if (options.byteOrder !== undefined && options.byteOrder !== byteOrder) {
      fail(0, `the file is ${byteOrder}-endian, not ${options.byteOrder}-endian`);
    }
    return { linkType, snaplen, precision, byteOrder };
  }

  #header(field: number): void {
    const out = this.#out;
    out.reserve(24);
    const v = out.view, p = out.len, le = this.#little;
    v.setUint32(p, this.#nano ? PcapMagic.NANO : PcapMagic.MICRO, le);
    v.setUint16(p + 4, 2, le);
    v.setUint16(p + 6, 4, le);
    v.setInt32(p + 8, 0, le);
    v.setUint32(p + 12, 0, le);
    v.setUint32(p + 16, this.snaplen, le);
    v.setUint32(p + 20, field, le);
    out.commit(24);
  }

  /** Bytes accepted so far (header included). */
  get bytesWritten(): number {
    return this.#out.bytesWritten;
  }

  /**
   * Buffers one packet. Returns a promise only when the target is behind (backpressure):
   * awaiting it then keeps memory bounded; otherwise returns undefined.
   */
  writePacket(packet: WritablePacket): Promise<void> | undefined {
    const out = this.#out;
    out.check();
    const data = packet.data;
    const caplen = this.snaplen !== 0 && data.length > this.snaplen ? this.snaplen : data.length;
    let sec = packet.seconds, ns = packet.nanoseconds ?? 0;
    if (sec === undefined) ({ seconds: sec, nanoseconds: ns } = now());
    const wait = out.reserve(16 + caplen);
    const v = out.view, p = out.len, le = this.#little;
    v.setUint32(p, sec >>> 0, le);
    v.setUint32(p + 4, (this.#nano ? ns : Math.floor(ns / 1000)) >>> 0, le);
    v.setUint32(p + 8, caplen, le);
    v.setUint32(p + 12, packet.length ?? data.length, le);
    out.buf.set(caplen === data.length ? data : data.subarray(0, caplen), p + 16);
    out.commit(16 + caplen);
    this.packetsWritten++;
    return wait;
  }

  /** Writes everything buffered to the target and waits for it. */
  flush(): Promise<void> {
    return this.#out.flush();
  }

  /** Flushes and closes the target. Idempotent. */
  close(): Promise<void> {
    return this.#out.close();
  }

  /** Same as {@link PcapWriter.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** In-memory writers: the chunks written so far (flushes the buffer into them). */
  get chunks(): readonly Uint8Array[] {
    return this.#out.memoryChunks();
  }

  /** In-memory writers: the whole file so far as one array. */
  toBytes(): Uint8Array {
    return this.#out.toBytes();
  }
}
