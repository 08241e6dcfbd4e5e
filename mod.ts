/**
 * # @netcap/pcap
 *
 * Packet capture for Deno and Bun: libpcap, Npcap and WinPcap called
 * directly through each runtime's FFI (`Deno.dlopen`, `bun:ffi`), with no
 * compiled addon.
 *
 * ```ts
 * import { listDevices } from "@netcap/pcap";
 *
 * for (const device of listDevices()) {
 *   console.log(device.name, device.addresses.map((a) => a.address).join(" "));
 * }
 * ```
 *
 * Deno needs `--allow-ffi`; capturing needs root or `CAP_NET_RAW` and
 * `CAP_NET_ADMIN`. The library is loaded on first use (see {@link loadLibrary}).
 *
 * More entries: `@netcap/pcap/savefile` (pcap and pcapng in pure TypeScript),
 * `@netcap/pcap/decode`, `/build`, `/flow` (protocols, packet building, flows and
 * TCP reassembly), `@netcap/pcap/remote` (rpcap client and server, WinPcap source
 * strings), `@netcap/pcap/layout` (the C struct layout engine).
 *
 * @module
 */

export { ErrorCode, PcapError, PcapFormatError } from "./src/errors.ts";
export type { PcapErrorOptions } from "./src/errors.ts";
export { libraryInfo, loadLibrary } from "./src/library.ts";
export type {
  LibraryFeatures,
  LibraryFlavor,
  LibraryInfo,
  LoadLibraryOptions,
} from "./src/library.ts";
export { listDevices, lookupNet } from "./src/devices.ts";
export type {
  AddressFamily,
  ConnectionStatus,
  Device,
  DeviceAddress,
  DeviceFlags,
  NetworkInfo,
  SocketAddress,
} from "./src/devices.ts";
export { openDead, openLive, openOffline } from "./src/open.ts";
export type { DeadOptions, LiveOptions, OfflineOptions } from "./src/open.ts";
export { Capture, DeadHandle, LiveCapture, OfflineCapture, PcapHandle } from "./src/capture.ts";
export type {
  BatchOptions,
  CaptureStats,
  ColumnBatchOptions,
  Direction,
  DumpOptions,
  IterateOptions,
  PacketCallback,
} from "./src/capture.ts";
export { Packet } from "./src/packet.ts";
export { PacketBatch } from "./src/batch.ts";
export type { TimestampPrecision } from "./src/packet.ts";
export { BpfProgram, compileFilter, NETMASK_UNKNOWN } from "./src/filter.ts";
export type { BpfInstruction, CompileOptions, FilterOptions, MatchInput } from "./src/filter.ts";
export { Dumper } from "./src/dumper.ts";
export type { DumpInput } from "./src/dumper.ts";
export { LinkType, linkTypeDescription, linkTypeFromName, linkTypeName } from "./src/linktype.ts";
export { createSource, parseSource } from "./src/remote/source.ts";
export type { ParsedSource, SourceParts, SourceType } from "./src/remote/source.ts";
export { SendQueue } from "./src/sendqueue.ts";
export type { SendQueueHeader, TransmitOptions } from "./src/sendqueue.ts";
export { openStatistics } from "./src/statistics.ts";
export type { Counter, Statistics, StatisticsOptions, StatisticsSample } from "./src/statistics.ts";
