/**
 * Internal: the loaded library, shared by every module of `src/`, plus small
 * helpers for C strings, error buffers and required symbols.
 *
 * @module
 */

import { loadNative, type LoadOptions, type Native } from "../ffi/loader.ts";
import { type PcapSymbols, pcapSymbols } from "../ffi/symbols.ts";
import { type PcapStructs, pcapStructs } from "../ffi/structs.ts";
import type { StructLayout } from "../ffi/layout.ts";
import { ErrorCode, PcapError } from "./errors.ts";

/** `PCAP_ERRBUF_SIZE`. */
export const ERRBUF_SIZE = 256;

let loaded: Native | null = null;
let loadOptions: LoadOptions = {};

/** Sets the options of the (not yet done) load. */
export function setLoadOptions(options: LoadOptions): void {
  loadOptions = options;
}

/** True once the library was loaded. */
export function isLoaded(): boolean {
  return loaded !== null;
}

/** The loaded library; loads it on first use (throws {@link PcapError}). */
export function native(): Native {
  if (!loaded) loaded = loadNative(loadOptions);
  return loaded;
}

/** Struct layouts of the running platform. */
export function structs(): PcapStructs {
  return pcapStructs();
}

/** A struct's bytes, written through its declared layout (fields not given are zero). */
export function structBytes(
  layout: StructLayout,
  value: Readonly<Record<string, number | bigint>>,
): Uint8Array {
  const out = new Uint8Array(layout.size);
  layout.write(new DataView(out.buffer), value);
  return out;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A NUL-terminated UTF-8 copy of `s`. */
export function cString(s: string): Uint8Array {
  const bytes = encoder.encode(s);
  const out = new Uint8Array(bytes.length + 1);
  out.set(bytes);
  return out;
}

/** A fresh `PCAP_ERRBUF_SIZE` error buffer. */
export function errorBuffer(): Uint8Array {
  return new Uint8Array(ERRBUF_SIZE);
}

/** Decodes a NUL-terminated string held in a JS buffer. */
export function fromCBuffer(buf: Uint8Array): string {
  const end = buf.indexOf(0);
  return decoder.decode(end < 0 ? buf : buf.subarray(0, end));
}

/** libpcap's version text, or "unknown". */
export function versionText(): string {
  const n = native();
  return n.backend.readCString(n.pcap.symbols.pcap_lib_version()) ?? "unknown";
}

/**
 * The function `name`, or a {@link PcapError} (`NOT_SUPPORTED`) saying which
 * function is missing from which library.
 */
// deno-lint-ignore no-explicit-any
export function requireSymbol(name: keyof PcapSymbols): (...args: any[]) => any {
  const n = native();
  const f = n.pcap.symbols[name];
  if (!f) {
    const since = (pcapSymbols[name] as { since?: string }).since;
    throw new PcapError(
      ErrorCode.NOT_SUPPORTED,
      `${name}() is not available in ${versionText()} (${n.path})` +
        (since ? `: it needs ${since}` : ""),
    );
  }
  return f;
}
