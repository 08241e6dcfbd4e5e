// Shared helpers for the test suite (not part of the published package).
import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join } from "node:path";

/** Absolute path of the repository root. */
export const repoRoot: string = fileURLToPath(new URL("..", import.meta.url));

/** Absolute path of `../shared/corpus` (beside the repository), or `SHARED_CORPUS`. */
export const corpusDir: string = process.env.SHARED_CORPUS ??
  join(repoRoot, "..", "shared", "corpus");

/** True when the corpus is present. */
export const haveCorpus: boolean = existsSync(join(corpusDir, "manifest.json"));

/** Reads a JSON file below the corpus folder. */
export function corpusJson<T = unknown>(relative: string): T {
  return JSON.parse(readFileSync(join(corpusDir, relative), "utf8")) as T;
}

/** Which runtime runs the tests. */
export const runtime: "deno" | "bun" | "node" = "Deno" in globalThis
  ? "deno"
  : "Bun" in globalThis
  ? "bun"
  : "node";

/** A UDP socket bound on 127.0.0.1 (`rx`, at `port`) and one to send to it from (`tx`). */
export interface LoopbackUdp {
  readonly rx: UdpSocket;
  readonly tx: UdpSocket;
  /** The port `rx` is bound to. */
  readonly port: number;
  /** Sends one datagram from `tx` to `rx`. */
  send(payload: string): Promise<void>;
  /** Closes both sockets. */
  close(): void;
}

/** Binds a UDP receiver on 127.0.0.1 (a free port) and makes a sender for it. */
export async function loopbackUdp(): Promise<LoopbackUdp> {
  const rx = createSocket("udp4");
  const tx = createSocket("udp4");
  await new Promise<void>((r) => rx.bind(0, "127.0.0.1", () => r()));
  const port = rx.address().port;
  return {
    rx,
    tx,
    port,
    send: (payload) => new Promise<void>((r) => tx.send(payload, port, "127.0.0.1", () => r())),
    close(): void {
      rx.close();
      tx.close();
    },
  };
}

/** What can be iterated like a capture (for the idle-wait measurements). */
interface Waitable extends AsyncIterable<unknown> {
  packets(options: { signal: AbortSignal }): AsyncIterable<unknown>;
  close(): void;
}

/**
 * Iterates `cap` (on which nothing arrives) for 600 ms while a 5 ms interval timer runs, then
 * closes it: the largest timer gap and how long close() took to end the iteration, in ms.
 */
export async function idleWaitThenClose(
  cap: Waitable,
): Promise<{ worstGap: number; closeMs: number }> {
  let ended = 0;
  const reading = (async () => {
    for await (const _ of cap) { /* nothing comes */ }
    ended = performance.now();
  })();
  let last = performance.now();
  let worstGap = 0;
  const iv = setInterval(() => {
    const now = performance.now();
    worstGap = Math.max(worstGap, now - last);
    last = now;
  }, 5);
  await new Promise((r) => setTimeout(r, 600));
  clearInterval(iv);
  const closedAt = performance.now();
  cap.close();
  await reading;
  return { worstGap, closeMs: ended - closedAt };
}

/**
 * Iterates `cap.packets({ signal })` (nothing arrives), aborts after 200 ms: what the iteration
 * threw (null if it ended quietly) and how long after the abort it ended, in ms.
 */
export async function idleWaitThenAbort(
  cap: Waitable,
): Promise<{ error: unknown; abortMs: number }> {
  const ac = new AbortController();
  let endedAt = 0;
  const reading = (async () => {
    try {
      for await (const _ of cap.packets({ signal: ac.signal })) { /* nothing */ }
      return null;
    } catch (e) {
      endedAt = performance.now();
      return e;
    }
  })();
  await new Promise((r) => setTimeout(r, 200));
  const abortedAt = performance.now();
  ac.abort();
  const error = await reading;
  return { error, abortMs: endedAt - abortedAt };
}
