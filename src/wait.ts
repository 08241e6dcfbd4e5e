/**
 * Internal: waiting for a capture to become readable without blocking the
 * event loop, and waking that wait at once from `close()` or an AbortSignal.
 *
 * Where libpcap gives a selectable descriptor (UNIX), the wait is `poll(2)`
 * on it plus the read end of a pipe, run off the JS thread by the back end
 * (Deno: a non-blocking FFI call; Bun: a Worker). Writing one byte to the
 * pipe wakes it. Elsewhere (Windows), the wait is a short timer.
 *
 * @module
 */

import { native, structs } from "./native.ts";

/** `POLLIN`, and the error conditions `poll(2)` reports whatever was asked. */
const POLLIN = 1;
const POLLERR = 8;
const POLLHUP = 16;
const POLLNVAL = 32;

/** A wake-up pipe. */
export class Waker {
  #readFd = -1;
  #writeFd = -1;
  #byte = new Uint8Array(1);
  #drain = new Uint8Array(64);
  #pending = 0;

  /** True when a pipe could be made (UNIX). */
  static available(): boolean {
    const libc = native().libc;
    return !!(libc?.symbols.pipe && libc.symbols.write && libc.symbols.read && libc.symbols.close);
  }

  /** The read end (to poll), creating the pipe on first use. */
  get fd(): number {
    if (this.#readFd < 0) {
      const libc = native().libc!;
      const fds = new Int32Array(2);
      if (libc.symbols.pipe!(fds) !== 0) throw new Error("pipe() failed");
      this.#readFd = fds[0];
      this.#writeFd = fds[1];
    }
    return this.#readFd;
  }

  /** Wakes a pending wait (safe to call any number of times). */
  wake(): void {
    if (this.#writeFd < 0 || this.#pending >= 64) return;
    if (Number(native().libc!.symbols.write!(this.#writeFd, this.#byte, 1)) === 1) this.#pending++;
  }

  /** Consumes pending wake-ups (call after a wait returned because of one). */
  drain(): void {
    // Read only what wake() wrote, so that the (blocking) read never waits.
    if (this.#readFd < 0 || this.#pending === 0) return;
    const libc = native().libc!;
    const got = Number(libc.symbols.read!(this.#readFd, this.#drain, this.#pending));
    if (got > 0) this.#pending -= got;
  }

  /** Closes the pipe. */
  close(): void {
    if (this.#readFd < 0) return;
    const libc = native().libc!;
    libc.symbols.close!(this.#readFd);
    libc.symbols.close!(this.#writeFd);
    this.#readFd = this.#writeFd = -1;
    this.#pending = 0;
  }
}

/**
 * Blocks the thread until `fd` is readable or `timeoutMs` passes (-1: no limit; `poll(2)`,
 * synchronous, for the synchronous reads); true when it is readable. False at once where
 * there is no `poll`.
 */
export function pollReadableSync(fd: number, timeoutMs: number): boolean {
  const n = native();
  const poll = n.libc?.symbols.poll;
  if (!poll || fd < 0) return false;
  const p = pollOne ??= makePollOne();
  const v = p.view, le = p.le;
  v.setInt32(p.fd, fd, le);
  v.setInt16(p.events, POLLIN, le);
  v.setInt16(p.revents, 0, le);
  const r = poll(p.bytes, 1, timeoutMs < 0 ? -1 : Math.floor(timeoutMs)) as number;
  // An error condition counts as readable: the read that follows reports it.
  return r > 0 && (v.getInt16(p.revents, le) & (POLLIN | POLLERR | POLLHUP | POLLNVAL)) !== 0;
}

/** Blocks the thread for `ms` milliseconds (`poll(2)` on no descriptor). */
export function sleepSync(ms: number): void {
  const poll = native().libc?.symbols.poll;
  if (!poll) return;
  poll(new Uint8Array(0), 0, Math.max(0, Math.floor(ms)));
}

/** One `struct pollfd` and where its fields are, reused by {@link pollReadableSync}. */
interface PollOne {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  readonly le: boolean;
  readonly fd: number;
  readonly events: number;
  readonly revents: number;
}
let pollOne: PollOne | null = null;

function makePollOne(): PollOne {
  const layout = structs().pollfd;
  const bytes = new Uint8Array(layout.size);
  return {
    bytes,
    view: new DataView(bytes.buffer),
    le: layout.abi.littleEndian,
    fd: layout.offsetOf("fd"),
    events: layout.offsetOf("events"),
    revents: layout.offsetOf("revents"),
  };
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

let lastYield = 0;

/**
 * Gives timers and I/O a turn when the caller has been running for more than
 * `budgetMs` since the last turn (for loops that never wait, such as reading
 * a savefile).
 */
export async function yieldIfBusy(budgetMs = 8): Promise<void> {
  const now = performance.now();
  if (now - lastYield < budgetMs) return;
  await new Promise<void>((resolve) => setTimeout(resolve, 0));
  lastYield = performance.now();
}

/**
 * Waits until `fd` or the waker is readable, or `timeoutMs` passes.
 * Returns when any of these happens; the caller re-checks its state.
 */
export async function waitReadable(fd: number, waker: Waker, timeoutMs: number): Promise<void> {
  const n = native();
  lastYield = performance.now();
  const r = await n.backend.waitReadable([fd, waker.fd], timeoutMs);
  lastYield = performance.now();
  if (r > 0) waker.drain();
}
