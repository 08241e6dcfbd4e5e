/**
 * The one error type of this package, and its codes.
 *
 * Argument mistakes are `TypeError` / `RangeError`; everything that comes from
 * libpcap, the operating system, a file's contents or a closed handle is a
 * {@link PcapError} whose `code` says what kind of failure it was.
 *
 * @module
 */

/** The codes a {@link PcapError} can carry. */
export const ErrorCode = {
  /** libpcap (or the native library) could not be loaded. */
  LIBRARY_NOT_FOUND: "LIBRARY_NOT_FOUND",
  /** The loaded library lacks a function this call needs. */
  NOT_SUPPORTED: "NOT_SUPPORTED",
  /** A generic `PCAP_ERROR` (-1) from libpcap. */
  ERROR: "ERROR",
  /** `PCAP_ERROR_BREAK`: the loop was broken by `breakLoop()`. */
  BREAK: "BREAK",
  /** `PCAP_ERROR_NOT_ACTIVATED`. */
  NOT_ACTIVATED: "NOT_ACTIVATED",
  /** `PCAP_ERROR_ACTIVATED`. */
  ACTIVATED: "ACTIVATED",
  /** `PCAP_ERROR_NO_SUCH_DEVICE`. */
  NO_SUCH_DEVICE: "NO_SUCH_DEVICE",
  /** `PCAP_ERROR_RFMON_NOTSUP`. */
  RFMON_NOTSUP: "RFMON_NOTSUP",
  /** `PCAP_ERROR_NOT_RFMON`. */
  NOT_RFMON: "NOT_RFMON",
  /** `PCAP_ERROR_PERM_DENIED`. */
  PERM_DENIED: "PERM_DENIED",
  /** `PCAP_ERROR_IFACE_NOT_UP`. */
  IFACE_NOT_UP: "IFACE_NOT_UP",
  /** `PCAP_ERROR_CANTSET_TSTAMP_TYPE`. */
  CANTSET_TSTAMP_TYPE: "CANTSET_TSTAMP_TYPE",
  /** `PCAP_ERROR_PROMISC_PERM_DENIED`. */
  PROMISC_PERM_DENIED: "PROMISC_PERM_DENIED",
  /** `PCAP_ERROR_TSTAMP_PRECISION_NOTSUP`. */
  TSTAMP_PRECISION_NOTSUP: "TSTAMP_PRECISION_NOTSUP",
  /** A BPF filter expression did not compile. */
  FILTER: "FILTER",
  /** The handle (or other native resource) was already closed. */
  CLOSED: "CLOSED",
  /** A savefile (pcap / pcapng) is malformed or truncated. */
  FORMAT: "FORMAT",
  /** An I/O error outside libpcap (reading or writing a file or stream). */
  IO: "IO",
  /** A remote-capture (rpcap) protocol error. */
  REMOTE: "REMOTE",
} as const;

/** One of the values of {@link ErrorCode}. */
export type ErrorCode = typeof ErrorCode[keyof typeof ErrorCode];

/** Options of {@link PcapError}. */
export interface PcapErrorOptions {
  /** The underlying cause, if any. */
  cause?: unknown;
  /** The libpcap status number, when the error came from a libpcap return value. */
  status?: number;
  /** A hint on how to fix the problem (printed after the message). */
  hint?: string;
}

/** An error from libpcap, the native library, a savefile or a closed handle. */
export class PcapError extends Error {
  /** What kind of failure this is. */
  readonly code: ErrorCode;
  /** The libpcap status number, when there was one. */
  readonly status: number | undefined;
  /** A hint on how to fix the problem, when there is one. */
  readonly hint: string | undefined;

  /** Creates an error with a code and a message. */
  constructor(code: ErrorCode, message: string, options: PcapErrorOptions = {}) {
    super(
      options.hint ? `${message}\n${options.hint}` : message,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = "PcapError";
    this.code = code;
    this.status = options.status;
    this.hint = options.hint;
  }
}

/**
 * A malformed or truncated savefile. `offset` is the byte offset (from the
 * start of the file or stream) where the problem was found.
 */
export class PcapFormatError extends PcapError {
  /** Byte offset in the file or stream where the problem was found. */
  readonly offset: number;
  /** The reason, without the offset. */
  readonly reason: string;

  /** Creates a format error at a byte offset. */
  constructor(offset: number, reason: string, options: PcapErrorOptions = {}) {
    super(ErrorCode.FORMAT, `${reason} (at byte offset ${offset})`, options);
    this.name = "PcapFormatError";
    this.offset = offset;
    this.reason = reason;
  }
}
