/**
 * A captured packet: its record header and its bytes.
 *
 * @module
 */

/** Timestamp precision of a handle: microseconds or nanoseconds. */
export type TimestampPrecision = "micro" | "nano";

/**
 * One captured packet: its header fields and `data`, `caplen` bytes.
 *
 * Validity: packets from `for await`, `packets()`, `readable`, `batches()`,
 * `dispatch()` and `loop()` own their bytes and stay valid for as long as
 * you keep them. A packet from `next()` shares memory with the next `next()`
 * call on the same capture, like libpcap's own `pcap_next_ex`: on a savefile
 * `data` is a view of libpcap's read buffer, and when libpcap moves that
 * buffer or the handle closes the view is detached (it reads as empty, never
 * as freed memory). Call {@link Packet.clone} to keep such a packet.
 */
export class Packet {
  /** Seconds since the Unix epoch. */
  readonly seconds: number;
  /** Nanoseconds within the second (0-999,999,999); micro-precision handles give multiples of 1000. */
  readonly nanoseconds: number;
  /** Bytes captured (`data.length`). */
  readonly caplen: number;
  /** Length of the packet on the wire (may exceed `caplen`). */
  readonly length: number;
  /** The captured bytes. */
  readonly data: Uint8Array;
  /** The link type (DLT_ value) of the capture it came from. */
  readonly linkType: number;

  /** Makes a packet from its parts. */
  constructor(
    seconds: number,
    nanoseconds: number,
    caplen: number,
    length: number,
    data: Uint8Array,
    linkType: number,
  ) {
    this.seconds = seconds;
    this.nanoseconds = nanoseconds;
    this.caplen = caplen;
    this.length = length;
    this.data = data;
    this.linkType = linkType;
  }

  /** The timestamp as a `Date` (millisecond resolution). */
  get date(): Date {
    return new Date(this.seconds * 1000 + Math.floor(this.nanoseconds / 1e6));
  }

  /** The timestamp in milliseconds since the epoch, with fractional part. */
  get timestampMs(): number {
    return this.seconds * 1000 + this.nanoseconds / 1e6;
  }

  /** The exact timestamp in nanoseconds since the epoch. */
  get timestampNs(): bigint {
    return BigInt(this.seconds) * 1_000_000_000n + BigInt(this.nanoseconds);
  }

  /** A copy whose `data` is its own memory. */
  clone(): Packet {
    return new Packet(
      this.seconds,
      this.nanoseconds,
      this.caplen,
      this.length,
      this.data.slice(),
      this.linkType,
    );
  }
}
