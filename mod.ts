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
