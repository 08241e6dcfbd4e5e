/**
 * The runtime-neutral description of native symbols and the interface that
 * the Deno and Bun back ends implement. Nothing outside `ffi/` needs to know
 * which runtime is running.
 *
 * @module
 */

/**
 * Native value types of the symbol tables.
 *
 * - `ptr`: an opaque pointer (`Ptr`), `null` for NULL.
 * - `buffer`: a typed array passed by address (input or output memory owned by JS).
 * - `usize` / `isize`: pointer-sized integers, passed and returned as numbers
 *   (also used to pass raw addresses without creating pointer objects).
 * - `long` / `ulong`: C `long`, 8 bytes on LP64, 4 bytes on Windows.
 * - `function`: a callback pointer made by {@link Backend.callback}.
 */
export type NativeType =
  | "void"
  | "i8"
  | "u8"
  | "i16"
  | "u16"
  | "i32"
  | "u32"
  | "i64"
  | "u64"
  | "f32"
  | "f64"
  | "ptr"
  | "buffer"
  | "usize"
  | "isize"
  | "long"
  | "ulong"
  | "function";

/** One native function: its C prototype and its FFI signature. */
export interface SymbolDef {
  /** The C prototype, for readers. */
  readonly c: string;
  /** Argument types. */
  readonly args: readonly NativeType[];
  /** Return type. */
  readonly returns: NativeType;
  /** The exported symbol, when it differs from the table key. */
  readonly symbol?: string;
  /**
   * A library may lack it (newer than libpcap 1.0, platform-specific, or an
   * extension): it then loads as absent instead of failing the load.
   */
  readonly optional?: boolean;
  /** The libpcap version or product that introduced it, for error messages. */
  readonly since?: string;
  /** Runs off the JS thread where the runtime can (Deno: `nonblocking`). */
  readonly nonblocking?: boolean;
}

/** A table of native functions, keyed by the name used in code. */
export type SymbolTable = { readonly [name: string]: SymbolDef };

/** An opaque native pointer; `null` is NULL. Only `ffi/` looks inside. */
export type Ptr = { readonly __nativePointer: unique symbol } | null;

// deno-lint-ignore no-explicit-any
type AnyFn = (...args: any[]) => any;

/** The loaded functions of a table; absent optional symbols are `null`. */
export type LoadedSymbols<T extends SymbolTable> = {
  readonly [K in keyof T]: T[K]["optional"] extends true ? AnyFn | null : AnyFn;
};

/** A loaded native library. */
export interface NativeLibrary<T extends SymbolTable> {
  /** The name or path it was loaded from. */
  readonly path: string;
  /** Its functions. */
  readonly symbols: LoadedSymbols<T>;
  /** Unloads it. */
  close(): void;
}

/** A callback made callable from C. */
export interface NativeCallback {
  /** The function pointer to hand to C. */
  readonly pointer: Ptr;
  /** Frees the trampoline; the pointer must not be called afterwards. */
  close(): void;
}

/** What the Deno and Bun back ends provide. */
export interface Backend {
  /** Which runtime this is. */
  readonly runtime: "deno" | "bun";
  /** Opens a native library; throws an `Error` with the loader's text on failure. */
  open<T extends SymbolTable>(path: string, table: T): NativeLibrary<T>;
  /** True for NULL. */
  isNull(p: Ptr | number | bigint): boolean;
  /** A pointer's address as a number. */
  address(p: Ptr): number;
  /** A pointer made from an address (0 gives NULL). */
  fromAddress(address: number | bigint): Ptr;
  /** The pointer to a typed array's first byte (valid while the array lives). */
  pointerOf(buffer: ArrayBufferView): Ptr;
  /** Reads a NUL-terminated UTF-8 string, or `null` for a NULL pointer. */
  readCString(p: Ptr): string | null;
  /** Copies `length` bytes at `p + offset` into new JS-owned memory. */
  copy(p: Ptr, length: number, offset?: number): Uint8Array;
  /**
   * An ArrayBuffer over native memory, with no copy. Internal use only: it
   * must never escape to users, and must be dropped before the memory is freed.
   */
  unsafeView(p: Ptr, length: number, offset?: number): ArrayBuffer;
  /** Makes a JS function callable from C. */
  callback(args: readonly NativeType[], returns: NativeType, fn: AnyFn): NativeCallback;
  /**
   * Waits off the JS thread until one of `fds` is readable or `timeoutMs`
   * passes (-1: forever). Resolves to poll(2)'s result, or rejects.
   * Only on systems with poll(2).
   */
  waitReadable(fds: readonly number[], timeoutMs: number): Promise<number>;
  /** Reads an environment variable without asking for a permission; undefined if not allowed. */
  env(name: string): string | undefined;
  /**
   * True when many small `ArrayBuffer`s cost much more than views of one
   * (Deno): packet memory is then carved from shared chunks.
   */
  readonly poolSmallBuffers: boolean;
  /** Operating system: "linux", "darwin", "windows", … */
  readonly os: string;
  /** Processor architecture, spelled as Deno does: "x86_64", "aarch64", … */
  readonly arch: string;
}
