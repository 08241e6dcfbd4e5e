/**
 * WinPcap-style entry points that take a source string and dispatch to a
 * local device, a savefile or a remote (rpcap) device: {@link open} (like
 * `pcap_open`) and {@link findAllDevices} (like `pcap_findalldevs_ex`, with
 * the same names and descriptions).
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

/** How to reach a remote source. */
export interface RemoteSourceOptions {
  /** User name and password; default null authentication. */
  readonly auth?: RemoteAuth | null;
  /** `node:tls` options for `rpcaps://` (e.g. `ca`); `rpcaps://` alone turns TLS on. */
  readonly tlsOptions?: TlsOptions;
  /** Milliseconds for the connection and each reply (default 20000). */
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
}

function remoteHost(host: string): string {
  // libpcap keeps "user@" in the host; it is not part of the address.
  const at = host.lastIndexOf("@");
  return at >= 0 ? host.slice(at + 1) : host;
}

/**
 * Opens a source string: `rpcap://HOST[:PORT]/DEV` and `rpcaps://…` (a
 * remote device, capture started), `file://PATH` (a savefile), or a local
 * device (`eth0`, `rpcap://eth0`). Resolves with a `LiveCapture`,
 * `OfflineCapture` or `RemoteCapture`; all read the same way (`for await`,
 * `packets()`, `batches()`).
 */
export async function open(
  source: string,
  options: OpenOptions = {},
): Promise<LiveCapture | OfflineCapture | RemoteCapture> {
  const s = parseSource(source);
  if (s.type === "file") {
    const cap = openOffline(s.name, { precision: options.precision });
    if (options.filter !== undefined) {
      try {
        cap.setFilter(options.filter);
      } catch (e) {
        cap.close();
        throw e;
      }
    }
    return cap;
  }
  if (s.type === "local") {
    const { auth: _a, tlsOptions: _t, timeout: _o, precision: _p, transport: _tr, ...live } =
      options;
    return openLive(s.name, { ...live, timeout: options.timeout });
  }
  if (s.host === "") throw new PcapError(ErrorCode.ERROR, `No host in ${source}`);
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
 *   `rpcap://HOST:PORT/DEV`, `Network adapter 'DESC' on remote node HOST`.
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
