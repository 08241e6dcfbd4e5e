/**
 * Buffered output shared by the writers: batches records into large chunks and hands them to
 * a sink (memory, file path via `node:fs`, or a `WritableStream`).
 *
 * @module
 * @internal
 */

import { ErrorCode, PcapError } from "../errors.ts";

/** Where writers put their bytes: a file path, a `file:` URL or a byte stream. */
export type WriteTarget = string | URL | WritableStream<Uint8Array>;

/** Common writer options. */
export interface WriterOptions {
  /** Size of the write buffer (default 1 MiB); chunks of about this size reach the sink. */
  bufferSize?: number;
}

/** A destination for chunks. */
export interface Sink {
  /** Writes a chunk the sink may keep (it is not reused). */
  write(chunk: Uint8Array): Promise<void>;
  /** Finishes. */
  close(): Promise<void>;
  /** Memory sinks keep chunks here. */
  chunks?: Uint8Array[];
}

function ioError(what: string, cause: unknown): PcapError {
  const msg = cause instanceof Error ? cause.message : String(cause);
  return new PcapError(ErrorCode.IO, `${what}: ${msg}`, { cause });
}

/** A sink that collects chunks in memory. */
export function memorySink(): Sink {
  const chunks: Uint8Array[] = [];
  return {
    chunks,
    write(chunk: Uint8Array): Promise<void> {
      chunks.push(chunk);
      return Promise.resolve();
    },
    close(): Promise<void> {
      return Promise.resolve();
    },
  };
}

/** A sink over a WritableStream (honours its backpressure). */
export function streamSink(stream: WritableStream<Uint8Array>): Sink {
  const w = stream.getWriter();
  return {
    async write(chunk: Uint8Array): Promise<void> {
      try {
        await w.ready;
        await w.write(chunk);
      } catch (e) {
        throw ioError("cannot write to stream", e);
      }
    },
    async close(): Promise<void> {
      try {
        await w.close();
      } catch (e) {
        throw ioError("cannot close stream", e);
      } finally {
        try {
          w.releaseLock();
        } catch { /* ignore */ }
      }
    },
  };
}

/** An open file: its existing size and first bytes (for appending) plus a sink. */
export interface FileSink extends Sink {
  /** Size of the file when it was opened. */
  size: number;
  /** Up to the first `peek` bytes of the existing file. */
  head: Uint8Array;
}

/** Opens a file for writing (truncating) or appending, with `node:fs` imported lazily. */
export async function fileSink(
  path: string | URL,
  append: boolean,
  peek: number,
): Promise<FileSink> {
  const fs = await import("node:fs");
  const call = <T>(f: (cb: (err: unknown, v: T) => void) => void): Promise<T> =>
    new Promise<T>((resolve, reject) => f((err, v) => (err ? reject(err) : resolve(v))));
  let fd: number;
  try {
    fd = await call<number>((cb) =>
      fs.open(
        path,
        append ? "a+" : "w",
        cb as (e: NodeJS.ErrnoException | null, fd: number) => void,
      )
    );
  } catch (e) {
    throw ioError(`cannot open ${String(path)}`, e);
  }
  let size = 0;
  let head = new Uint8Array(0);
  if (append) {
    try {
      const st = await call<{ size: number }>((cb) =>
        fs.fstat(fd, cb as (e: NodeJS.ErrnoException | null, s: { size: number }) => void)
      );
      size = Number(st.size);
      head = new Uint8Array(Math.min(peek, size));
      let got = 0;
      while (got < head.length) {
        const n = await call<number>((cb) =>
          fs.read(
            fd,
            head,
            got,
            head.length - got,
            got,
            cb as (e: NodeJS.ErrnoException | null, n: number) => void,
          )
        );
        if (n === 0) break;
        got += n;
      }
      head = head.subarray(0, got);
    } catch (e) {
      await new Promise<void>((r) => fs.close(fd, () => r()));
      throw ioError(`cannot read ${String(path)}`, e);
    }
  }
  let closed = false;
  return {
    size,
    head,
    async write(chunk: Uint8Array): Promise<void> {
      let off = 0;
      try {
        while (off < chunk.length) {
          off += await call<number>((cb) =>
            fs.write(
              fd,
              chunk,
              off,
              chunk.length - off,
              null,
              cb as (e: NodeJS.ErrnoException | null, n: number) => void,
            )
          );
        }
      } catch (e) {
        throw ioError(`cannot write ${String(path)}`, e);
      }
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      try {
        await call<void>((cb) => fs.close(fd, cb as (e: NodeJS.ErrnoException | null) => void));
      } catch (e) {
        throw ioError(`cannot close ${String(path)}`, e);
      }
    },
  };
}

/** Opens a non-file target as a sink. */
export function targetSink(target: WritableStream<Uint8Array>): Sink {
  if (typeof (target as WritableStream<Uint8Array>)?.getWriter !== "function") {
    throw new TypeError("target must be a path, a file: URL or a WritableStream");
  }
  return streamSink(target);
}

const DEFAULT_BUFFER = 1024 * 1024;
/** Bytes handed to the sink and not yet written, above which writes ask callers to wait. */
const HIGH_WATER = 8 * 1024 * 1024;

/** The write buffer. Writers reserve space, fill it through `buf` / `view`, then commit. */
export class Output {
  buf: Uint8Array;
  view: DataView;
  len = 0;
  #size: number;
  #sink: Sink;
  #copy: boolean;
  #pending: Promise<void> = Promise.resolve();
  #pendingBytes = 0;
  #error: unknown = undefined;
  #closed = false;
  /** Total bytes accepted so far. */
  bytesWritten = 0;

  constructor(sink: Sink, options: WriterOptions) {
    this.#size = Math.max(4096, Math.floor(options.bufferSize ?? DEFAULT_BUFFER));
    this.buf = new Uint8Array(this.#size);
    this.view = new DataView(this.buf.buffer);
    this.#sink = sink;
    this.#copy = sink.chunks !== undefined;
  }

  /** The sink. */
  get sink(): Sink {
    return this.#sink;
  }

  /** Throws if closed or if a background write failed. */
  check(): void {
    if (this.#closed) throw new PcapError(ErrorCode.CLOSED, "the writer is closed");
    if (this.#error !== undefined) throw this.#error;
  }

  /**
   * Makes room for `n` bytes at `len`. Returns a promise when the caller should wait for
   * the sink (backpressure), else undefined.
   */
  reserve(n: number): Promise<void> | undefined {
    let wait: Promise<void> | undefined;
    if (this.len + n > this.buf.length) {
      wait = this.#handoff();
      if (n > this.buf.length) {
        this.buf = new Uint8Array(n);
        this.view = new DataView(this.buf.buffer);
      }
    }
    return wait;
  }

  /** Commits `n` reserved bytes. */
  commit(n: number): void {
    this.len += n;
    this.bytesWritten += n;
  }

  #handoff(): Promise<void> | undefined {
    if (this.len === 0) return undefined;
    let chunk: Uint8Array;
    if (this.#copy) {
      // Memory sink: synchronous, so toBytes() sees everything at once.
      this.#sink.chunks!.push(this.buf.slice(0, this.len));
      this.len = 0;
      return undefined;
    } else {
      chunk = this.buf.subarray(0, this.len);
      this.buf = new Uint8Array(this.#size);
      this.view = new DataView(this.buf.buffer);
    }
    this.len = 0;
    const n = chunk.length;
    this.#pendingBytes += n;
    this.#pending = this.#pending.then(async () => {
      if (this.#error !== undefined) return;
      try {
        await this.#sink.write(chunk);
      } catch (e) {
        this.#error = e;
      } finally {
        this.#pendingBytes -= n;
      }
    });
    return this.#pendingBytes > HIGH_WATER ? this.#pending.then(() => this.check()) : undefined;
  }

  /** Hands buffered bytes to the sink and waits until it has written everything. */
  async flush(): Promise<void> {
    this.check();
    this.#handoff();
    await this.#pending;
    if (this.#error !== undefined) throw this.#error;
  }

  /** Flushes and closes the sink. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#handoff();
    await this.#pending;
    this.#closed = true;
    let err = this.#error;
    try {
      await this.#sink.close();
    } catch (e) {
      err ??= e;
    }
    if (err !== undefined) throw err;
  }

  /** Memory sinks: moves the buffered bytes into the chunk list; returns the list. */
  memoryChunks(): Uint8Array[] {
    const chunks = this.#sink.chunks;
    if (!chunks) throw new TypeError("only available for in-memory writers");
    if (!this.#closed) this.#handoff();
    return chunks;
  }

  /** All chunks of a memory sink concatenated (flushes the buffer into them first). */
  toBytes(): Uint8Array {
    const chunks = this.memoryChunks();
    let total = 0;
    for (const c of chunks) total += c.length;
    const out = new Uint8Array(total);
    let o = 0;
    for (const c of chunks) {
      out.set(c, o);
      o += c.length;
    }
    return out;
  }
}

/** Current time as seconds + nanoseconds. */
export function now(): { seconds: number; nanoseconds: number } {
  const ms = Date.now();
  return { seconds: Math.floor(ms / 1000), nanoseconds: (ms % 1000) * 1e6 };
}
