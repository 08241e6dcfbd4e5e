/**
 * Byte sources for the readers: file paths (read in chunks with `node:fs`, imported lazily so
 * the module also works where there is no file system), `file:`/`http(s):` URLs and
 * `ReadableStream`s.
 *
 * @module
 * @internal
 */

import { ErrorCode, PcapError } from "../errors.ts";
import type { ReadSource } from "./types.ts";

/** A source we read into our own buffers (files). */
export interface FillSource {
  readonly kind: "fill";
  /**
   * Reads up to `length` bytes into `buf` at `offset`; 0 at end of file. Reads synchronously
   * (a local file read is a copy from the page cache, cheaper than a round trip through the
   * runtime's I/O thread pool); the reader yields to the event loop now and then.
   */
  readInto(buf: Uint8Array, offset: number, length: number): number;
  close(): Promise<void>;
}

/** A source that hands us chunks (streams). */
export interface ChunkSource {
  readonly kind: "chunk";
  /** The next chunk, or null at the end. */
  next(): Promise<Uint8Array | null>;
  close(): Promise<void>;
}

/** Either kind of source. */
export type ByteSource = FillSource | ChunkSource;

function ioError(what: string, cause: unknown): PcapError {
  const msg = cause instanceof Error ? cause.message : String(cause);
  return new PcapError(ErrorCode.IO, `${what}: ${msg}`, { cause });
}

/** Opens a file (path or `file:` URL) for chunked reading. */
export async function openFile(path: string | URL): Promise<FillSource> {
  const fs = await import("node:fs");
  let fd: number;
  try {
    fd = await new Promise<number>((resolve, reject) =>
      fs.open(path, "r", (err, fd) => err ? reject(err) : resolve(fd))
    );
  } catch (e) {
    throw ioError(`cannot open ${String(path)}`, e);
  }
  let closed = false;
  return {
    kind: "fill",
    readInto(buf: Uint8Array, offset: number, length: number): number {
      try {
        return fs.readSync(fd, buf, offset, length, null);
      } catch (e) {
        throw ioError(`cannot read ${String(path)}`, e);
      }
    },
    close(): Promise<void> {
      if (closed) return Promise.resolve();
      closed = true;
      return new Promise<void>((resolve) => fs.close(fd, () => resolve()));
    },
  };
}

/** Wraps a byte stream. */
export function streamSource(stream: ReadableStream<Uint8Array>): ChunkSource {
  const reader = stream.getReader();
  let done = false;
  return {
    kind: "chunk",
    async next(): Promise<Uint8Array | null> {
      if (done) return null;
      let r: ReadableStreamReadResult<Uint8Array>;
      try {
        r = await reader.read();
      } catch (e) {
        throw ioError("cannot read stream", e);
      }
      if (r.done) {
        done = true;
        return null;
      }
      const v = r.value as unknown;
      if (!(v instanceof Uint8Array)) {
        throw new TypeError("the stream must produce Uint8Array chunks");
      }
      return v;
    },
    async close(): Promise<void> {
      if (!done) {
        done = true;
        try {
          await reader.cancel();
        } catch { /* already errored */ }
      }
      try {
        reader.releaseLock();
      } catch { /* ignore */ }
    },
  };
}

/** Opens any non-bytes {@link ReadSource}. */
export async function openSource(source: Exclude<ReadSource, Uint8Array>): Promise<ByteSource> {
  if (typeof source === "string") return await openFile(source);
  if (source instanceof URL) {
    if (source.protocol === "file:") return await openFile(source);
    if (source.protocol === "http:" || source.protocol === "https:") {
      let res: Response;
      try {
        res = await fetch(source);
      } catch (e) {
        throw ioError(`cannot fetch ${source.href}`, e);
      }
      if (!res.ok || !res.body) {
        await res.body?.cancel();
        throw new PcapError(ErrorCode.IO, `cannot fetch ${source.href}: HTTP ${res.status}`);
      }
      return streamSource(res.body);
    }
    throw new TypeError(`unsupported URL scheme: ${source.protocol}`);
  }
  if (typeof (source as ReadableStream<Uint8Array>)?.getReader === "function") {
    return streamSource(source);
  }
  throw new TypeError("source must be a Uint8Array, a path, a URL or a ReadableStream");
}
