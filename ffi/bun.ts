/**
 * The Bun back end: `bun:ffi`. Only this file touches Bun's FFI.
 *
 * `bun:ffi` is reached through `import.meta.require` at run time, so that the
 * module graph stays loadable (and type-checkable) under Deno; the types come
 * from `bun-types`.
 *
 * Bun has no non-blocking FFI calls, so {@link Backend.waitReadable} blocks
 * in `poll(2)` on a small pool of Workers instead of on the JS thread.
 *
 * @module
 */

import type * as BunFFI from "bun:ffi";
import type {
  Backend,
  LoadedSymbols,
  NativeCallback,
  NativeLibrary,
  NativeType,
  Ptr,
  SymbolDef,
  SymbolTable,
} from "./types.ts";
import { libcSymbols } from "./symbols.ts";

// deno-lint-ignore no-explicit-any
type Any = any;

function bunType(t: NativeType, windows: boolean): string {
  switch (t) {
    case "buffer":
      return "ptr";
    case "usize":
      return "u64_fast";
    case "isize":
      return "i64_fast";
    case "i64":
      return "i64_fast";
    case "u64":
      return "u64_fast";
    case "long":
      return windows ? "i32" : "i64_fast";
    case "ulong":
      return windows ? "u32" : "u64_fast";
    default:
      return t;
  }
}

function bunDef(def: SymbolDef, windows: boolean): { args: string[]; returns: string } {
  return {
    args: def.args.map((a) => bunType(a, windows)),
    returns: bunType(def.returns, windows),
  };
}

function libcName(os: string): string {
  if (os === "darwin") return "libSystem.B.dylib";
  if (os === "windows") return "msvcrt.dll";
  return "libc.so.6";
}

// The worker blocks in poll(2) and answers with its result.
function workerSource(libc: string, def: { args: string[]; returns: string }): string {
  return `
const { dlopen } = require("bun:ffi");
const lib = dlopen(${JSON.stringify(libc)}, { poll: ${JSON.stringify(def)} });
self.onmessage = (e) => {
  const { fds, timeout } = e.data;
  const buf = new Int32Array(fds.length * 2);
  for (let i = 0; i < fds.length; i++) { buf[i * 2] = fds[i]; buf[i * 2 + 1] = 1; }
  let r;
  try { r = lib.symbols.poll(buf, fds.length, timeout); } catch (err) { r = -2; }
  self.postMessage(r);
};`;
}

interface PollWorker {
  worker: Any;
  resolve: ((r: number) => void) | null;
}

/** Creates the Bun back end. Call only under Bun. */
export function bunBackend(): Backend {
  const ffi: typeof BunFFI = (import.meta as Any).require("bun:ffi");
  const proc = (globalThis as Any).process;
  const os: string = proc.platform === "win32" ? "windows" : proc.platform;
  const windows = os === "windows";
  const idle: PollWorker[] = [];
  let workerUrl: string | null = null;

  function takeWorker(): PollWorker {
    const w = idle.pop();
    if (w) {
      w.worker.ref?.();
      return w;
    }
    if (!workerUrl) {
      const src = workerSource(libcName(os), bunDef(libcSymbols.poll, windows));
      workerUrl = URL.createObjectURL(new Blob([src], { type: "application/javascript" }));
    }
    const pw: PollWorker = { worker: new (globalThis as Any).Worker(workerUrl), resolve: null };
    pw.worker.onmessage = (e: { data: number }) => {
      const r = pw.resolve;
      pw.resolve = null;
      pw.worker.unref?.();
      idle.push(pw);
      r?.(e.data);
    };
    return pw;
  }

  const backend: Backend = {
    runtime: "bun",
    os,
    arch: ({ x64: "x86_64", arm64: "aarch64", ia32: "x86" } as Record<string, string>)[proc.arch] ??
      proc.arch,
    poolSmallBuffers: false,
    open<T extends SymbolTable>(path: string, table: T): NativeLibrary<T> {
      const required: Record<string, Any> = {};
      const optional: string[] = [];
      for (const [name, def] of Object.entries(table)) {
        if (def.nonblocking) continue; // Bun has no non-blocking calls: see waitReadable.
        if (def.optional) optional.push(name);
        else required[name] = bunDef(def, windows);
      }
      const libs: { close(): void }[] = [];
      const main = ffi.dlopen(path, required);
      libs.push(main);
      const symbols: Record<string, unknown> = { ...main.symbols };
      for (const name of Object.keys(table)) {
        if (table[name].nonblocking) symbols[name] = null;
      }
      // Optional symbols are linked one by one on first use: bun:ffi refuses a
      // whole table when one symbol is missing.
      for (const name of optional) {
        Object.defineProperty(symbols, name, {
          configurable: true,
          enumerable: true,
          get(): unknown {
            let value: unknown = null;
            const def = table[name];
            try {
              const one = ffi.dlopen(path, { [def.symbol ?? name]: bunDef(def, windows) } as Any);
              libs.push(one);
              value = (one.symbols as Any)[def.symbol ?? name];
            } catch {
              value = null;
            }
            Object.defineProperty(symbols, name, { value, enumerable: true });
            return value;
          },
        });
      }
      return {
        path,
        symbols: symbols as LoadedSymbols<T>,
        close: () => {
          for (const l of libs) l.close();
        },
      };
    },
    isNull(p: Ptr | number | bigint): boolean {
      return p === null || p === undefined || (p as unknown) == 0;
    },
    address(p: Ptr): number {
      return p === null ? 0 : Number(p as unknown as number);
    },
    fromAddress(address: number | bigint): Ptr {
      const n = Number(address);
      return (n === 0 ? null : n) as unknown as Ptr;
    },
    pointerOf(buffer: ArrayBufferView): Ptr {
      return ffi.ptr(buffer as Any) as unknown as Ptr;
    },
    readCString(p: Ptr): string | null {
      if (p === null || (p as unknown) === 0) return null;
      return new ffi.CString(p as unknown as BunFFI.Pointer).toString();
    },
    copy(p: Ptr, length: number, offset = 0): Uint8Array {
      if (length === 0) return new Uint8Array(0);
      return new Uint8Array(ffi.toArrayBuffer(p as unknown as BunFFI.Pointer, offset, length))
        .slice();
    },
    unsafeView(p: Ptr, length: number, offset = 0): ArrayBuffer {
      return ffi.toArrayBuffer(p as unknown as BunFFI.Pointer, offset, length);
    },
    callback(args: readonly NativeType[], returns: NativeType, fn: Any): NativeCallback {
      const cb = new ffi.JSCallback(fn, {
        args: args.map((a) => bunType(a, windows)),
        returns: bunType(returns, windows),
      } as Any);
      return { pointer: cb.ptr as unknown as Ptr, close: () => cb.close() };
    },
    waitReadable(fds: readonly number[], timeoutMs: number): Promise<number> {
      return new Promise<number>((resolve) => {
        const pw = takeWorker();
        pw.resolve = resolve;
        pw.worker.postMessage({ fds: [...fds], timeout: timeoutMs });
      });
    },
    env(name: string): string | undefined {
      return proc.env[name];
    },
  };
  return backend;
}
