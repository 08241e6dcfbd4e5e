/**
 * Internal: counting in the Linux kernel, for the statistics engine. A packet socket on the
 * device carries an eBPF filter (the user's classic filter, as libpcap compiled it for the
 * device, translated by {@link translateFilter}) that adds each accepted packet and its length
 * to two counters in a BPF map and drops it: no packet is queued, no block handed over, and
 * user space reads the counters once per interval. This is WinPcap's statistics mode done
 * where Linux does it: in the kernel, as the packet passes.
 *
 * It needs the `bpf(2)` calls (`CAP_BPF` or root on most systems) and a filter with an eBPF
 * counterpart; the caller counts another way when {@link KernelCounter.open} returns null.
 *
 * @module
 */

import type { BpfInstruction } from "./filter.ts";
import {
  bpfAvailable,
  closeFd,
  createCounterMap,
  loadSocketFilter,
  readCounterMap,
  translateFilter,
} from "./ebpf.ts";
import { native } from "./native.ts";
import { isLoopback, openPacketSocket, packetSocketsAvailable } from "./packet_socket.ts";

const SOL_SOCKET = 1;
const SO_ATTACH_BPF = 50;
/** Without a filter every packet counts: the classic program "ret #1". */
const ACCEPT_ALL: readonly BpfInstruction[] = [{ code: 0x06, jt: 0, jf: 0, k: 1 }];

/** Running totals since the counter was made. */
export interface KernelCounts {
  readonly packets: number;
  readonly bytes: number;
}

/** The socket and map of a counter dropped without `close()` (a safety net only). */
const registry = new FinalizationRegistry<{ socket: number; map: number }>(({ socket, map }) => {
  closeFd(socket);
  closeFd(map);
});

/** Packet and byte counters kept by the kernel for one device and filter. */
export class KernelCounter {
  #socket: number;
  #map: number;
  #last: KernelCounts = { packets: 0, bytes: 0 };

  private constructor(socket: number, map: number) {
    this.#socket = socket;
    this.#map = map;
    registry.register(this, { socket, map }, this);
  }

  /** True where such a counter may be made (Linux, x86-64 or arm64). */
  static available(): boolean {
    return packetSocketsAvailable() && bpfAvailable();
  }

  /**
   * A counter on `device` for the packets `instructions` accepts (every packet without), or
   * null when a step is refused (no privilege for `bpf(2)`, a filter with no eBPF
   * counterpart, an unknown device).
   */
  static open(
    device: string,
    options: { readonly instructions?: readonly BpfInstruction[]; readonly promiscuous?: boolean },
  ): KernelCounter | null {
    if (!KernelCounter.available()) return null;
    const c = native().libc!.symbols;
    const map = createCounterMap();
    if (map < 0) return null;
    const socket = openPacketSocket(device, options.promiscuous ?? false, (fd) => {
      const insns = translateFilter(options.instructions ?? ACCEPT_ALL, {
        kind: "count",
        mapFd: map,
        skipOutgoing: isLoopback(device),
      });
      if (!insns) return false;
      const prog = loadSocketFilter(insns);
      if (prog < 0) return false;
      // The socket keeps the program; its descriptor is no longer needed.
      const ok = c.setsockopt!(fd, SOL_SOCKET, SO_ATTACH_BPF, new Int32Array([prog]), 4) === 0;
      closeFd(prog);
      return ok;
    });
    if (!socket) {
      closeFd(map);
      return null;
    }
    return new KernelCounter(socket.fd, map);
  }

  /** The totals now (the last ones read if the map cannot be read, or after `close()`). */
  read(): KernelCounts {
    if (this.#map < 0) return this.#last;
    return this.#last = readCounterMap(this.#map) ?? this.#last;
  }

  /** Closes the socket (the kernel drops the filter and map with it). Idempotent. */
  close(): void {
    if (this.#socket < 0) return;
    registry.unregister(this);
    closeFd(this.#socket);
    closeFd(this.#map);
    this.#socket = this.#map = -1;
  }
}
