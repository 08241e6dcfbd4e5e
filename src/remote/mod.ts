/**
 * Remote capture (rpcap) in TypeScript: source strings, a client for any
 * rpcap server (libpcap's `rpcapd`, WinPcap, Npcap), and a server that
 * serves local devices to any rpcap client.
 *
 * ```ts
 * import { connectRemote, findAllDevices, open, parseSource, serveRemote } from "@netcap/pcap/remote";
 *
 * parseSource("rpcap://[fe80::1]:2002/eth0"); // { type: "remote", host: "fe80::1", … }
 * const client = await connectRemote({ host: "127.0.0.1", auth: { username, password } });
 * const capture = await client.open("eth0", { filter: "tcp port 80" });
 * for await (const packet of capture) console.log(packet.length);
 *
 * // Serve this machine's devices (loopback only unless `hostname` says otherwise).
 * const server = await serveRemote({ port: 2002, auth: { alice: "secret" } });
 * // Or in active mode (rpcapd -a): dial a client waiting in listenRemote / pcap_remoteact_accept.
 * const dialing = await serveRemote({ active: { host: "10.0.0.5", port: 2003 }, auth: { alice: "secret" } });
 *
 * // WinPcap's entry points on source strings. A remote source goes through the loaded
 * // library's own pcap_open / pcap_findalldevs_ex where it has them (Npcap, WinPcap, libpcap
 * // built with remote capture), else through the TypeScript client; `via` chooses.
 * const devices = await findAllDevices("rpcap://10.0.0.5/");
 * const live = await open("rpcap://10.0.0.5/eth0", { via: "typescript" });
 * ```
 *
 * @module
 */

export { createSource, parseSource, SOURCE_BUFFER_SIZE, SourceTypeNumber } from "./source.ts";
export type { ParsedSource, SourceParts, SourceType } from "./source.ts";
export { connectRemote, RemoteCapture, RemoteClient, RemoteError } from "./client.ts";
export type { ConnectOptions, RemoteAuth, RemoteDevice, RemoteOpenOptions } from "./client.ts";
export { DEFAULT_PORT, MAX_FILTER_INSTRUCTIONS, RemoteErrorCode } from "./protocol.ts";
export type { WireInstruction } from "./protocol.ts";
export { serveRemote } from "./server.ts";
export type { ActiveServeOptions, Authenticator, RemoteServer, ServeOptions } from "./server.ts";
export { findAllDevices, open } from "./open.ts";
export type { OpenOptions, RemoteSourceOptions, SourceDevice } from "./open.ts";
export { LibraryRemoteCapture, OpenFlag, RemoteAuthType } from "./library.ts";
export type { RemoteRoute } from "./library.ts";
export { listenRemote } from "./client.ts";
export type { ActiveListener, ListenOptions } from "./client.ts";
export { mergeRemote } from "./merge.ts";
export type { BatchSource, MergedPacket, MergeOptions } from "./merge.ts";
