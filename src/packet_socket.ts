/**
 * Internal: a Linux packet socket on one device, for the statistics engine's own counters
 * (a ring, or an eBPF filter that counts). The socket is made with no protocol, so that
 * nothing is queued while the caller sets it up (attaches its filter, its ring), and is then
 * bound to the device for every protocol, in promiscuous mode if asked.
 *
 * @module
 */

import { cString, native, structBytes, structs } from "./native.ts";

const AF_PACKET = 17;
const SOCK_RAW = 3;
const SOL_PACKET = 263;
const PACKET_ADD_MEMBERSHIP = 1;
const PACKET_MR_PROMISC = 1;
const ETH_P_ALL = 3;

/** An open, bound packet socket. */
export interface PacketSocket {
  readonly fd: number;
  /** The device's interface index. */
  readonly index: number;
  /** True when the device is the loopback device. */
  readonly loopback: boolean;
}

/** True where packet sockets can be made (Linux with the C library's socket calls). */
export function packetSocketsAvailable(): boolean {
  const n = native();
  const c = n.libc?.symbols;
  return n.backend.os === "linux" && !!c?.socket && !!c.setsockopt && !!c.bind &&
    !!c.if_nametoindex && !!c.close;
}

/** A device's interface index (0: no such device). */
function indexOf(device: string): number {
  return native().libc!.symbols.if_nametoindex!(cString(device)) as number;
}

/** True when `device` is the loopback device (by interface index, whatever its name). */
export function isLoopback(device: string): boolean {
  if (!packetSocketsAvailable()) return false;
  const index = indexOf(device);
  return index !== 0 && index === indexOf("lo");
}

/**
 * A packet socket on `device`, set up by `setup(fd)` before it is bound; null when the
 * device is unknown or a step fails (`setup` returning false included), with nothing left
 * open. `setup` may return a cleanup for what it made, run when a later step fails.
 */
export function openPacketSocket(
  device: string,
  promiscuous: boolean,
  setup: (fd: number) => boolean | (() => void),
): PacketSocket | null {
  if (!packetSocketsAvailable()) return null;
  const c = native().libc!.symbols;
  const index = indexOf(device);
  if (index === 0) return null;
  const fd = c.socket!(AF_PACKET, SOCK_RAW, 0) as number;
  if (fd < 0) return null;
  let cleanup: (() => void) | null = null;
  const fail = (): null => {
    cleanup?.();
    c.close!(fd);
    return null;
  };
  const done = setup(fd);
  if (done === false) return fail();
  if (typeof done === "function") cleanup = done;
  const s = structs();
  if (promiscuous) {
    const mreq = structBytes(s.packet_mreq, { mr_ifindex: index, mr_type: PACKET_MR_PROMISC });
    if (c.setsockopt!(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, mreq, mreq.length) !== 0) {
      return fail();
    }
  }
  const sll = structBytes(s.sockaddr_ll, { sll_family: AF_PACKET, sll_ifindex: index });
  // sll_protocol is in network byte order.
  new DataView(sll.buffer).setUint16(s.sockaddr_ll.offsetOf("sll_protocol"), ETH_P_ALL, false);
  if (c.bind!(fd, sll, sll.length) !== 0) return fail();
  return { fd, index, loopback: index === indexOf("lo") };
}
