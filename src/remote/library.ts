/**
 * The library route of `open()` and `findAllDevices()` for `rpcap://`
 * sources: libpcap's own remote-capture client (`pcap_open`,
 * `pcap_findalldevs_ex`), present in Npcap, WinPcap and libpcap built with
 * `--enable-remote`. The other route is the TypeScript client of
 * `./client.ts`.
 *
 * @module
 */

import type { BatchOptions } from "../capture.ts";
import { LiveCapture } from "../capture.ts";
import type { PacketBatch } from "../batch.ts";
import { type Device, takeDeviceList } from "../devices.ts";
import { ErrorCode, PcapError } from "../errors.ts";
import { cString, errorBuffer, fromCBuffer, native, requireSymbol, structs } from "../native.ts";
import type { Ptr } from "../../ffi/types.ts";
import { type RemoteAuth, RemoteError } from "./client.ts";
import { DEFAULT_PORT } from "./protocol.ts";
import { servedInProcess } from "./inprocess.ts";
import type { ParsedSource } from "./source.ts";

/**
 * `PCAP_OPENFLAG_*`: the `flags` bits of `pcap_open` (library route only).
 *
 * ```ts
 * import { open, OpenFlag } from "@netcap/pcap/remote";
 *
 * const cap = await open("rpcap://10.0.0.2/eth0", { openFlags: OpenFlag.NOCAPTURE_RPCAP });
 * ```
 */
export const OpenFlag: {
  /** `PCAP_OPENFLAG_PROMISCUOUS`: promiscuous mode. */
  readonly PROMISCUOUS: 1;
  /** `PCAP_OPENFLAG_DATATX_UDP`: the data channel over UDP. */
  readonly DATATX_UDP: 2;
  /** `PCAP_OPENFLAG_NOCAPTURE_RPCAP`: leave the rpcap connections' own traffic out. */
  readonly NOCAPTURE_RPCAP: 4;
  /** `PCAP_OPENFLAG_NOCAPTURE_LOCAL`: leave locally sent packets out (Windows). */
  readonly NOCAPTURE_LOCAL: 8;
  /** `PCAP_OPENFLAG_MAX_RESPONSIVENESS`: deliver packets at once (immediate mode). */
  readonly MAX_RESPONSIVENESS: 16;
} = {
  PROMISCUOUS: 1,
  DATATX_UDP: 2,
  NOCAPTURE_RPCAP: 4,
  NOCAPTURE_LOCAL: 8,
  MAX_RESPONSIVENESS: 16,
};

/**
 * `RPCAP_RMTAUTH_*`: the `type` of `struct pcap_rmtauth`.
 *
 * ```ts
 * import { RemoteAuthType } from "@netcap/pcap/remote";
 *
 * console.log(RemoteAuthType.PASSWORD); // 1
 * ```
 */
export const RemoteAuthType: {
  /** `RPCAP_RMTAUTH_NULL`: no authentication. */
  readonly NULL: 0;
  /** `RPCAP_RMTAUTH_PWD`: user name and password. */
  readonly PASSWORD: 1;
} = { NULL: 0, PASSWORD: 1 };

/**
 * Which client serves an `rpcap://` source: libpcap's (`library`) or this package's.
 *
 * ```ts
 * import { open } from "@netcap/pcap/remote";
 *
 * const cap = await open("rpcap://10.0.0.2/eth0", { via: "typescript" });
 * console.log(cap.via); // "typescript"
 * ```
 */
export type RemoteRoute = "library" | "typescript";

/** Read timeout given to `pcap_open` when none is asked for, in milliseconds. */
export const DEFAULT_LIBRARY_READ_TIMEOUT = 20;

/** Packets per read of `batches()` when `maxPackets` is not given. */
const DEFAULT_BATCH = 1024;

/**
 * An `rpcap://` capture opened by libpcap's own client (`pcap_open`): a real
 * `pcap_t`, so everything of {@link LiveCapture} that libpcap's rpcap client
 * implements works (`next`, `dispatch`, `loop`, `batches`, `for await`,
 * `setFilter`, `stats`). What differs from a local capture:
 *
 * - It has no descriptor to wait on and no non-blocking mode (libpcap refuses
 *   `pcap_setnonblock` on rpcap handles): each read waits in libpcap for up
 *   to half the read timeout (`readTimeout` of `open()`, default 20 ms),
 *   blocking the JS thread that long, and the async paths poll between
 *   reads. `close()` and an `AbortSignal` end them within one read.
 * - A `dispatch()` or `loop()` with no count reads until the stream pauses
 *   for half the read timeout; `batches()` reads at most 1024 packets per
 *   batch unless `maxPackets` says otherwise.
 * - libpcap starts the remote capture on the first read; a filter set before
 *   that goes with the start request.
 *
 * ```ts
 * import { LibraryRemoteCapture, open } from "@netcap/pcap/remote";
 *
 * const cap = await open("rpcap://10.0.0.2/eth0"); // Npcap, or a remote-enabled libpcap
 * if (cap instanceof LibraryRemoteCapture) console.log(cap.source, cap.via);
 * ```
 */
export class LibraryRemoteCapture extends LiveCapture {
  /** The source string it was opened with (`rpcap://host:port/device`). */
  readonly source: string;
  /** Which client runs it: always `library` (a `RemoteCapture` says `typescript`). */
  readonly via: "library" = "library";

  /** @internal Use `open()` of `@netcap/pcap/remote`. */
  constructor(ptr: Ptr, source: string, device: string, readTimeoutMs: number) {
    super(ptr, device, "micro", null, readTimeoutMs);
    this.source = source;
  }

  /** @internal rpcap handles have no non-blocking mode; reads are bounded by the read timeout. */
  protected override enterAsync(): () => void {
    return () => {};
  }

  /** @internal No descriptor: the async paths poll. */
  protected override selectableFd(): number {
    return -1;
  }

  /** Like {@link LiveCapture.columnBatches}; `maxPackets` defaults to 1024. */
  override columnBatches(options: BatchOptions = {}): AsyncGenerator<PacketBatch, void, undefined> {
    return super.columnBatches({ ...options, maxPackets: options.maxPackets ?? DEFAULT_BATCH });
  }
}

/** True when the loaded library has `name` (loads it; false when none loads). */
export function libraryHas(name: "pcap_open" | "pcap_findalldevs_ex"): boolean {
  try {
    return native().pcap.symbols[name] != null;
  } catch {
    return false;
  }
}

/** Options of {@link chooseRoute}. */
interface RouteQuery {
  readonly via?: RemoteRoute;
  readonly symbol: "pcap_open" | "pcap_findalldevs_ex";
  readonly source: ParsedSource;
  /** A reason the library cannot do what was asked, or null. */
  readonly unsupported?: string | null;
}

/**
 * Which route serves a remote source: `via` when given (checking that the
 * library route can be taken), else the library when it has the function and
 * nothing rules it out (TLS, a one-direction capture, a port that
 * `serveRemote()` serves in this process), else the TypeScript client.
 */
export function chooseRoute(q: RouteQuery): RemoteRoute {
  if (q.via !== undefined && q.via !== "library" && q.via !== "typescript") {
    throw new TypeError('via must be "library" or "typescript"');
  }
  if (q.via === "typescript") return "typescript";
  const reason = q.source.tls
    ? "rpcaps:// (TLS) is served by the TypeScript client only: libpcap's TLS client does not " +
      "verify the server's certificate and its reads block the thread until data comes"
    : q.unsupported ?? null;
  if (q.via === "library") {
    requireSymbol(q.symbol);
    if (reason) throw new PcapError(ErrorCode.NOT_SUPPORTED, `via: "library": ${reason}`);
    return "library";
  }
  if (reason !== null || !libraryHas(q.symbol)) return "typescript";
  // A server of this process on that port (any host: the port alone decides, to be safe)
  // could not answer libpcap's blocking calls, which hold the thread it runs on.
  const port = q.source.port === "" ? DEFAULT_PORT : Number(q.source.port);
  return servedInProcess(port) ? "typescript" : "library";
}

/** A `struct pcap_rmtauth` for `auth` (null: NULL, i.e. null authentication). */
function authStruct(auth: RemoteAuth | null | undefined): { ptr: Ptr; keep: Uint8Array[] } {
  if (auth === undefined || auth === null) return { ptr: null, keep: [] };
  if (typeof auth.username !== "string" || typeof auth.password !== "string") {
    throw new TypeError("auth needs a username and a password (strings)");
  }
  const b = native().backend;
  const layout = structs().pcap_rmtauth;
  const user = cString(auth.username);
  const pass = cString(auth.password);
  const buf = new Uint8Array(layout.size);
  layout.write(new DataView(buf.buffer), {
    type: RemoteAuthType.PASSWORD,
    username: BigInt(b.address(b.pointerOf(user))),
    password: BigInt(b.address(b.pointerOf(pass))),
  });
  return { ptr: b.pointerOf(buf), keep: [user, pass, buf] };
}

/** What {@link openThroughLibrary} needs. */
export interface LibraryOpenOptions {
  readonly auth?: RemoteAuth | null;
  readonly snaplen?: number;
  readonly promiscuous?: boolean;
  readonly transport?: "tcp" | "udp";
  readonly filter?: string;
  readonly readTimeout?: number;
  readonly openFlags?: number;
}

function intOption(name: string, v: unknown, min: number, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > 0x7fffffff) {
    throw new RangeError(`${name} must be an integer of at least ${min}`);
  }
  return v;
}

/**
 * `pcap_open(source, …)` on a remote source, wrapped as a
 * {@link LibraryRemoteCapture}; libpcap's error text becomes a `RemoteError`.
 */
export function openThroughLibrary(
  source: string,
  device: string,
  options: LibraryOpenOptions,
): LibraryRemoteCapture {
  const snaplen = intOption("snaplen", options.snaplen, 1, 65535);
  const readTimeout = intOption(
    "readTimeout",
    options.readTimeout,
    0,
    DEFAULT_LIBRARY_READ_TIMEOUT,
  );
  if (
    options.transport !== undefined && options.transport !== "tcp" && options.transport !== "udp"
  ) {
    throw new TypeError('transport must be "tcp" or "udp"');
  }
  let flags = intOption("openFlags", options.openFlags, 0, 0);
  if (options.promiscuous) flags |= OpenFlag.PROMISCUOUS;
  if (options.transport === "udp") flags |= OpenFlag.DATATX_UDP;
  const n = native();
  const pcapOpen = requireSymbol("pcap_open");
  const auth = authStruct(options.auth);
  const errbuf = errorBuffer();
  const p: Ptr = pcapOpen(cString(source), snaplen, flags, readTimeout, auth.ptr, errbuf);
  auth.keep.length = 0; // (a use after the call: the strings stay alive through it)
  if (n.backend.isNull(p)) {
    throw new RemoteError(fromCBuffer(errbuf) || `pcap_open(${source}) failed`);
  }
  return filteredOrClosed(
    new LibraryRemoteCapture(p, source, device, readTimeout),
    options.filter,
  );
}

/**
 * Internal (shared with `./open.ts`): sets `filter` (when given) on a capture just opened
 * and returns it; closes it when the filter fails.
 */
export function filteredOrClosed<C extends { setFilter(filter: string): void; close(): void }>(
  cap: C,
  filter: string | undefined,
): C {
  if (filter !== undefined) {
    try {
      cap.setFilter(filter);
    } catch (e) {
      cap.close();
      throw e;
    }
  }
  return cap;
}

/** `pcap_findalldevs_ex(source, auth)`: the devices, parsed like `listDevices()`. */
export function findAllDevicesThroughLibrary(
  source: string,
  auth: RemoteAuth | null | undefined,
): Device[] {
  const find = requireSymbol("pcap_findalldevs_ex");
  const a = authStruct(auth);
  const out = new BigUint64Array(1);
  const errbuf = errorBuffer();
  const rc = find(cString(source), a.ptr, out, errbuf);
  a.keep.length = 0; // (a use after the call: the strings stay alive through it)
  if (rc !== 0) {
    // Free whatever libpcap may have left (it sets *alldevs to NULL on failure).
    if (out[0] !== 0n) takeDeviceList(out[0]);
    throw new RemoteError(fromCBuffer(errbuf) || `pcap_findalldevs_ex(${source}) failed`);
  }
  return takeDeviceList(out[0]);
}
