/**
 * Finds and loads libpcap (or Npcap's / WinPcap's `wpcap.dll`) and the C
 * library, by explicit path, `PCAP_LIBRARY`, or the platform's usual names.
 *
 * @module
 */

import { ErrorCode, PcapError } from "../src/errors.ts";
import { backend } from "./backend.ts";
import { type LibcSymbols, libcSymbols, type PcapSymbols, pcapSymbols } from "./symbols.ts";
import type { Backend, NativeLibrary } from "./types.ts";

/** `PCAP_CHAR_ENC_UTF_8` for `pcap_init`. */
const PCAP_CHAR_ENC_UTF_8 = 1;

/**
 * Functions that Wine's built-in `wpcap.dll` exports as stubs (calling one
 * aborts the process) or as local-only stand-ins: they are treated as absent there.
 */
export const wineBuiltinStubs: readonly string[] = [
  "pcap_open_dead",
  "pcap_open_offline",
  "pcap_dump_close",
  "pcap_dump_file",
  "pcap_dump_flush",
  "pcap_dump_ftell",
  "pcap_file",
  "pcap_fileno",
  "pcap_is_swapped",
  "pcap_offline_filter",
  "pcap_createsrcstr",
  "pcap_getevent",
  "pcap_setmode",
  "pcap_setmintocopy",
  "pcap_setsampling",
  "pcap_stats_ex",
  "pcap_sendqueue_alloc",
  "pcap_sendqueue_destroy",
  "pcap_sendqueue_queue",
  "pcap_sendqueue_transmit",
  "pcap_live_dump",
  "pcap_live_dump_ended",
  "bpf_image",
  // Not stubs, but not remote capture either: Wine's pcap_open opens the source string as a
  // local device, and its pcap_findalldevs_ex lists local devices whatever the source. With
  // them absent, rpcap:// sources go through this package's own client.
  "pcap_open",
  "pcap_findalldevs_ex",
];

/** What a successful load gives. */
export interface Native {
  /** The back end in use. */
  readonly backend: Backend;
  /** libpcap's functions. */
  readonly pcap: NativeLibrary<PcapSymbols>;
  /** The C library's functions, or `null` where it could not be loaded. */
  readonly libc: NativeLibrary<LibcSymbols> | null;
  /** The path or name libpcap was loaded from. */
  readonly path: string;
  /** Every path tried, in order, with the loader's answer for the failed ones. */
  readonly tried: readonly { path: string; error: string | null }[];
}

/** Options of {@link loadNative}. */
export interface LoadOptions {
  /** Load exactly this file (a path or a name the system loader resolves). */
  readonly path?: string;
}

/**
 * The names to try on an OS, in order. An explicit path or `PCAP_LIBRARY`
 * overrides the list: only that one is tried, so a wrong override fails loudly.
 */
export function libraryCandidates(
  os: string,
  env: (name: string) => string | undefined,
  explicit?: string,
): string[] {
  if (explicit) return [explicit];
  const fromEnv = env("PCAP_LIBRARY");
  if (fromEnv) return [fromEnv];
  switch (os) {
    case "windows": {
      const root = (env("SystemRoot") ?? env("SYSTEMROOT") ?? "C:\\Windows").replace(/\\+$/, "");
      // Absolute paths first: a bare name would search the working directory before System32.
      return [`${root}\\System32\\Npcap\\wpcap.dll`, `${root}\\System32\\wpcap.dll`, "wpcap.dll"];
    }
    case "darwin":
      return ["libpcap.A.dylib", "libpcap.dylib", "/usr/lib/libpcap.A.dylib"];
    default:
      return ["libpcap.so.1", "libpcap.so.0.8", "libpcap.so"];
  }
}

/** The C library's name on an OS. */
export function libcName(os: string): string {
  if (os === "darwin") return "libSystem.B.dylib";
  if (os === "windows") return "msvcrt.dll";
  return "libc.so.6";
}

const installHint = [
  "Install libpcap (or Npcap on Windows), or set PCAP_LIBRARY to the library's path:",
  "  Debian/Ubuntu: apt-get install libpcap0.8",
  "  Fedora/RHEL:   dnf install libpcap",
  "  Alpine:        apk add libpcap",
  "  macOS:         libpcap ships with the system (or: brew install libpcap)",
  "  Windows:       install Npcap from https://npcap.com",
].join("\n");

function ffiAllowed(): boolean {
  // deno-lint-ignore no-explicit-any
  const D = (globalThis as any).Deno;
  if (!D?.permissions?.querySync || "Bun" in globalThis) return true;
  try {
    return D.permissions.querySync({ name: "ffi" }).state === "granted";
  } catch {
    return true;
  }
}

/** Loads libpcap and the C library; throws a {@link PcapError} naming every path tried. */
export function loadNative(options: LoadOptions = {}): Native {
  let b: Backend;
  try {
    b = backend();
  } catch (e) {
    throw new PcapError(ErrorCode.NOT_SUPPORTED, (e as Error).message);
  }
  if (!ffiAllowed()) {
    throw new PcapError(ErrorCode.LIBRARY_NOT_FOUND, "Cannot load libpcap: FFI is not allowed", {
      hint: "Run Deno with --allow-ffi (deno run --allow-ffi script.ts).",
    });
  }
  const tried: { path: string; error: string | null }[] = [];
  let pcap: NativeLibrary<PcapSymbols> | null = null;
  for (const path of libraryCandidates(b.os, (n) => b.env(n), options.path)) {
    try {
      pcap = b.open(path, pcapSymbols);
      tried.push({ path, error: null });
      break;
    } catch (e) {
      tried.push({ path, error: e instanceof Error ? e.message : String(e) });
    }
  }
  if (!pcap) {
    const list = tried.map((t) => `  ${t.path}: ${t.error}`).join("\n");
    throw new PcapError(
      ErrorCode.LIBRARY_NOT_FOUND,
      `Could not load libpcap. Tried:\n${list}`,
      { hint: installHint },
    );
  }
  let libc: NativeLibrary<LibcSymbols> | null = null;
  try {
    libc = b.open(libcName(b.os), libcSymbols);
  } catch {
    libc = null;
  }
  // Wine's built-in wpcap.dll forwards to the host's libpcap, whose version text it reports.
  const version = b.readCString(pcap.symbols.pcap_lib_version()) ?? "";
  if (b.os === "windows" && /TPACKET/.test(version)) {
    for (const name of wineBuiltinStubs) {
      if (name in pcap.symbols) {
        Object.defineProperty(pcap.symbols, name, { value: null, enumerable: true });
      }
    }
  }
  const init = pcap.symbols.pcap_init;
  if (init) {
    const errbuf = new Uint8Array(256);
    init(PCAP_CHAR_ENC_UTF_8, errbuf);
  }
  return { backend: b, pcap, libc, path: pcap.path, tried };
}
