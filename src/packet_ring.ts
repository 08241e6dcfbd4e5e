/**
 * Internal: a Linux packet socket with a `TPACKET_V3` receive ring, for counting packets and
 * bytes with no per-packet call at all. The kernel runs the BPF filter (compiled by libpcap on
 * a live handle of the same device) and writes a small header per accepted packet into
 * blocks of a ring shared with this process; the counting loop walks those headers in place
 * through one `ArrayBuffer` over the ring, and hands each block back to the kernel. libpcap
 * reads the same kind of ring, but only through a callback per packet.
 *
 * What libpcap would report is kept: a frame's length is the kernel's `tp_len`, plus the 4
 * bytes of a VLAN tag the kernel took out (libpcap puts it back); outgoing packets on the
 * loopback device are skipped (libpcap sees them again as incoming).
 *
 * @module
 */

import type { BpfInstruction } from "./filter.ts";
import { instructionBytes } from "./filter.ts";
import { native, structBytes, structs } from "./native.ts";
import { openPacketSocket, packetSocketsAvailable } from "./packet_socket.ts";

const SOL_SOCKET = 1;
const SO_ATTACH_FILTER = 26;
export const SOL_PACKET = 263;
const PACKET_RX_RING = 5;
export const PACKET_VERSION = 10;
export const TPACKET_V3 = 2;
export const PROT_READ_WRITE = 3;
export const MAP_SHARED = 1;
/** `TP_STATUS_USER`: the block belongs to user space. */
export const STATUS_USER = 1;
/** `TP_STATUS_VLAN_VALID`. */
export const STATUS_VLAN_VALID = 0x10;
export const PACKET_OUTGOING = 4;
/** `TPACKET_ALIGNMENT`: `sockaddr_ll` follows a `tpacket3_hdr` at its size rounded up to this. */
const TPACKET_ALIGNMENT = 16;
const BLOCK_SIZE = 4 << 20;
const FRAME_SIZE = 2048;

/** See {@link ringOffsets}. */
export interface RingOffsets {
  readonly status: number;
  readonly numPkts: number;
  readonly first: number;
  readonly next: number;
  readonly sec: number;
  readonly nsec: number;
  readonly len: number;
  readonly hstatus: number;
  readonly vlanTci: number;
  readonly ifindex: number;
  readonly pkttype: number;
  /** 32-bit word index of `tp_snaplen`. */
  readonly snaplen: number;
  /** 16-bit word indexes of `tp_mac` and `tp_vlan_tpid`. */
  readonly mac: number;
  readonly vlanTpid: number;
}

/**
 * Where a ring walk reads, from the declared layouts: 32-bit word indexes within a block
 * descriptor and within a packet header (which starts on a 4-byte boundary), 16-bit word
 * indexes for the 16-bit fields, and the byte offset of the packet type in the
 * `sockaddr_ll` after the header.
 */
export function ringOffsets(): RingOffsets {
  const s = structs();
  const bh1 = s.tpacket_block_desc.offsetOf("hdr");
  const v1 = s.tpacket_hdr_v1;
  const h = s.tpacket3_hdr;
  const sll = (h.size + TPACKET_ALIGNMENT - 1) & -TPACKET_ALIGNMENT;
  const w = (bytes: number): number => bytes >> 2;
  return {
    status: w(bh1 + v1.offsetOf("block_status")),
    numPkts: w(bh1 + v1.offsetOf("num_pkts")),
    first: w(bh1 + v1.offsetOf("offset_to_first_pkt")),
    next: w(h.offsetOf("tp_next_offset")),
    sec: w(h.offsetOf("tp_sec")),
    nsec: w(h.offsetOf("tp_nsec")),
    len: w(h.offsetOf("tp_len")),
    hstatus: w(h.offsetOf("tp_status")),
    vlanTci: w(h.offsetOf("hv1") + s.tpacket_hdr_variant1.offsetOf("tp_vlan_tci")),
    ifindex: w(sll + s.sockaddr_ll.offsetOf("sll_ifindex")),
    pkttype: sll + s.sockaddr_ll.offsetOf("sll_pkttype"),
    snaplen: w(h.offsetOf("tp_snaplen")),
    mac: h.offsetOf("tp_mac") >> 1,
    vlanTpid: (h.offsetOf("hv1") + s.tpacket_hdr_variant1.offsetOf("tp_vlan_tpid")) >> 1,
  };
}

/** Where {@link PacketRing.walk} counts: per interval, by time stamp. */
export interface CountSink {
  /** The end of the oldest open interval (ms since the epoch): earlier packets count in it. */
  readonly due: number;
  /** Counts a packet with time stamp `ms` (ms since the epoch, with fractions). */
  add(ms: number, length: number): void;
  /** Counts packets in the oldest open interval. */
  addOldest(packets: number, bytes: number): void;
}

/** Options of {@link PacketRing.open}. */
export interface PacketRingOptions {
  /** The filter, compiled by libpcap for this device (accept-all when absent). */
  readonly instructions?: readonly BpfInstruction[];
  /** Ring size in bytes (rounded to whole 4 MiB blocks, at least 2). */
  readonly bufferSize: number;
  /** How long the kernel keeps a block that is not full before handing it over, in ms. */
  readonly blockTimeoutMs: number;
  readonly promiscuous?: boolean;
}

/** The socket and mapping of a ring dropped without `close()` (a safety net only). */
const registry = new FinalizationRegistry<{ fd: number; addr: number; size: number }>(
  ({ fd, addr, size }) => {
    const c = native().libc!.symbols;
    c.munmap!(addr, size);
    c.close!(fd);
  },
);

/** A counting ring on one Linux device. Owns a socket and a mapping; `close()` frees both. */
export class PacketRing {
  #fd: number;
  #addr: number;
  #size: number;
  #buffer: ArrayBuffer | null;
  #words: Int32Array;
  #bytes: Uint8Array;
  #blocks: number;
  #next = 0;
  #at: RingOffsets = ringOffsets();
  /** The loopback device's index when the ring is on it (outgoing copies skipped), else -1. */
  #loIndex: number;

  private constructor(fd: number, addr: number, size: number, blocks: number, loIndex: number) {
    this.#fd = fd;
    this.#addr = addr;
    this.#size = size;
    this.#blocks = blocks;
    this.#loIndex = loIndex;
    const b = native().backend;
    this.#buffer = b.unsafeView(b.fromAddress(addr), size);
    this.#words = new Int32Array(this.#buffer);
    this.#bytes = new Uint8Array(this.#buffer);
    registry.register(this, { fd, addr, size }, this);
  }

  /** True where such a ring can be made (Linux with the C library's socket calls). */
  static available(): boolean {
    const n = native();
    const c = n.libc?.symbols;
    return packetSocketsAvailable() && !!c?.mmap && !!c.munmap;
  }

  /**
   * A ring on `device`, or null when the kernel refuses a step (the caller then counts
   * through libpcap). Only for devices whose frames are Ethernet-like (libpcap's `EN10MB`).
   */
  static open(device: string, options: PacketRingOptions): PacketRing | null {
    if (!PacketRing.available()) return null;
    const c = native().libc!.symbols;
    const s = structs();
    const blocks = Math.max(2, Math.ceil(options.bufferSize / BLOCK_SIZE));
    const size = BLOCK_SIZE * blocks;
    let addr = -1;
    const socket = openPacketSocket(device, options.promiscuous ?? false, (fd) => {
      const version = new Uint8Array(new Int32Array([TPACKET_V3]).buffer); // int
      if (c.setsockopt!(fd, SOL_PACKET, PACKET_VERSION, version, 4) !== 0) return false;
      const req = structBytes(s.tpacket_req3, {
        tp_block_size: BLOCK_SIZE,
        tp_block_nr: blocks,
        tp_frame_size: FRAME_SIZE,
        tp_frame_nr: (BLOCK_SIZE / FRAME_SIZE) * blocks,
        tp_retire_blk_tov: Math.max(1, Math.round(options.blockTimeoutMs)),
      });
      if (c.setsockopt!(fd, SOL_PACKET, PACKET_RX_RING, req, req.length) !== 0) return false;
      const mapped = Number(c.mmap!(0, size, PROT_READ_WRITE, MAP_SHARED, fd, 0));
      if (!(mapped > 0 && mapped <= Number.MAX_SAFE_INTEGER)) return false;
      addr = mapped;
      const unmap = (): void => {
        c.munmap!(mapped, size);
      };
      // Without a filter: accept every packet, keeping one byte of it ("ret #1").
      const insns = options.instructions ?? [{ code: 0x06, jt: 0, jf: 0, k: 1 }];
      const code = instructionBytes(insns); // struct sock_filter[], laid out as bpf_insn
      const b = native().backend;
      const prog = structBytes(s.sock_fprog, {
        len: insns.length,
        filter: b.address(b.pointerOf(code)),
      });
      if (c.setsockopt!(fd, SOL_SOCKET, SO_ATTACH_FILTER, prog, prog.length) !== 0) {
        unmap();
        return false;
      }
      code.fill(0); // (kept alive until here: the kernel copied it)
      return unmap;
    });
    if (!socket) return null;
    return new PacketRing(socket.fd, addr, size, blocks, socket.loopback ? socket.index : -1);
  }

  /** The socket, to poll for a block handed over. */
  get fd(): number {
    return this.#fd;
  }

  /**
   * Counts every packet of the blocks the kernel has handed over, gives the blocks back, and
   * returns how many packets it counted.
   */
  walk(sink: CountSink): number {
    const w = this.#words, bytes = this.#bytes, blocks = this.#blocks, lo = this.#loIndex;
    const o = this.#at;
    const B_STATUS = o.status, B_NUM_PKTS = o.numPkts, B_FIRST = o.first;
    const H_NEXT = o.next, H_SEC = o.sec, H_NSEC = o.nsec, H_LEN = o.len;
    const H_STATUS = o.hstatus, H_VLAN_TCI = o.vlanTci, SLL_IFINDEX = o.ifindex;
    const SLL_PKTTYPE = o.pkttype;
    const blockWords = BLOCK_SIZE >> 2;
    // Nearly every packet belongs to the oldest open interval: summed here, handed over once.
    const due = sink.due;
    let oldest = 0, oldestBytes = 0, later = 0;
    let b = this.#next;
    while (this.#buffer !== null) {
      const base = b * blockWords;
      if ((Atomics.load(w, base + B_STATUS) & STATUS_USER) === 0) break;
      const n = w[base + B_NUM_PKTS];
      let at = b * BLOCK_SIZE + w[base + B_FIRST];
      for (let i = 0; i < n; i++) {
        const h = at >> 2;
        at += w[h + H_NEXT];
        if (
          lo >= 0 && bytes[(h << 2) + SLL_PKTTYPE] === PACKET_OUTGOING && w[h + SLL_IFINDEX] === lo
        ) {
          continue;
        }
        let len = w[h + H_LEN] >>> 0;
        if (w[h + H_VLAN_TCI] !== 0 || (w[h + H_STATUS] & STATUS_VLAN_VALID) !== 0) len += 4;
        const ms = w[h + H_SEC] * 1000 + (w[h + H_NSEC] >>> 0) / 1e6;
        if (ms < due) {
          oldest++;
          oldestBytes += len;
        } else {
          sink.add(ms, len);
          later++;
        }
      }
      Atomics.store(w, base + B_STATUS, 0); // TP_STATUS_KERNEL
      b = b + 1 === blocks ? 0 : b + 1;
    }
    this.#next = b;
    if (oldest > 0) sink.addOldest(oldest, oldestBytes);
    return oldest + later;
  }

  /** Unmaps the ring (its views first) and closes the socket. Idempotent. */
  close(): void {
    const buf = this.#buffer;
    if (buf === null) return;
    this.#buffer = null;
    registry.unregister(this);
    (buf as ArrayBuffer & { transfer(length: number): ArrayBuffer }).transfer(0);
    this.#words = new Int32Array(0);
    this.#bytes = new Uint8Array(0);
    const c = native().libc!.symbols;
    c.munmap!(this.#addr, this.#size);
    c.close!(this.#fd);
  }
}
