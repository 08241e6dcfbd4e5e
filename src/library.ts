/**
 * Loading the native library explicitly, and what it can do.
 *
 * @module
 */

import { pcapSymbols } from "../ffi/symbols.ts";
import { ErrorCode, PcapError } from "./errors.ts";
import { isLoaded, native, setLoadOptions, versionText } from "./native.ts";

/** Which packet-capture library was loaded. */
export type LibraryFlavor = "libpcap" | "Npcap" | "WinPcap";

/** Optional capabilities of the loaded library. */
export interface LibraryFeatures {
  /** `pcap_init` (libpcap 1.10): strings are UTF-8 on every platform. */
  readonly init: boolean;
  /** Immediate mode (libpcap 1.5). */
  readonly immediateMode: boolean;
  /** Nanosecond timestamps (libpcap 1.5). */
  readonly timestampPrecision: boolean;
  /** `pcap_get_selectable_fd` (UNIX): waiting without polling. */
  readonly selectableFd: boolean;
  /** `pcap_open`, `pcap_findalldevs_ex`, source strings: remote capture. */
  readonly remote: boolean;
  /** WinPcap/Npcap send queues (`pcap_sendqueue_*`). */
  readonly sendQueue: boolean;
  /** WinPcap/Npcap statistics mode (`pcap_setmode`). */
  readonly statisticsMode: boolean;
  /** `pcap_stats_ex`. */
  readonly statsEx: boolean;
  /** `pcap_dump_open_append` (libpcap 1.7). */
  readonly dumpAppend: boolean;
  /** `pcap_open_dead` (absent from Wine's built-in wpcap.dll). */
  readonly openDead: boolean;
  /** `open_memstream` in the C library: the batch capture path. */
  readonly memoryStreams: boolean;
}

/** What {@link libraryInfo} reports. */
export interface LibraryInfo {
  /** The path or name the library was loaded from. */
  readonly path: string;
  /** `pcap_lib_version()`. */
  readonly version: string;
  /** libpcap, Npcap or WinPcap. */
  readonly flavor: LibraryFlavor;
  /** The runtime. */
  readonly runtime: "deno" | "bun";
  /** Optional capabilities. */
  readonly features: LibraryFeatures;
  /** Optional functions the library lacks. */
  readonly missing: readonly string[];
}

/** Options of {@link loadLibrary}. */
export interface LoadLibraryOptions {
  /** Load exactly this file instead of searching (overrides `PCAP_LIBRARY`). */
  readonly path?: string;
}

/**
 * Loads the native library now, optionally from an explicit path. Without
 * this call the library is loaded on first use: an explicit `path`, else
 * `PCAP_LIBRARY`, else the platform's usual names. Throws a
 * {@link PcapError} (`LIBRARY_NOT_FOUND`) naming every path tried.
 *
 * ```ts
 * import { loadLibrary } from "@netcap/pcap";
 *
 * const info = loadLibrary({ path: "/opt/libpcap/lib/libpcap.so.1" });
 * console.log(info.version, info.features.remote);
 * ```
 */
export function loadLibrary(options: LoadLibraryOptions = {}): LibraryInfo {
  if (options.path !== undefined && typeof options.path !== "string") {
    throw new TypeError("options.path must be a string");
  }
  if (isLoaded()) {
    if (options.path !== undefined && options.path !== native().path) {
      throw new PcapError(
        ErrorCode.ERROR,
        `libpcap is already loaded from ${native().path}; load it before any other call`,
      );
    }
  } else {
    setLoadOptions(options);
  }
  return libraryInfo();
}

/**
 * Facts about the loaded library (loads it if needed).
 *
 * ```ts
 * import { libraryInfo } from "@netcap/pcap";
 *
 * const { version, flavor, features } = libraryInfo();
 * if (!features.sendQueue) console.log(`${flavor} ${version}: send queues are emulated`);
 * ```
 */
export function libraryInfo(): LibraryInfo {
  const n = native();
  const s = n.pcap.symbols as Record<string, unknown>;
  const has = (name: string): boolean => s[name] !== null && s[name] !== undefined;
  const version = versionText();
  const flavor: LibraryFlavor = /npcap/i.test(version)
    ? "Npcap"
    : /winpcap/i.test(version)
    ? "WinPcap"
    : "libpcap";
  const missing = Object.entries(pcapSymbols)
    .filter(([name, def]) => (def as { optional?: boolean }).optional && !has(name))
    .map(([name]) => name);
  return {
    path: n.path,
    version,
    flavor,
    runtime: n.backend.runtime,
    features: {
      init: has("pcap_init"),
      immediateMode: has("pcap_set_immediate_mode"),
      timestampPrecision: has("pcap_set_tstamp_precision"),
      selectableFd: has("pcap_get_selectable_fd"),
      remote: has("pcap_open") && has("pcap_findalldevs_ex"),
      sendQueue: has("pcap_sendqueue_alloc") && has("pcap_sendqueue_transmit"),
      statisticsMode: has("pcap_setmode"),
      statsEx: has("pcap_stats_ex"),
      dumpAppend: has("pcap_dump_open_append"),
      openDead: has("pcap_open_dead"),
      memoryStreams: n.libc?.symbols.open_memstream != null,
    },
    missing,
  };
}
