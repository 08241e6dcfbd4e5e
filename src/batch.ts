/**
 * Packets in columns over one buffer: what `columnBatches()` yields.
 *
 * Making a `Packet` and its `Uint8Array` costs 100-200 ns in JavaScript,
 * several times what libpcap needs to capture the packet. A
 * {@link PacketBatch} makes no object per packet: the header fields are typed
 * arrays indexed by packet number and the bytes stay in one buffer, so a loop
 * over a batch allocates nothing. Packets are made only when asked for
 * (`packet(i)`, iteration, `toArray()`).
 *
 * @module
 */

import { Packet } from "./packet.ts";

/**
 * A batch of packets as columns. Packet `i` has `caplens[i]` bytes at
 * `bytes[offsets[i]]` onwards, was `lengths[i]` bytes on the wire and was
 * stamped `seconds[i]` + `nanoseconds[i]`. The batch owns its memory: it stays
 * valid for as long as you keep it, and the packets it makes are views of it
 * (except with `columnBatches({ reuse: true })`, where the next batch overwrites it).
 *
 * ```ts
 * import { openLive } from "@netcap/pcap";
 *
 * using capture = openLive("eth0");
 * let bytes = 0;
 * for await (const batch of capture.columnBatches()) {
 *   for (let i = 0; i < batch.length; i++) bytes += batch.lengths[i];
 *   const first = batch.bytes[batch.offsets[0]]; // no object per packet
 * }
 * ```
 */
export class PacketBatch implements Iterable<Packet> {
  /** Number of packets. */
  readonly length: number;
  /** Link type (DLT_ value) of every packet. */
  readonly linkType: number;
  /** The memory holding the packets' bytes (and, between them, other data). */
  readonly bytes: Uint8Array;
  /** Where each packet's bytes start in {@link PacketBatch.bytes}. */
  readonly offsets: Uint32Array;
  /** Bytes captured of each packet. */
  readonly caplens: Uint32Array;
  /** Length of each packet on the wire. */
  readonly lengths: Uint32Array;
  /** Seconds since the Unix epoch of each packet. */
  readonly seconds: Float64Array;
  /**
   * Nanoseconds within the second of each packet (a `Float64Array`: a
   * malformed savefile's fraction can exceed 32 bits once scaled).
   */
  readonly nanoseconds: Float64Array;

  /** @internal Columns filled by a reader (`length` entries of each are used). */
  constructor(
    linkType: number,
    bytes: Uint8Array,
    length: number,
    offsets: Uint32Array,
    caplens: Uint32Array,
    lengths: Uint32Array,
    seconds: Float64Array,
    nanoseconds: Float64Array,
  ) {
    this.linkType = linkType;
    this.bytes = bytes;
    this.length = length;
    const cut = <T extends { length: number; subarray(a: number, b: number): T }>(a: T): T =>
      a.length === length ? a : a.subarray(0, length);
    this.offsets = cut(offsets);
    this.caplens = cut(caplens);
    this.lengths = cut(lengths);
    this.seconds = cut(seconds);
    this.nanoseconds = cut(nanoseconds);
  }

  /** The bytes of packet `i` (a view of {@link PacketBatch.bytes}). */
  data(i: number): Uint8Array {
    this.#check(i);
    const o = this.offsets[i];
    return this.bytes.subarray(o, o + this.caplens[i]);
  }

  /** Packet `i` as a {@link Packet} whose `data` is a view of this batch's memory. */
  packet(i: number): Packet {
    this.#check(i);
    const o = this.offsets[i];
    const caplen = this.caplens[i];
    return new Packet(
      this.seconds[i],
      this.nanoseconds[i],
      caplen,
      this.lengths[i],
      this.bytes.subarray(o, o + caplen),
      this.linkType,
    );
  }

  /** Every packet, in order. */
  toArray(): Packet[] {
    const out = new Array<Packet>(this.length);
    for (let i = 0; i < this.length; i++) out[i] = this.packet(i);
    return out;
  }

  /** The packets one by one (each made as it is reached). */
  *[Symbol.iterator](): Iterator<Packet> {
    for (let i = 0; i < this.length; i++) yield this.packet(i);
  }

  #check(i: number): void {
    if (!Number.isInteger(i) || i < 0 || i >= this.length) {
      throw new RangeError(
        `packet index must be an integer from 0 to ${this.length - 1}, got ${i}`,
      );
    }
  }
}

/**
 * Fills a {@link PacketBatch} packet by packet: either copying each packet's
 * bytes into one growing buffer ({@link PacketBatchBuilder.add}, where libpcap
 * hands packets over one at a time), or recording where each packet already
 * lies in a buffer given to {@link PacketBatchBuilder.finish}
 * ({@link PacketBatchBuilder.addAt}, for records walked in place).
 */
export class PacketBatchBuilder {
  #bytes: Uint8Array;
  #used = 0;
  #n = 0;
  #offsets: Uint32Array;
  #caplens: Uint32Array;
  #lengths: Uint32Array;
  #seconds: Float64Array;
  #nanos: Float64Array;

  /** Room for `packets` packets (it grows) and, for `add`, `bytes` bytes. */
  constructor(packets = 256, bytes = 65536) {
    this.#bytes = new Uint8Array(bytes);
    packets = Math.max(1, packets);
    this.#offsets = new Uint32Array(packets);
    this.#caplens = new Uint32Array(packets);
    this.#lengths = new Uint32Array(packets);
    this.#seconds = new Float64Array(packets);
    this.#nanos = new Float64Array(packets);
  }

  /** Packets added so far. */
  get length(): number {
    return this.#n;
  }

  /** Adds a packet, copying its bytes. */
  add(seconds: number, nanoseconds: number, length: number, data: Uint8Array): void {
    const caplen = data.length;
    if (this.#used + caplen > this.#bytes.length) {
      const next = new Uint8Array(Math.max(this.#bytes.length * 2, this.#used + caplen));
      next.set(this.#bytes.subarray(0, this.#used));
      this.#bytes = next;
    }
    this.#bytes.set(data, this.#used);
    this.addAt(this.#used, caplen, length, seconds, nanoseconds);
    this.#used += caplen;
  }

  /** Adds a packet whose `caplen` bytes lie at `offset` of the buffer `finish` will get. */
  addAt(
    offset: number,
    caplen: number,
    length: number,
    seconds: number,
    nanoseconds: number,
  ): void {
    const n = this.#n;
    if (n === this.#offsets.length) this.#growColumns();
    this.#offsets[n] = offset;
    this.#caplens[n] = caplen;
    this.#lengths[n] = length;
    this.#seconds[n] = seconds;
    this.#nanos[n] = nanoseconds;
    this.#n = n + 1;
  }

  /**
   * The batch so far, over `bytes` (packets added with `addAt`) or over the
   * copies `add` made. The builder must not be used afterwards.
   */
  finish(linkType: number, bytes: Uint8Array = this.#bytes.subarray(0, this.#used)): PacketBatch {
    return new PacketBatch(
      linkType,
      bytes,
      this.#n,
      this.#offsets,
      this.#caplens,
      this.#lengths,
      this.#seconds,
      this.#nanos,
    );
  }

  #growColumns(): void {
    const size = this.#offsets.length * 2;
    const grow = <T extends Uint32Array | Float64Array>(a: T, make: (n: number) => T): T => {
      const b = make(size);
      b.set(a);
      return b;
    };
    this.#offsets = grow(this.#offsets, (n) => new Uint32Array(n));
    this.#caplens = grow(this.#caplens, (n) => new Uint32Array(n));
    this.#lengths = grow(this.#lengths, (n) => new Uint32Array(n));
    this.#seconds = grow(this.#seconds, (n) => new Float64Array(n));
    this.#nanos = grow(this.#nanos, (n) => new Float64Array(n));
  }
}

/** A batch with no packets. */
export function emptyBatch(linkType: number): PacketBatch {
  const z = new Uint32Array(0);
  const f = new Float64Array(0);
  return new PacketBatch(linkType, new Uint8Array(0), 0, z, z, z, f, f);
}

/** @internal Columns a reader fills for one batch (each at least as long as the batch). */
export interface Columns {
  readonly offsets: Uint32Array;
  readonly caplens: Uint32Array;
  readonly lengths: Uint32Array;
  readonly seconds: Float64Array;
  readonly nanos: Float64Array;
}

/** @internal Fresh columns for `n` packets (at least 1). */
export function newColumns(n: number): Columns {
  n = Math.max(1, n);
  return {
    offsets: new Uint32Array(n),
    caplens: new Uint32Array(n),
    lengths: new Uint32Array(n),
    seconds: new Float64Array(n),
    nanos: new Float64Array(n),
  };
}
