/**
 * Writing savefiles through libpcap (`pcap_dump_*`).
 *
 * @module
 */

import type { Ptr } from "../ffi/types.ts";
import { ErrorCode, PcapError } from "./errors.ts";
import { native, requireSymbol, structs } from "./native.ts";
import type { TimestampPrecision } from "./packet.ts";

/** What {@link Dumper.write} takes: a `Packet`, or the same fields. */
export interface DumpInput {
  /** The captured bytes. */
  readonly data: Uint8Array;
  /** Length on the wire (default: `data.length`). */
  readonly length?: number;
  /** Seconds since the epoch (default: now). */
  readonly seconds?: number;
  /** Nanoseconds within the second (default: now). */
  readonly nanoseconds?: number;
}

/**
 * A savefile being written by libpcap. Packets are buffered by the C library;
 * call {@link Dumper.flush} to push them to the file, {@link Dumper.close}
 * when done.
 *
 * ```ts
 * import { openLive } from "@netcap/pcap";
 *
 * using capture = openLive("eth0", { timeout: 100 });
 * using dumper = capture.dump("out.pcap");
 * for await (const batch of capture.batches({ signal: AbortSignal.timeout(10_000) })) {
 *   for (const packet of batch) dumper.write(packet);
 * }
 * ```
 */
export class Dumper {
  /** The file's path. */
  readonly path: string;
  #dumper: Ptr | null;
  #precision: TimestampPrecision;
  #header: Uint8Array;
  #view: DataView;

  /** @internal Use a handle's `dump()`. */
  constructor(dumper: Ptr, path: string, precision: TimestampPrecision) {
    this.#dumper = dumper;
    this.path = path;
    this.#precision = precision;
    this.#header = new Uint8Array(structs().pcap_pkthdr.size);
    this.#view = new DataView(this.#header.buffer);
    registry.register(this, dumper, this);
  }

  #live(): Ptr {
    if (this.#dumper === null) throw new PcapError(ErrorCode.CLOSED, "The dumper is closed");
    return this.#dumper;
  }

  /** True once closed. */
  get closed(): boolean {
    return this.#dumper === null;
  }

  /** Appends one packet (`pcap_dump`). */
  write(packet: DumpInput): void {
    const d = this.#live();
    if (!packet || !(packet.data instanceof Uint8Array)) {
      throw new TypeError("packet.data must be a Uint8Array");
    }
    const s = structs();
    let seconds = packet.seconds;
    let nanos = packet.nanoseconds;
    if (seconds === undefined || nanos === undefined) {
      const now = Date.now();
      seconds ??= Math.floor(now / 1000);
      nanos ??= (now % 1000) * 1e6;
    }
    if (!Number.isInteger(seconds) || !Number.isInteger(nanos) || nanos < 0 || nanos >= 1e9) {
      throw new RangeError("seconds and nanoseconds must be integers, nanoseconds below 1e9");
    }
    const v = this.#view;
    const ts = s.pcap_pkthdr.offsetOf("ts");
    s.timeval.write(v, {
      tv_sec: seconds,
      tv_usec: this.#precision === "nano" ? nanos : Math.floor(nanos / 1000),
    }, ts);
    s.pcap_pkthdr.write(v, {
      caplen: packet.data.length,
      len: packet.length ?? packet.data.length,
    });
    native().pcap.symbols.pcap_dump(d, this.#header, packet.data);
  }

  /** Writes buffered packets to the file (`pcap_dump_flush`). */
  flush(): void {
    const d = this.#live();
    if (requireSymbol("pcap_dump_flush")(d) !== 0) {
      throw new PcapError(ErrorCode.IO, `Could not flush ${this.path}`);
    }
  }

  /** The current file position in bytes (`pcap_dump_ftell64`). */
  get position(): number {
    const d = this.#live();
    const s = native().pcap.symbols;
    const r = s.pcap_dump_ftell64 ? s.pcap_dump_ftell64(d) : requireSymbol("pcap_dump_ftell")(d);
    return Number(r);
  }

  /** Flushes and closes the file (`pcap_dump_close`). Idempotent. */
  close(): void {
    const d = this.#dumper;
    if (d === null) return;
    this.#dumper = null;
    registry.unregister(this);
    requireSymbol("pcap_dump_close")(d);
  }

  /** Same as {@link Dumper.close}. */
  [Symbol.dispose](): void {
    this.close();
  }
}

const registry = new FinalizationRegistry<Ptr>((d) => {
  try {
    native().pcap.symbols.pcap_dump_close?.(d);
  } catch {
    // Safety net only.
  }
});
