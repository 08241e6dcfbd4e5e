/**
 * Internal: reading a Linux live capture's packets straight out of libpcap's own receive
 * ring, with no call into libpcap per batch or per packet.
 *
 * On Linux, libpcap captures through a packet socket with a `TPACKET_V3` ring of blocks
 * shared with the kernel, and hands packets over one callback at a time. This reader maps
 * the same ring a second time (the socket is `pcap_get_selectable_fd`) and walks it in
 * place: a batch's columns point into the ring, so a batch with `reuse` copies nothing at
 * all, and one without copies each block's packets once.
 *
 * libpcap's reading rules for that ring (`pcap_read_linux_mmap_v3` and
 * `pcap_handle_packet_mmap` in `pcap-linux.c`, 1.10) are kept, step for step:
 * - blocks are taken in ring order, from where libpcap would start; a block goes back to
 *   the kernel once all its packets are read;
 * - the frame sanity check (`tp_mac + tp_snaplen` within the 256 KiB frame);
 * - the filter runs in user space where libpcap would run it: for every packet when the
 *   kernel refused the filter, and for the blocks already in the ring when a filter is set
 *   (they passed the old filter);
 * - the direction rules: outgoing copies on the loopback device are skipped (they come back
 *   as incoming), and `setDirection("in" | "out")` drops the other direction;
 * - a VLAN tag the kernel took out is put back (the frame's MAC addresses move 4 bytes
 *   down, in the ring, as libpcap does), and both lengths grow by 4;
 * - `caplen` is cut to the handle's snapshot length; time stamps in the handle's precision.
 *
 * It is used only where those rules are the whole story: Ethernet framing (no cooked
 * `any` device, no CAN), a `TPACKET_V3` ring (not immediate mode, which uses `TPACKET_V2`)
 * whose geometry (256 KiB blocks) the exact-size `mmap` confirms. Once it has read, libpcap
 * must not read the handle again (its place in the ring would be stale): the capture sends
 * every read through this reader from then on.
 *
 * @module
 */

import { type Columns, newColumns, PacketBatch } from "./batch.ts";
import { BpfProgram } from "./filter.ts";
import type { BpfInstruction } from "./filter.ts";
import { ErrorCode, PcapError } from "./errors.ts";
import { cString, native } from "./native.ts";
import { Packet } from "./packet.ts";
import {
  MAP_SHARED,
  PACKET_OUTGOING,
  PACKET_VERSION,
  PROT_READ_WRITE,
  ringOffsets,
  SOL_PACKET,
  STATUS_USER,
  STATUS_VLAN_VALID,
  TPACKET_V3,
} from "./packet_ring.ts";
import type { RingOffsets } from "./packet_ring.ts";

const SOL_SOCKET = 1;
const SO_ERROR = 4;
/** `SO_GET_FILTER` (= `SO_ATTACH_FILTER`): with a zero length, the attached program's length. */
const SO_GET_FILTER = 26;
const STATUS_VLAN_TPID_VALID = 0x40;
const ETH_P_8021Q = 0x8100;
/** `MAXIMUM_SNAPLEN`: libpcap's `TPACKET_V3` "frame" (and so its block) size. */
const FRAME_SIZE = 262144;
const BLOCK_SIZE = 262144;
/** Where libpcap inserts a VLAN tag on Ethernet (after the two MAC addresses). */
const VLAN_OFFSET = 12;
const DLT_EN10MB = 1;
/** `pcap_setdirection` values. */
const D_IN = 1;
const D_OUT = 2;
const ENETDOWN = 100;
/** `SKF_AD_OFF + SKF_AD_VLAN_TAG` and `+ SKF_AD_VLAN_TAG_PRESENT`, as unsigned `k` values. */
const SKF_AD_VLAN_TAG = 0xfffff000 + 44;
const SKF_AD_VLAN_TAG_PRESENT = 0xfffff000 + 48;
/** `BPF_LD|BPF_B|BPF_ABS`: the form libpcap's filter gives those loads. */
const LD_B_ABS = 0x30;

/** A load of the VLAN tag (or its presence) the kernel took out of the frame. */
function isVlanLoad(i: BpfInstruction): boolean {
  return i.code === LD_B_ABS && (i.k === SKF_AD_VLAN_TAG || i.k === SKF_AD_VLAN_TAG_PRESENT);
}

/** What {@link LiveRing.attach} needs to know about the handle. */
export interface LiveRingOptions {
  /** The device the handle captures on. */
  readonly device: string;
  /** The handle's link type (only Ethernet is read here). */
  readonly linkType: number;
  /** `pcap_snapshot()`. */
  readonly snapshot: number;
  /** The buffer size libpcap was given (its default: 2 MiB). */
  readonly bufferSize: number;
  /** Nanosecond time stamps. */
  readonly nano: boolean;
}

/** A capture's ring, mapped a second time; owns only that mapping. */
export class LiveRing {
  #fd: number;
  #addr: number;
  #size: number;
  #blocks: number;
  #buffer: ArrayBuffer | null;
  #words: Int32Array;
  #halves: Uint16Array;
  #bytes: Uint8Array;
  #at: RingOffsets = ringOffsets();
  #snapshot: number;
  #nano: boolean;
  /** The loopback device's index when the ring is on it, else -1. */
  #loIndex: number;
  /** The block libpcap would read next (`handle->offset`). */
  #block = 0;
  /** Within that block: the next packet's byte offset in the ring and packets left (0: none). */
  #packet = 0;
  #left = 0;
  /** Blocks read to the end but kept from the kernel while a `reuse` batch points into them. */
  #held = 0;
  #direction = 0;
  /** The filter set last (a copy of its instructions), for the packets filtered here. */
  #filter: BpfProgram | null = null;
  /** Its instructions when it reads the VLAN tag through the kernel's extension loads. */
  #vlanLoads: readonly BpfInstruction[] | null = null;
  /** The filter with those loads made constants, by tag (-1: no tag). */
  #byTag = new Map<number, BpfProgram>();
  /** The kernel refused the filter: every packet is filtered here. */
  #filterAll = false;
  /** Blocks whose packets passed the previous filter only (filtered here). */
  #filterBlocks = 0;
  #recycled: Columns = newColumns(256);
  /** The columns of `next()`'s one packet. */
  #one: Columns = newColumns(1);

  private constructor(
    fd: number,
    addr: number,
    size: number,
    options: LiveRingOptions,
    loIndex: number,
  ) {
    this.#fd = fd;
    this.#addr = addr;
    this.#size = size;
    this.#blocks = size / BLOCK_SIZE;
    this.#snapshot = options.snapshot;
    this.#nano = options.nano;
    this.#loIndex = loIndex;
    const b = native().backend;
    this.#buffer = b.unsafeView(b.fromAddress(addr), size);
    this.#words = new Int32Array(this.#buffer);
    this.#halves = new Uint16Array(this.#buffer);
    this.#bytes = new Uint8Array(this.#buffer);
  }

  /**
   * The ring of the activated handle whose packet socket is `fd`, or null where this reader
   * does not apply (not Linux, not Ethernet, not `TPACKET_V3`, the geometry not confirmed).
   * Call it before anything reads the handle.
   */
  static attach(fd: number, options: LiveRingOptions): LiveRing | null {
    const n = native();
    const c = n.libc?.symbols;
    if (
      n.backend.os !== "linux" || fd < 0 || options.linkType !== DLT_EN10MB ||
      !c?.getsockopt || !c.mmap || !c.munmap || !c.if_nametoindex
    ) {
      return null;
    }
    if (getInt(fd, SOL_PACKET, PACKET_VERSION) !== TPACKET_V3) return null;
    // The kernel maps a ring only at its exact size: libpcap asked for
    // ceil(bufferSize / 256 KiB) blocks, or fewer when the kernel was short of memory.
    const asked = Math.max(1, Math.ceil(options.bufferSize / BLOCK_SIZE));
    for (let blocks = asked; blocks >= 1; blocks--) {
      const size = blocks * BLOCK_SIZE;
      const mapped = Number(c.mmap(0, size, PROT_READ_WRITE, MAP_SHARED, fd, 0));
      if (!(mapped > 0 && mapped <= Number.MAX_SAFE_INTEGER)) continue;
      // Outgoing copies are skipped on the loopback device only (-1: not on it).
      const lo = c.if_nametoindex(cString("lo")) as number;
      const here = c.if_nametoindex(cString(options.device)) as number;
      return new LiveRing(fd, mapped, size, options, lo !== 0 && here === lo ? lo : -1);
    }
    return null;
  }

  /** `pcap_setdirection`'s value (0 both, 1 in, 2 out), after libpcap accepted it. */
  set direction(d: number) {
    this.#direction = d;
  }

  /**
   * After `pcap_setfilter` accepted `instructions`: whether the kernel took the filter
   * (else every packet is filtered here from now on) and, if it did, how many blocks in the
   * ring passed the old one (filtered here), counted as libpcap counts them.
   */
  filterSet(instructions: readonly BpfInstruction[]): void {
    this.#dropFilter();
    this.#filter = BpfProgram.fromInstructions(instructions);
    this.#vlanLoads = instructions.some(isVlanLoad) ? instructions : null;
    this.#filterAll = getAttachedFilterLength(this.#fd) === 0;
    if (this.#filterAll) return;
    // As pcap_setfilter_linux: walk back from the block before the current one, counting
    // the blocks the kernel owns; all the others may hold packets of the old filter.
    const cc = this.#blocks, w = this.#words, status = this.#at.status;
    let offset = this.#block - 1 < 0 ? cc - 1 : this.#block - 1;
    let free = 0;
    for (; free < cc; free++) {
      if (--offset < 0) offset = cc - 1;
      if (Atomics.load(w, offset * (BLOCK_SIZE >> 2) + status) !== 0) break;
    }
    if (free !== 0) free--;
    this.#filterBlocks = cc - free;
  }

  /** Gives the kernel back the blocks a `reuse` batch kept (call before waiting). */
  release(): void {
    let held = this.#held;
    if (held === 0) return;
    this.#held = 0;
    const w = this.#words, cc = this.#blocks, status = this.#at.status;
    // The held blocks are the ones just before the current block.
    let b = this.#block;
    while (held-- > 0) {
      b = b === 0 ? cc - 1 : b - 1;
      Atomics.store(w, b * (BLOCK_SIZE >> 2) + status, 0); // TP_STATUS_KERNEL
    }
  }

  /**
   * Up to `max` packets (-1: all the blocks the kernel has handed over) as a batch: over the
   * ring itself with `reuse` (valid until the next read), else copied out. `status` is the
   * number of packets, as `pcap_dispatch` would return it.
   */
  read(max: number, reuse: boolean, linkType: number): { batch: PacketBatch; status: number } {
    this.#begin();
    const limit = max < 0 ? 0x7fffffff : max;
    // How many packets are ready (to size the columns), block descriptors only.
    const o = this.#at, w = this.#words, cc = this.#blocks, blockWords = BLOCK_SIZE >> 2;
    let ready = this.#left;
    let b = ready > 0 ? (this.#block + 1) % cc : this.#block;
    for (let i = ready > 0 ? 1 : 0; ready < limit && i < cc; i++) {
      if ((Atomics.load(w, b * blockWords + o.status) & STATUS_USER) === 0) break;
      ready += w[b * blockWords + o.numPkts];
      b = b + 1 === cc ? 0 : b + 1;
    }
    if (ready > limit) ready = limit;
    let cols = this.#recycled;
    if (!reuse) cols = newColumns(ready);
    else if (cols.offsets.length < ready) {
      cols = this.#recycled = newColumns(Math.max(ready, 2 * cols.offsets.length));
    }
    const ranges: number[] = [];
    // No more than the columns hold (the kernel may have handed over a block since).
    const n = this.#walk(Math.min(limit, cols.offsets.length), cols, reuse ? null : ranges);
    let bytes = this.#bytes;
    if (!reuse && n > 0) bytes = this.#copyOut(cols, n, ranges);
    const batch = new PacketBatch(
      linkType,
      bytes,
      n,
      cols.offsets,
      cols.caplens,
      cols.lengths,
      cols.seconds,
      cols.nanos,
    );
    return { batch, status: n };
  }

  /** The next packet, copied out, or null when the kernel has handed nothing over. */
  next(linkType: number): Packet | null {
    this.#begin();
    const c = this.#one;
    if (this.#walk(1, c, null) === 0) return null;
    const at = c.offsets[0], caplen = c.caplens[0];
    const data = this.#bytes.slice(at, at + caplen);
    return new Packet(c.seconds[0], c.nanos[0], caplen, c.lengths[0], data, linkType);
  }

  /** Before a read: the blocks a batch kept go back; a closed ring throws. */
  #begin(): void {
    this.release();
    if (this.#buffer === null) throw new PcapError(ErrorCode.CLOSED, "The capture is closed");
  }

  /**
   * Walks packets into `cols` until `limit` or no block is ready; blocks read to the end go
   * back to the kernel at once (`ranges` given: the packets are copied out afterwards;
   * each block's `[first packet, start, end]` is pushed there) or at the next read.
   */
  #walk(limit: number, cols: Columns, ranges: number[] | null): number {
    const w = this.#words, h16 = this.#halves, bytes = this.#bytes;
    const o = this.#at, cc = this.#blocks, blockWords = BLOCK_SIZE >> 2;
    const B_STATUS = o.status, B_NUM = o.numPkts, B_FIRST = o.first;
    const H_NEXT = o.next, H_SEC = o.sec, H_NSEC = o.nsec, H_SNAP = o.snaplen, H_LEN = o.len;
    const H_STATUS = o.hstatus, H_TCI = o.vlanTci, H16_MAC = o.mac, H16_TPID = o.vlanTpid;
    const SLL_IFINDEX = o.ifindex, SLL_PKTTYPE = o.pkttype;
    const { offsets, caplens, lengths, seconds, nanos } = cols;
    const snapshot = this.#snapshot, nano = this.#nano, lo = this.#loIndex;
    const dir = this.#direction;
    // The packet's sockaddr_ll (another cache line) matters only on lo or for one direction.
    const direction = lo >= 0 || dir !== 0;
    let n = 0;
    let block = this.#block, at = this.#packet, left = this.#left;
    while (n < limit) {
      if (left === 0) {
        const base = block * blockWords;
        if ((Atomics.load(w, base + B_STATUS) & STATUS_USER) === 0) break;
        left = w[base + B_NUM];
        at = block * BLOCK_SIZE + w[base + B_FIRST];
        if (left === 0) {
          this.#blockDone(block, ranges !== null);
          block = block + 1 === cc ? 0 : block + 1;
          continue;
        }
      }
      const filtering = this.#filter !== null && (this.#filterAll || this.#filterBlocks > 0);
      const first = n;
      let lowest = 0x7fffffff, highest = 0;
      while (left > 0 && n < limit) {
        const h = at >> 2;
        at += w[h + H_NEXT];
        left--;
        const mac = h16[(h << 1) + H16_MAC];
        const snap = w[h + H_SNAP] >>> 0;
        if (mac + snap > FRAME_SIZE) {
          this.#packet = at, this.#left = left, this.#block = block;
          throw new PcapError(
            ErrorCode.ERROR,
            `corrupted frame on kernel ring mac offset ${mac} + caplen ${snap} > frame len ${FRAME_SIZE}`,
          );
        }
        const frame = h << 2;
        const tci = w[h + H_TCI] >>> 0;
        const vlan = tci !== 0 || (w[h + H_STATUS] & STATUS_VLAN_VALID) !== 0;
        let len = w[h + H_LEN] >>> 0;
        let start = frame + mac;
        if (filtering && !this.#matches(start, snap, len, vlan, tci)) continue;
        if (direction) {
          if (bytes[frame + SLL_PKTTYPE] === PACKET_OUTGOING) {
            if (w[h + SLL_IFINDEX] === lo || dir === D_IN) continue;
          } else if (dir === D_OUT) continue;
        }
        let cap = snap;
        if (vlan && snap >= VLAN_OFFSET) {
          // Put the tag back in front of the type field, as libpcap does.
          const status = w[h + H_STATUS];
          const tpid = h16[(h << 1) + H16_TPID];
          const type = tpid !== 0 || (status & STATUS_VLAN_TPID_VALID) !== 0 ? tpid : ETH_P_8021Q;
          start -= 4;
          bytes.copyWithin(start, start + 4, start + 4 + VLAN_OFFSET);
          const t = start + VLAN_OFFSET;
          bytes[t] = type >> 8, bytes[t + 1] = type & 0xff;
          bytes[t + 2] = (tci >> 8) & 0xff, bytes[t + 3] = tci & 0xff;
          cap += 4;
          len += 4;
        }
        if (cap > snapshot) cap = snapshot;
        offsets[n] = start;
        caplens[n] = cap;
        lengths[n] = len;
        seconds[n] = w[h + H_SEC] >>> 0;
        const ns = w[h + H_NSEC] >>> 0;
        nanos[n] = nano ? ns : ns - ns % 1000;
        n++;
        if (ranges !== null) {
          if (start < lowest) lowest = start;
          if (start + cap > highest) highest = start + cap;
        }
      }
      if (ranges !== null && n > first) ranges.push(first, lowest, highest);
      if (left === 0) {
        this.#blockDone(block, ranges !== null);
        block = block + 1 === cc ? 0 : block + 1;
      }
    }
    this.#block = block;
    this.#packet = at;
    this.#left = left;
    return n;
  }

  /** A block read to the end: back to the kernel now (`now`) or at the next read. */
  #blockDone(block: number, now: boolean): void {
    if (now) Atomics.store(this.#words, block * (BLOCK_SIZE >> 2) + this.#at.status, 0);
    else this.#held++;
    if (this.#filterBlocks > 0) this.#filterBlocks--;
  }

  /**
   * The filter, run here (`pcap_offline_filter`, on the frame as the kernel left it).
   * libpcap hands its filter the VLAN tag the kernel took out (the extension loads of
   * "tag present" and "tag"); `pcap_offline_filter` has no such input, so a program with
   * those loads runs with them replaced by the packet's values as constants.
   */
  #matches(start: number, snap: number, len: number, vlan: boolean, tci: number): boolean {
    let program = this.#filter!;
    const loads = this.#vlanLoads;
    if (loads !== null) {
      const key = vlan ? tci & 0x0fff : -1;
      let p = this.#byTag.get(key);
      if (p === undefined) {
        p = BpfProgram.fromInstructions(
          loads.map((i) =>
            isVlanLoad(i)
              ? { code: 0x00, jt: 0, jf: 0, k: i.k === SKF_AD_VLAN_TAG ? Math.max(key, 0) : +vlan }
              : i
          ),
        );
        this.#byTag.set(key, p);
      }
      program = p;
    }
    return program.matches({ data: this.#bytes.subarray(start, start + snap), length: len });
  }

  #dropFilter(): void {
    this.#filter?.dispose();
    this.#filter = null;
    this.#vlanLoads = null;
    for (const p of this.#byTag.values()) p.dispose();
    this.#byTag.clear();
  }

  /** Copies the walked packets out of the ring, block range by block range. */
  #copyOut(cols: Columns, n: number, ranges: number[]): Uint8Array {
    let total = 0;
    for (let r = 0; r < ranges.length; r += 3) total += ranges[r + 2] - ranges[r + 1];
    const out = new Uint8Array(total);
    const offsets = cols.offsets;
    const memcpy = native().libc!.symbols.memcpy;
    let pos = 0;
    for (let r = 0; r < ranges.length; r += 3) {
      const first = ranges[r], from = ranges[r + 1], to = ranges[r + 2];
      const last = r + 3 < ranges.length ? ranges[r + 3] : n;
      // libc's memcpy: a typed-array copy out of the mapped memory costs Bun about a ns a byte.
      memcpy(out.subarray(pos, pos + to - from), this.#addr + from, to - from);
      const shift = pos - from;
      for (let i = first; i < last; i++) offsets[i] += shift;
      pos += to - from;
    }
    return out;
  }

  /**
   * After a wait reported an error condition on the socket: the error libpcap would give
   * (`The interface went down`, or the socket's error), or null when there is none.
   */
  socketError(): PcapError | null {
    const e = getInt(this.#fd, SOL_SOCKET, SO_ERROR);
    if (e === 0 || e === null) return null;
    if (e === ENETDOWN) return new PcapError(ErrorCode.IFACE_NOT_UP, "The interface went down");
    return new PcapError(ErrorCode.ERROR, `Error condition on packet socket: errno ${e}`);
  }

  /** Unmaps the ring (its views detached first). Idempotent; the socket is libpcap's. */
  close(): void {
    const buf = this.#buffer;
    if (buf === null) return;
    this.#buffer = null;
    this.#dropFilter();
    (buf as ArrayBuffer & { transfer(length: number): ArrayBuffer }).transfer(0);
    this.#words = new Int32Array(0);
    this.#halves = new Uint16Array(0);
    this.#bytes = new Uint8Array(0);
    native().libc!.symbols.munmap!(this.#addr, this.#size);
  }
}

/** An `int` socket option, or null when `getsockopt` fails. */
function getInt(fd: number, level: number, name: number): number | null {
  const value = new Int32Array(1);
  const len = new Uint32Array([4]);
  const c = native().libc!.symbols;
  if (c.getsockopt!(fd, level, name, new Uint8Array(value.buffer), new Uint8Array(len.buffer))) {
    return null;
  }
  return value[0];
}

/** The length of the classic filter attached to the socket (0: none). */
function getAttachedFilterLength(fd: number): number {
  const len = new Uint32Array(1);
  const c = native().libc!.symbols;
  const empty = new Uint8Array(1);
  if (c.getsockopt!(fd, SOL_SOCKET, SO_GET_FILTER, empty, new Uint8Array(len.buffer)) !== 0) {
    return 0;
  }
  return len[0];
}
