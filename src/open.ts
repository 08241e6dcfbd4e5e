/**
 * Opening handles: `openLive`, `openOffline`, `openDead`.
 *
 * @module
 */

import type { Ptr } from "../ffi/types.ts";
import { DeadHandle, type Direction, LiveCapture, OfflineCapture, statusError } from "./capture.ts";
import { ErrorCode, PcapError } from "./errors.ts";
import { cString, errorBuffer, fromCBuffer, native, requireSymbol } from "./native.ts";
import type { TimestampPrecision } from "./packet.ts";

/** Options of {@link openLive}. */
export interface LiveOptions {
  /** Bytes to keep of each packet (default 262144). */
  readonly snaplen?: number;
  /** Promiscuous mode (default false). */
  readonly promiscuous?: boolean;
  /** Read timeout in milliseconds: how long libpcap may hold packets to batch them (default 100). */
  readonly timeout?: number;
  /**
   * Deliver each packet at once, without batching (default false). On Linux
   * libpcap then uses one ring slot of about `snaplen` bytes per packet
   * (TPACKET_V2), so with the default snaplen a 2 MiB buffer holds only a
   * few packets: lower `snaplen` or raise `bufferSize` for bursts.
   */
  readonly immediate?: boolean;
  /** Kernel buffer size in bytes (default: libpcap's, 2 MiB on Linux). */
  readonly bufferSize?: number;
  /** Monitor mode (rfmon) on Wi-Fi devices. */
  readonly monitor?: boolean;
  /** Timestamp source, by name (`host`, `adapter`, …) or number. */
  readonly timestampType?: string | number;
  /** `"micro"` (default) or `"nano"`. */
  readonly timestampPrecision?: TimestampPrecision;
  /** Which directions to capture. */
  readonly direction?: Direction;
  /** Linux: the protocol of the packet socket (`pcap_set_protocol_linux`), e.g. 3 (ETH_P_ALL). */
  readonly protocol?: number;
  /** A filter to set once active. */
  readonly filter?: string;
  /** Start in non-blocking mode. */
  readonly nonblocking?: boolean;
  /** Receives the activation warning (default: `console.warn`). */
  readonly onWarning?: (warning: string) => void;
}

function checkInt(name: string, v: unknown, min: number): number {
  if (typeof v !== "number" || !Number.isInteger(v)) {
    throw new TypeError(`${name} must be an integer`);
  }
  if (v < min) throw new RangeError(`${name} must be at least ${min}`);
  return v;
}

function precisionValue(p: unknown): TimestampPrecision {
  if (p === undefined) return "micro";
  if (p !== "micro" && p !== "nano") throw new TypeError('precision must be "micro" or "nano"');
  return p;
}

const directionNames = ["inout", "in", "out"];

/**
 * Opens a live capture: `pcap_create`, each option's `pcap_set_*`, then
 * `pcap_activate`. Errors are {@link PcapError}s (`PERM_DENIED` with a fix,
 * `NO_SUCH_DEVICE`, `IFACE_NOT_UP`, `RFMON_NOTSUP`, …); a warning from
 * activation goes to `onWarning` and stays in `capture.warning`.
 *
 * ```ts
 * import { openLive } from "@netcap/pcap";
 *
 * using capture = openLive("eth0", { filter: "udp port 53", timeout: 100 });
 * for await (const batch of capture.batches({ signal: AbortSignal.timeout(5000) })) {
 *   for (const packet of batch) console.log(packet.length);
 * }
 * ```
 */
export function openLive(
  device: string | { readonly name: string },
  options: LiveOptions = {},
): LiveCapture {
  const name = typeof device === "string" ? device : device?.name;
  if (typeof name !== "string") throw new TypeError("device must be a string or a Device");
  const snaplen = checkInt("snaplen", options.snaplen ?? 262144, 1);
  const timeout = checkInt("timeout", options.timeout ?? 100, 0);
  const precision = precisionValue(options.timestampPrecision);
  if (options.direction !== undefined && !directionNames.includes(options.direction)) {
    throw new TypeError('direction must be "inout", "in" or "out"');
  }
  const n = native();
  const s = n.pcap.symbols;
  const errbuf = errorBuffer();
  const p: Ptr = s.pcap_create(cString(name), errbuf);
  if (n.backend.isNull(p)) {
    throw new PcapError(ErrorCode.ERROR, `pcap_create: ${fromCBuffer(errbuf)}`);
  }
  let owned = true;
  try {
    const set = (what: string, rc: number): void => {
      if (rc !== 0) throw statusError(rc, p, what);
    };
    set("pcap_set_snaplen", s.pcap_set_snaplen(p, snaplen));
    set("pcap_set_promisc", s.pcap_set_promisc(p, options.promiscuous ? 1 : 0));
    set("pcap_set_timeout", s.pcap_set_timeout(p, timeout));
    if (options.immediate !== undefined) {
      const f = requireSymbol("pcap_set_immediate_mode");
      set("pcap_set_immediate_mode", f(p, options.immediate ? 1 : 0));
    }
    if (options.bufferSize !== undefined) {
      const size = checkInt("bufferSize", options.bufferSize, 1);
      set("pcap_set_buffer_size", s.pcap_set_buffer_size(p, size));
    }
    if (options.monitor !== undefined) {
      set("pcap_set_rfmon", s.pcap_set_rfmon(p, options.monitor ? 1 : 0));
    }
    if (options.timestampType !== undefined) {
      let t = options.timestampType;
      if (typeof t === "string") {
        const v = requireSymbol("pcap_tstamp_type_name_to_val")(cString(t));
        if (v < 0) throw new RangeError(`Unknown timestamp type "${t}"`);
        t = v;
      }
      const f = requireSymbol("pcap_set_tstamp_type");
      set("pcap_set_tstamp_type", f(p, checkInt("timestampType", t, 0)));
    }
    if (precision === "nano") {
      set("pcap_set_tstamp_precision", requireSymbol("pcap_set_tstamp_precision")(p, 1));
    }
    if (options.protocol !== undefined) {
      const f = requireSymbol("pcap_set_protocol_linux");
      set("pcap_set_protocol_linux", f(p, checkInt("protocol", options.protocol, 0)));
    }
    const rc = s.pcap_activate(p);
    if (rc < 0) throw statusError(rc, p, `Cannot capture on ${name}`);
    let warning: string | null = null;
    if (rc > 0) {
      // PCAP_WARNING and PCAP_WARNING_PROMISC_NOTSUP set an error text; others do not.
      const detail = rc === 3 ? "" : n.backend.readCString(s.pcap_geterr(p)) ?? "";
      warning = detail || (n.backend.readCString(s.pcap_statustostr(rc)) ?? `warning ${rc}`);
      (options.onWarning ?? ((w: string) => console.warn(`pcap: ${name}: ${w}`)))(warning);
    }
    const cap = new LiveCapture(
      p,
      name,
      precision,
      warning,
      timeout,
      options.immediate ?? false,
      options.bufferSize,
    );
    owned = false;
    try {
      if (options.direction !== undefined) cap.setDirection(options.direction);
      if (options.filter !== undefined) cap.setFilter(options.filter);
      if (options.nonblocking) cap.nonblocking = true;
    } catch (e) {
      cap.close();
      throw e;
    }
    return cap;
  } finally {
    if (owned) s.pcap_close(p);
  }
}

/** Options of {@link openOffline}. */
export interface OfflineOptions {
  /** Timestamp precision of the packets: `"micro"` (default) or `"nano"`. */
  readonly precision?: TimestampPrecision;
}

/**
 * Opens a savefile (pcap, or pcapng as far as libpcap reads it) through
 * libpcap. Errors carry libpcap's text.
 *
 * ```ts
 * import { openOffline } from "@netcap/pcap";
 *
 * using capture = openOffline("capture.pcap", { precision: "nano" });
 * for (let p = capture.next(); p; p = capture.next()) console.log(p.seconds, p.caplen);
 * ```
 */
export function openOffline(path: string, options: OfflineOptions = {}): OfflineCapture {
  if (typeof path !== "string") throw new TypeError("path must be a string");
  const precision = precisionValue(options.precision);
  const n = native();
  const errbuf = errorBuffer();
  const withPrecision = n.pcap.symbols.pcap_open_offline_with_tstamp_precision;
  const unlocked = openUnlocked(path, precision, errbuf);
  if (unlocked) return new OfflineCapture(unlocked.handle, path, precision, unlocked.buffer);
  let p: Ptr;
  if (withPrecision) {
    p = withPrecision(cString(path), precision === "nano" ? 1 : 0, errbuf);
  } else {
    if (precision === "nano") requireSymbol("pcap_open_offline_with_tstamp_precision");
    p = requireSymbol("pcap_open_offline")(cString(path), errbuf);
  }
  if (n.backend.isNull(p)) throw new PcapError(ErrorCode.ERROR, fromCBuffer(errbuf));
  return new OfflineCapture(p, path, precision);
}

/**
 * Where the C library can turn off a stream's own locking (glibc, musl:
 * `__fsetlocking`), opens the file with `fopen`, turns its locking off and
 * hands it to `pcap_fopen_offline_with_tstamp_precision`. libpcap reads every
 * record with two `fread`s, and in a process with threads (Deno and Bun have
 * several) each takes and drops the stream's lock: about 20 ns of the 70 ns a
 * record costs. A handle is used from one thread at a time, so the lock buys
 * nothing. Returns null (and the caller opens the usual way, for libpcap's own
 * error text) where this is not possible or the open fails.
 */
function openUnlocked(
  path: string,
  precision: TimestampPrecision,
  errbuf: Uint8Array,
): { handle: Ptr; buffer: Ptr } | null {
  const n = native();
  const c = n.libc?.symbols;
  const fopenOffline = n.pcap.symbols.pcap_fopen_offline_with_tstamp_precision;
  if (!c?.fopen || !c.__fsetlocking || !fopenOffline || path === "-") return null;
  const fp = c.fopen(cString(path), cString("rb"));
  if (n.backend.isNull(fp)) return null;
  c.__fsetlocking(fp, 2 /* FSETLOCKING_BYCALLER */);
  // A large stdio buffer: the default (the file system's block, 4 KiB) costs a read(2) every
  // 50 small records, and a system call is several µs on a virtual machine.
  let buffer: Ptr = null;
  if (c.malloc && c.setvbuf) {
    buffer = c.malloc(STREAM_BUFFER);
    if (!n.backend.isNull(buffer) && c.setvbuf(fp, buffer, 0, /* _IOFBF */ STREAM_BUFFER) !== 0) {
      c.free(buffer);
      buffer = null;
    }
  }
  const p = fopenOffline(fp, precision === "nano" ? 1 : 0, errbuf);
  if (n.backend.isNull(p)) {
    c.fclose(fp);
    if (!n.backend.isNull(buffer)) c.free(buffer);
    return null;
  }
  return { handle: p, buffer: n.backend.isNull(buffer) ? null : buffer };
}

/** The stdio buffer of a savefile opened by {@link openUnlocked}. */
const STREAM_BUFFER = 1 << 20;

/** Options of {@link openDead}. */
export interface DeadOptions {
  /** Snapshot length (default 262144). */
  readonly snaplen?: number;
  /** Timestamp precision for dumpers: `"micro"` (default) or `"nano"`. */
  readonly precision?: TimestampPrecision;
}

/**
 * A handle for a link type with no capture behind it (`pcap_open_dead`): for
 * filters and dumpers.
 *
 * ```ts
 * import { LinkType, openDead } from "@netcap/pcap";
 *
 * using dead = openDead(LinkType.EN10MB, { snaplen: 65535 });
 * using dumper = dead.dump("out.pcap");
 * dumper.write({ data: frame, seconds: 1700000000, nanoseconds: 0 });
 * ```
 */
export function openDead(linkType: number, options: DeadOptions = {}): DeadHandle {
  checkInt("linkType", linkType, 0);
  const snaplen = checkInt("snaplen", options.snaplen ?? 262144, 1);
  const precision = precisionValue(options.precision);
  const n = native();
  let p: Ptr;
  const withPrecision = n.pcap.symbols.pcap_open_dead_with_tstamp_precision;
  if (withPrecision) p = withPrecision(linkType, snaplen, precision === "nano" ? 1 : 0);
  else {
    if (precision === "nano") requireSymbol("pcap_open_dead_with_tstamp_precision");
    p = requireSymbol("pcap_open_dead")(linkType, snaplen);
  }
  if (n.backend.isNull(p)) throw new PcapError(ErrorCode.ERROR, "pcap_open_dead failed");
  return new DeadHandle(p, precision);
}
