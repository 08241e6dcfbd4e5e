/**
 * The Deno back end: `Deno.dlopen`, `Deno.UnsafePointer`, `Deno.UnsafeCallback`.
 * Only this file touches Deno's FFI.
 *
 * @module
 */

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

// Local shapes of Deno's FFI types, so that this file type-checks without Deno's lib too.
type DenoType = string;
type DenoForeignFunction = Record<string, unknown>;

function denoType(t: NativeType, windows: boolean): DenoType {
  switch (t) {
    case "ptr":
      return "pointer";
    case "long":
      return windows ? "i32" : "i64";
    case "ulong":
      return windows ? "u32" : "u64";
    default:
      return t;
  }
}

function denoDef(def: SymbolDef, windows: boolean): DenoForeignFunction {
  const out: Record<string, unknown> = {
    parameters: def.args.map((a) => denoType(a, windows)),
    result: denoType(def.returns, windows),
  };
  if (def.symbol) out.name = def.symbol;
  if (def.optional) out.optional = true;
  if (def.nonblocking) out.nonblocking = true;
  return out;
}

/** BigInts of the small integers (lengths, mostly), made once: `BigInt(n)` allocates. */
const smallBigInts: bigint[] = [];
const asBigInt = (x: number | bigint): bigint => {
  if (typeof x === "bigint") return x;
  if (x >= 0 && x < 65536 && (x | 0) === x) return smallBigInts[x] ??= BigInt(x);
  return BigInt(x);
};

/**
 * Deno's fast call path takes 64-bit integer arguments as BigInts only: a
 * Number there falls back to the slow path (about 10 times slower). Callers
 * pass plain numbers on every runtime; here those arguments are converted.
 */
function widen(f: Any, args: readonly NativeType[], windows: boolean): Any {
  const wide = args.map((t) => {
    const d = denoType(t, windows);
    return d === "u64" || d === "i64" || d === "usize" || d === "isize";
  });
  if (!wide.includes(true)) return f;
  // Booleans in the closure (not converter functions) keep each call site
  // monomorphic, so V8 inlines the conversion into the wrapper.
  const [w0, w1, w2, w3, w4, w5] = wide;
  const v = (w: boolean, x: Any): Any => w ? asBigInt(x) : x;
  switch (args.length) {
    case 1:
      return (a: Any) => f(v(w0, a));
    case 2:
      return (a: Any, b: Any) => f(v(w0, a), v(w1, b));
    case 3:
      return (a: Any, b: Any, c: Any) => f(v(w0, a), v(w1, b), v(w2, c));
    case 4:
      return (a: Any, b: Any, c: Any, d: Any) => f(v(w0, a), v(w1, b), v(w2, c), v(w3, d));
    case 5:
      return (a: Any, b: Any, c: Any, d: Any, e: Any) =>
        f(v(w0, a), v(w1, b), v(w2, c), v(w3, d), v(w4, e));
    case 6:
      return (a: Any, b: Any, c: Any, d: Any, e: Any, g: Any) =>
        f(v(w0, a), v(w1, b), v(w2, c), v(w3, d), v(w4, e), v(w5, g));
    default:
      return (...a: Any[]) => f(...a.map((x, i) => v(wide[i], x)));
  }
}

function libcName(os: string): string {
  if (os === "darwin") return "libSystem.B.dylib";
  if (os === "windows") return "msvcrt.dll";
  return "libc.so.6";
}

/** Creates the Deno back end. Call only under Deno. */
export function denoBackend(): Backend {
  const D = (globalThis as Any).Deno;
  const os: string = D.build.os;
  const windows = os === "windows";
  let pollLib: { symbols: Any } | null = null;

  const toNumber = (v: number | bigint): number => typeof v === "bigint" ? Number(v) : v;

  const backend: Backend = {
    runtime: "deno",
    os,
    arch: D.build.arch,
    poolSmallBuffers: true,
    open<T extends SymbolTable>(path: string, table: T): NativeLibrary<T> {
      const defs: Record<string, DenoForeignFunction> = {};
      for (const [name, def] of Object.entries(table)) defs[name] = denoDef(def, windows);
      const lib = D.dlopen(path, defs);
      const symbols: Record<string, unknown> = {};
      for (const [name, def] of Object.entries(table)) {
        const f = lib.symbols[name];
        symbols[name] = f ? widen(f, def.args, windows) : null;
      }
      return {
        path,
        symbols: symbols as LoadedSymbols<T>,
        close: () => lib.close(),
      };
    },
    isNull(p: Ptr | number | bigint): boolean {
      if (p === null || p === undefined) return true;
      if (typeof p === "number" || typeof p === "bigint") return p == 0;
      return D.UnsafePointer.value(p) == 0;
    },
    address(p: Ptr): number {
      return p === null ? 0 : toNumber(D.UnsafePointer.value(p));
    },
    fromAddress(address: number | bigint): Ptr {
      return D.UnsafePointer.create(BigInt(address)) as Ptr;
    },
    pointerOf(buffer: ArrayBufferView): Ptr {
      return D.UnsafePointer.of(buffer) as Ptr;
    },
    readCString(p: Ptr): string | null {
      return p === null ? null : D.UnsafePointerView.getCString(p);
    },
    copy(p: Ptr, length: number, offset = 0): Uint8Array {
      const out = new Uint8Array(length);
      if (length > 0) D.UnsafePointerView.copyInto(p, out, offset);
      return out;
    },
    unsafeView(p: Ptr, length: number, offset = 0): ArrayBuffer {
      return D.UnsafePointerView.getArrayBuffer(p, length, offset);
    },
    callback(args: readonly NativeType[], returns: NativeType, fn: Any): NativeCallback {
      const cb = new D.UnsafeCallback(
        {
          parameters: args.map((a) => denoType(a, windows)),
          result: denoType(returns, windows),
        },
        fn,
      );
      return { pointer: cb.pointer as Ptr, close: () => cb.close() };
    },
    async waitReadable(fds: readonly number[], timeoutMs: number): Promise<number> {
      if (!pollLib) {
        pollLib = D.dlopen(libcName(os), {
          poll_nonblocking: denoDef(libcSymbols.poll_nonblocking, windows),
        });
      }
      const pollFn = pollLib!.symbols.poll_nonblocking;
      if (!pollFn) throw new Error("poll(2) is not available on this system");
      const buf = new Int32Array(fds.length * 2);
      for (let i = 0; i < fds.length; i++) {
        buf[i * 2] = fds[i];
        buf[i * 2 + 1] = 1; // events = POLLIN (low 16 bits, little-endian), revents = 0
      }
      return await pollFn(buf, fds.length, timeoutMs);
    },
    env(name: string): string | undefined {
      try {
        const state = D.permissions.querySync({ name: "env", variable: name }).state;
        return state === "granted" ? D.env.get(name) : undefined;
      } catch {
        return undefined;
      }
    },
  };
  return backend;
}
