/**
 * Listing capture devices (`pcap_findalldevs`) and their network
 * (`pcap_lookupnet`).
 *
 * @module
 */

import type { Ptr } from "../ffi/types.ts";
import { formatIPv4, formatIPv6, formatMac, prefixLength } from "./address.ts";
import { ErrorCode, PcapError } from "./errors.ts";
import { cString, errorBuffer, fromCBuffer, native, structs } from "./native.ts";
import { hostAbi } from "../ffi/layout.ts";

/** Address families of {@link DeviceAddress}. */
export type AddressFamily = "ipv4" | "ipv6" | "link" | "unknown";

/** A socket address of a device. */
export interface SocketAddress {
  /** `ipv4`, `ipv6`, `link` (MAC: `AF_PACKET` on Linux, `AF_LINK` on macOS) or `unknown`. */
  readonly family: AddressFamily;
  /** The OS's address family number (AF_INET6 is 10 on Linux, 30 on macOS, 23 on Windows). */
  readonly familyNumber: number;
  /** Printable address: dotted quad, RFC 5952 IPv6, or colon-separated hex. Empty if none. */
  readonly address: string;
  /** The raw address bytes (4, 16, or the hardware address). */
  readonly bytes: Uint8Array;
  /** IPv6 scope id (interface index of a link-local address); 0 otherwise. */
  readonly scopeId: number;
}

/** One address entry of a device (`struct pcap_addr`). */
export interface DeviceAddress extends SocketAddress {
  /** Printable netmask, or null. */
  readonly netmask: string | null;
  /** Prefix length from the netmask, or null. */
  readonly prefixLength: number | null;
  /** Printable broadcast address, or null. */
  readonly broadcast: string | null;
  /** Printable point-to-point destination address, or null. */
  readonly destination: string | null;
}

/** `PCAP_IF_CONNECTION_STATUS` values. */
export type ConnectionStatus = "unknown" | "connected" | "disconnected" | "not-applicable";

/** Device flags (`PCAP_IF_*`). */
export interface DeviceFlags {
  /** `PCAP_IF_LOOPBACK`. */
  readonly loopback: boolean;
  /** `PCAP_IF_UP`. */
  readonly up: boolean;
  /** `PCAP_IF_RUNNING`. */
  readonly running: boolean;
  /** `PCAP_IF_WIRELESS`. */
  readonly wireless: boolean;
  /** `PCAP_IF_CONNECTION_STATUS`. */
  readonly connectionStatus: ConnectionStatus;
}

/** A capture device (`pcap_if_t`), copied into JS values. */
export interface Device {
  /** The name to pass to `openLive` (e.g. `eth0`, `\Device\NPF_{…}`). */
  readonly name: string;
  /** Human-readable description, or null. */
  readonly description: string | null;
  /** Decoded flags. */
  readonly flags: DeviceFlags;
  /** The raw `flags` word. */
  readonly rawFlags: number;
  /** Every address libpcap reports. */
  readonly addresses: readonly DeviceAddress[];
}

const connection: readonly ConnectionStatus[] = [
  "unknown",
  "connected",
  "disconnected",
  "not-applicable",
];

function decodeFlags(f: number): DeviceFlags {
  return {
    loopback: (f & 0x1) !== 0,
    up: (f & 0x2) !== 0,
    running: (f & 0x4) !== 0,
    wireless: (f & 0x8) !== 0,
    connectionStatus: connection[(f & 0x30) >> 4],
  };
}

/** Decodes the `struct sockaddr` at `p` (null for a NULL pointer). @internal */
export function readSockaddr(p: Ptr): SocketAddress | null {
  const n = native();
  const b = n.backend;
  if (b.isNull(p)) return null;
  const s = structs();
  const abi = hostAbi;
  const head = new DataView(b.copy(p, 2).buffer);
  const familyNumber = abi.sockaddrHasLen ? head.getUint8(1) : head.getUint16(0, true);
  if (familyNumber === abi.af.inet) {
    const raw = b.copy(p, s.sockaddr_in.size);
    const bytes = raw.slice(
      s.sockaddr_in.offsetOf("sin_addr"),
      s.sockaddr_in.offsetOf("sin_addr") + 4,
    );
    return { family: "ipv4", familyNumber, address: formatIPv4(bytes), bytes, scopeId: 0 };
  }
  if (familyNumber === abi.af.inet6) {
    const raw = b.copy(p, s.sockaddr_in6.size);
    const at = s.sockaddr_in6.offsetOf("sin6_addr");
    const bytes = raw.slice(at, at + 16);
    const scopeId = new DataView(raw.buffer).getUint32(
      s.sockaddr_in6.offsetOf("sin6_scope_id"),
      abi.littleEndian,
    );
    return { family: "ipv6", familyNumber, address: formatIPv6(bytes), bytes, scopeId };
  }
  if (abi.af.link !== null && familyNumber === abi.af.link) {
    if (abi.os === "linux") {
      const L = s.sockaddr_ll;
      const raw = b.copy(p, L.size);
      const halen = Math.min(raw[L.offsetOf("sll_halen")], 8);
      const at = L.offsetOf("sll_addr");
      const bytes = raw.slice(at, at + halen);
      return {
        family: "link",
        familyNumber,
        address: formatMac(bytes, 0, halen),
        bytes,
        scopeId: 0,
      };
    }
    if (abi.os === "darwin") {
      const L = s.sockaddr_dl;
      const len = Math.max(b.copy(p, 1)[0], L.size);
      const raw = b.copy(p, len);
      const nlen = raw[L.offsetOf("sdl_nlen")];
      const alen = raw[L.offsetOf("sdl_alen")];
      const at = L.offsetOf("sdl_data") + nlen;
      const bytes = raw.slice(at, Math.min(at + alen, raw.length));
      return {
        family: "link",
        familyNumber,
        address: formatMac(bytes, 0, bytes.length),
        bytes,
        scopeId: 0,
      };
    }
  }
  return { family: "unknown", familyNumber, address: "", bytes: new Uint8Array(0), scopeId: 0 };
}

/** Walks a `pcap_if_t` list into JS values (does not free it). @internal */
export function readDeviceList(first: Ptr): Device[] {
  const n = native();
  const b = n.backend;
  const s = structs();
  const devices: Device[] = [];
  let p = first;
  let guard = 0;
  while (!b.isNull(p) && guard++ < 100000) {
    const v = s.pcap_if.read(new DataView(b.copy(p, s.pcap_if.size).buffer));
    const addresses: DeviceAddress[] = [];
    let ap = b.fromAddress(v.addresses);
    let aguard = 0;
    while (!b.isNull(ap) && aguard++ < 100000) {
      const a = s.pcap_addr.read(new DataView(b.copy(ap, s.pcap_addr.size).buffer));
      const addr = readSockaddr(b.fromAddress(a.addr));
      if (addr) {
        const mask = readSockaddr(b.fromAddress(a.netmask));
        const bcast = readSockaddr(b.fromAddress(a.broadaddr));
        const dst = readSockaddr(b.fromAddress(a.dstaddr));
        const maskUsable = mask !== null && mask.bytes.length > 0 &&
          (mask.family === addr.family || mask.family === "unknown");
        addresses.push({
          ...addr,
          netmask: maskUsable ? maskText(mask!, addr.family) : null,
          prefixLength: maskUsable ? prefixLength(mask!.bytes) : null,
          broadcast: bcast && bcast.address !== "" ? bcast.address : null,
          destination: dst && dst.address !== "" ? dst.address : null,
        });
      }
      ap = b.fromAddress(a.next);
    }
    devices.push({
      name: b.readCString(b.fromAddress(v.name)) ?? "",
      description: b.readCString(b.fromAddress(v.description)),
      flags: decodeFlags(v.flags),
      rawFlags: v.flags,
      addresses,
    });
    p = b.fromAddress(v.next);
  }
  return devices;
}

function maskText(mask: SocketAddress, family: AddressFamily): string {
  if (mask.address !== "") return mask.address;
  return family === "ipv6" ? formatIPv6(mask.bytes) : formatIPv4(mask.bytes);
}

/**
 * Every capture device libpcap can open, with every address (IPv4, IPv6,
 * MAC), flags and description, copied into plain JS values.
 *
 * ```ts
 * import { listDevices } from "@netcap/pcap";
 *
 * for (const d of listDevices()) {
 *   console.log(d.name, d.flags.up, d.addresses.map((a) => `${a.address}/${a.prefixLength}`));
 * }
 * ```
 */
export function listDevices(): Device[] {
  const n = native();
  const out = new BigUint64Array(1);
  const errbuf = errorBuffer();
  const rc = n.pcap.symbols.pcap_findalldevs(out, errbuf);
  if (rc !== 0) {
    throw new PcapError(ErrorCode.ERROR, `pcap_findalldevs failed: ${fromCBuffer(errbuf)}`, {
      status: rc,
    });
  }
  return takeDeviceList(out[0]);
}

/**
 * Reads the `pcap_if_t` list at `head` (what `pcap_findalldevs` or
 * `pcap_findalldevs_ex` stored) into JS values, then frees it with
 * `pcap_freealldevs`. @internal
 */
export function takeDeviceList(head: number | bigint): Device[] {
  const n = native();
  const b = n.backend;
  const first = b.fromAddress(head);
  try {
    return readDeviceList(first);
  } finally {
    if (!b.isNull(first)) n.pcap.symbols.pcap_freealldevs(first);
  }
}

/** What {@link lookupNet} returns. */
export interface NetworkInfo {
  /** The network number, dotted quad. */
  readonly network: string;
  /** The netmask, dotted quad. */
  readonly netmask: string;
  /** The netmask as a host-order number (for `setFilter`'s `netmask`). */
  readonly netmaskNumber: number;
  /** The network as a host-order number. */
  readonly networkNumber: number;
}

/**
 * The IPv4 network number and netmask of a device (`pcap_lookupnet`).
 *
 * ```ts
 * import { lookupNet, openLive } from "@netcap/pcap";
 *
 * const { netmaskNumber } = lookupNet("eth0");
 * using capture = openLive("eth0");
 * capture.setFilter("ip broadcast", { netmask: netmaskNumber });
 * ```
 */
export function lookupNet(device: string): NetworkInfo {
  if (typeof device !== "string") throw new TypeError("device must be a string");
  const n = native();
  const net = new Uint32Array(1);
  const mask = new Uint32Array(1);
  const errbuf = errorBuffer();
  const rc = n.pcap.symbols.pcap_lookupnet(cString(device), net, mask, errbuf);
  if (rc !== 0) {
    throw new PcapError(ErrorCode.ERROR, fromCBuffer(errbuf), { status: rc });
  }
  // libpcap stores them in network byte order in a bpf_u_int32.
  const netBytes = new Uint8Array(net.buffer);
  const maskBytes = new Uint8Array(mask.buffer);
  const toHost = (x: Uint8Array): number =>
    ((x[0] << 24) | (x[1] << 16) | (x[2] << 8) | x[3]) >>> 0;
  return {
    network: formatIPv4(netBytes),
    netmask: formatIPv4(maskBytes),
    networkNumber: toHost(netBytes),
    netmaskNumber: toHost(maskBytes),
  };
}
