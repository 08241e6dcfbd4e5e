/**
 * WinPcap-style entry points that take a source string and dispatch to a
 * local device, a savefile or a remote (rpcap) device: {@link open} (like
 * `pcap_open`) and {@link findAllDevices} (like `pcap_findalldevs_ex`, with
 * the same names and descriptions).
 *
 * A remote source (`rpcap://HOST[:PORT]/…`) goes one of two routes, chosen by
 * the `via` option:
 * - `"library"`: the loaded library's own client, `pcap_open` and
 *   `pcap_findalldevs_ex` (Npcap, WinPcap, libpcap built with remote
 *   capture). `open()` resolves with a {@link LibraryRemoteCapture}, a
 *   `LiveCapture` on libpcap's rpcap handle.
 * - `"typescript"`: this package's client (`connectRemote`), on any library,
 *   even none with remote capture (Debian's and macOS's libpcap). `open()`
 *   resolves with a `RemoteCapture`.
 *
 * Without `via`, the library route is taken when the library has the function,
 * except for `rpcaps://` (TLS: certificate checks and `tlsOptions` are the
 * TypeScript client's), for a port that `serveRemote()` serves in this same
 * process (libpcap's calls block the thread that server runs on), and for
 * `direction: "in" | "out"` (libpcap's client cannot ask for it); those take
 * the TypeScript route. `via: "library"` on `rpcaps://`, with a direction, or
 * on a library without the function throws a `PcapError` (`NOT_SUPPORTED`);
 * against a `serveRemote()` of this same process it would wait forever, so
 * do not ask for it there. `file://` and local sources are opened the same way
 * whatever `via` says.
 *
 * @module
 */

import { readdirSync, statSync } from "node:fs";
import type { LiveCapture, OfflineCapture } from "../capture.ts";
import { listDevices } from "../devices.ts";
import type { Device } from "../devices.ts";
import { ErrorCode, PcapError } from "../errors.ts";
import { type LiveOptions, openLive, openOffline } from "../open.ts";
import type { TimestampPrecision } from "../packet.ts";
import {
  connectRemote,
  type RemoteAuth,
  type RemoteCapture,
  type RemoteOpenOptions,
} from "./client.ts";
import type { ConnectionOptions as TlsOptions } from "node:tls";
import { createSource, parseSource } from "./source.ts";
import {
  chooseRoute,
  filteredOrClosed,
  findAllDevicesThroughLibrary,
  type LibraryRemoteCapture,
  openThroughLibrary,
  type RemoteRoute,
} from "./library.ts";

/** How to reach a remote source. */
export interface RemoteSourceOptions {
  /** User name and password; default null authentication. */
  readonly auth?: RemoteAuth | null;
  /**
   * Which rpcap client serves a remote source: `"library"` (the loaded
   * library's `pcap_open` / `pcap_findalldevs_ex`) or `"typescript"` (this
   * package's client). Default: the library when it has the function, except
   * for `rpcaps://`, a port served by `serveRemote()` in this process, and
   * `direction: "in" | "out"`, which take the TypeScript client. An explicit
   * `"library"` that cannot be honoured (no such function, `rpcaps://`, a
   * direction) throws a `PcapError` (`NOT_SUPPORTED`); libpcap's calls block
   * the JS thread, so never ask for it against a `serveRemote()` of this same
   * process. Ignored for `file://` and local sources.
   */
  readonly via?: RemoteRoute;
  /** `node:tls` options for `rpcaps://` (e.g. `ca`); `rpcaps://` alone turns TLS on. */
  readonly tlsOptions?: TlsOptions;
  /**
   * Milliseconds for the connection and each reply (default 20000; TypeScript
   * route only: libpcap uses its own). For a local source, the read timeout.
   */
  readonly timeout?: number;
}

/** Options of {@link open}: those of `openLive`, `openOffline` and `RemoteClient.open`. */
export interface OpenOptions
  extends RemoteSourceOptions, Omit<LiveOptions, "filter" | "direction"> {
  /** A filter expression set at once. */
  readonly filter?: string;
  /** Savefiles: timestamp precision. */
  readonly precision?: TimestampPrecision;
  /** Which directions to capture. */
  readonly direction?: "inout" | "in" | "out";
  /** Remote: `tcp` (default) or `udp` data channel. */
  readonly transport?: "tcp" | "udp";
  /**
   * Library route: `pcap_open`'s read timeout in milliseconds (default 20).
   * libpcap gives half to the server and waits up to the other half for data
   * on each read, blocking the JS thread that long.
   */
  readonly readTimeout?: number;
  /**
   * Library route: more `PCAP_OPENFLAG_*` bits ({@link OpenFlag}) for
   * `pcap_open`, e.g. `OpenFlag.NOCAPTURE_RPCAP`; `promiscuous` and
   * `transport: "udp"` set theirs.
   */
  readonly openFlags?: number;
}

/** The device name inside a source string libpcap made. */
function deviceOf(source: string): string {
  try {
    return parseSource(source).name;
  } catch {
    return source;
  }
}

function remoteHost(host: string): string {
  // libpcap keeps "user@" in the host; it is not part of the address.
  const at = host.lastIndexOf("@");
  return at >= 0 ? host.slice(at + 1) : host;
}

/**
 * Opens a source string: `rpcap://HOST[:PORT]/DEV` and `rpcaps://…` (a
 * remote device), `file://PATH` (a savefile), or a local device (`eth0`,
 * `rpcap://eth0`). Resolves with a `LiveCapture`, `OfflineCapture`, or for a
 * remote device a {@link LibraryRemoteCapture} (library route: libpcap's
 * `pcap_open`; the capture starts on the first read) or a `RemoteCapture`
 * (TypeScript route; started at once); see `via` in {@link RemoteSourceOptions}.
 * All read the same way (`for await`, `packets()`, `batches()`); both remote
 * kinds have `via` saying which route was taken.
 *
 * ```ts
 * import { open } from "@netcap/pcap/remote";
 *
 * const capture = await open("rpcap://10.0.0.5/eth0", {
 *   auth: { username: "alice", password: "secret" },
 *   filter: "udp port 53",
 * });
 * console.log(capture.via); // "library" where pcap_open exists, else "typescript"
 * for await (const packet of capture) console.log(packet.length);
 * ```
 */
export async function open(
  source: string,
  options: OpenOptions = {},
): Promise<LiveCapture | OfflineCapture | RemoteCapture | LibraryRemoteCapture> {
  const s = parseSource(source);
  if (s.type === "file") {
    return filteredOrClosed(openOffline(s.name, { precision: options.precision }), options.filter);
  }
  if (s.type === "local") {
    const {
      auth: _a,
      tlsOptions: _t,
      timeout: _o,
      precision: _p,
      transport: _tr,
      via: _v,
      readTimeout: _r,
      openFlags: _f,
      ...live
    } = options;
    return openLive(s.name, { ...live, timeout: options.timeout });
  }
  if (s.host === "") throw new PcapError(ErrorCode.ERROR, `No host in ${source}`);
  const route = chooseRoute({
    via: options.via,
    symbol: "pcap_open",
    source: s,
    unsupported: options.direction === "in" || options.direction === "out"
      ? `libpcap's rpcap client cannot capture one direction (direction: "${options.direction}")`
      : null,
  });
  if (route === "library") {
    return openThroughLibrary(source, s.name, {
      auth: options.auth,
      snaplen: options.snaplen,
      promiscuous: options.promiscuous,
      transport: options.transport,
      filter: options.filter,
      readTimeout: options.readTimeout,
      openFlags: options.openFlags,
    });
  }
  const client = await connectRemote({
    host: remoteHost(s.host),
    port: s.port === "" ? undefined : s.port,
    auth: options.auth,
    tls: s.tls ? (options.tlsOptions ?? true) : undefined,
    timeout: options.timeout,
  });
  try {
    const o: RemoteOpenOptions = {
      snaplen: options.snaplen,
      promiscuous: options.promiscuous,
      filter: options.filter,
      direction: options.direction,
      transport: options.transport,
    };
    return await client.open(s.name, o);
  } catch (e) {
    await client.close();
    throw e;
  }
}

/** A device or file as {@link findAllDevices} lists it: `name` is a source string. */
export interface SourceDevice extends Device {
  /** The plain device name (or file path) inside the source string. */
  readonly device: string;
}

/**
 * Lists what a source offers, like `pcap_findalldevs_ex`, with libpcap's
 * names and descriptions:
 * - `rpcap://` (or ""): local devices, named `rpcap://DEV`, described
 *   `Network adapter 'DESC' on local host`;
 * - `file://DIR`: the savefiles in a folder that libpcap can open,
 *   `file://DIR/NAME`, `File 'PATH' on local host`;
 * - `rpcap://HOST[:PORT]/`: the devices of an rpcap server,
 *   `rpcap://HOST:PORT/DEV`, `Network adapter 'DESC' on remote node HOST`:
 *   through `pcap_findalldevs_ex` itself (library route) or the TypeScript
 *   client, as `via` in {@link RemoteSourceOptions} decides.
 */
export async function findAllDevices(
  source = "rpcap://",
  options: RemoteSourceOptions = {},
): Promise<SourceDevice[]> {
  const s = parseSource(source);
  if (s.type === "local") {
    const devices = listDevices();
    if (devices.length === 0) {
      throw new PcapError(
        ErrorCode.ERROR,
        "No interfaces found! Make sure libpcap/Npcap is properly installed on the local machine.",
      );
    }
    return devices.map((d) => ({
      ...d,
      device: d.name,
      name: createSource({ type: "local", name: d.name }),
      description: `Network adapter '${
        d.description || createSource({ type: "local", name: d.name })
      }' on local host`,
    }));
  }
  if (s.type === "file") {
    const dir = s.name.endsWith("/") ? s.name : s.name + "/";
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      throw new PcapError(ErrorCode.IO, `Error when listing files: does folder '${dir}' exist?`);
    }
    const out: SourceDevice[] = [];
    for (const f of names.sort()) {
      const path = dir + f;
      try {
        if (!statSync(path).isFile()) continue;
        openOffline(path).close();
      } catch {
        continue;
      }
      out.push({
        name: createSource({ type: "file", name: path }),
        device: path,
        description: `File '${path}' on local host`,
        flags: {
          loopback: false,
          up: false,
          running: false,
          wireless: false,
          connectionStatus: "unknown",
        },
        rawFlags: 0,
        addresses: [],
      });
    }
    return out;
  }
  if (s.host === "") throw new PcapError(ErrorCode.ERROR, `No host in ${source}`);
  if (chooseRoute({ via: options.via, symbol: "pcap_findalldevs_ex", source: s }) === "library") {
    return findAllDevicesThroughLibrary(source, options.auth).map((d) => ({
      ...d,
      device: deviceOf(d.name),
    }));
  }
  const client = await connectRemote({
    host: remoteHost(s.host),
    port: s.port === "" ? undefined : s.port,
    auth: options.auth,
    tls: s.tls ? (options.tlsOptions ?? true) : undefined,
    timeout: options.timeout,
  });
  try {
    const devices = await client.listDevices();
    return devices.map(({ source: _src, ...d }) => ({
      ...d,
      device: d.name,
      name: createSource({ type: "remote", host: s.host, port: s.port, name: d.name, tls: s.tls }),
      description: d.description
        ? `Network adapter '${d.description}' on remote node ${s.host}`
        : null,
    }));
  } finally {
    await client.close();
  }
}
