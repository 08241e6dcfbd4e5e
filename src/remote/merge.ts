/**
 * Merging captures (remote or local) into one stream of packets.
 *
 * @module
 */

import type { BatchOptions } from "../capture.ts";
import type { Packet } from "../packet.ts";

/** Anything with `batches()`: `RemoteCapture`, `LiveCapture`, `OfflineCapture`. */
export interface BatchSource {
  /** Batches of packets, ending when the capture ends. */
  batches(options?: BatchOptions): AsyncIterable<Packet[]>;
}

/** A packet of a merged stream, with the index of the capture it came from. */
export interface MergedPacket {
  /** Index of the source in the array given to {@link mergeRemote}. */
  readonly source: number;
  /** The packet. */
  readonly packet: Packet;
}

interface Held {
  /** Wall-clock milliseconds from which the hold time counts. */
  due: number;
  ts: bigint;
  item: MergedPacket;
}

/** Options of {@link mergeRemote}. */
export interface MergeOptions {
  /** Ends the merge (throwing the reason) when aborted; the sources' iterations end too. */
  readonly signal?: AbortSignal;
  /**
   * Reorder by time stamp: hold each packet until this many milliseconds
   * passed since its time stamp (or its arrival, if sooner) and emit in
   * time-stamp order (0, the default: arrival order). Clocks of different
   * hosts are only as close as they are synchronized.
   */
  readonly reorderMs?: number;
  /**
   * Called when one source fails (its server went away, its data channel broke): that
   * source is dropped and the merge goes on with the others. Without it, the first
   * failure ends the merge with that error.
   */
  readonly onSourceError?: (error: unknown, source: number) => void;
}

/**
 * Merges several captures into one async iterable of `{ source, packet }`.
 * It ends when every source has ended; an error of one source ends the merge
 * with that error (and stops reading the others), unless `onSourceError` is
 * given: then the failing source is reported there and the others go on.
 */
export async function* mergeRemote(
  sources: readonly BatchSource[],
  options: MergeOptions = {},
): AsyncGenerator<MergedPacket, void, undefined> {
  const reorder = options.reorderMs ?? 0;
  if (typeof reorder !== "number" || !(reorder >= 0)) {
    throw new RangeError("reorderMs must be >= 0");
  }
  options.signal?.throwIfAborted();
  const inner = new AbortController();
  const onAbort = (): void => inner.abort(options.signal!.reason);
  options.signal?.addEventListener("abort", onAbort, { once: true });
  let pending: Held[] = [];
  let running = sources.length;
  let failure: { error: unknown } | null = null;
  let wake: (() => void) | null = null;
  const poke = (): void => {
    const w = wake;
    wake = null;
    w?.();
  };
  const pumps = sources.map(async (src, i) => {
    try {
      for await (const batch of src.batches({ signal: inner.signal })) {
        const at = Date.now();
        for (const packet of batch) {
          const ts = packet.timestampNs;
          pending.push({ due: Math.min(at, packet.timestampMs), ts, item: { source: i, packet } });
        }
        poke();
      }
    } catch (e) {
      if (inner.signal.aborted) return;
      if (options.onSourceError) {
        try {
          options.onSourceError(e, i);
        } catch (thrown) {
          if (!failure) failure = { error: thrown };
        }
      } else if (!failure) failure = { error: e };
    } finally {
      running--;
      poke();
    }
  });
  let timer: ReturnType<typeof setTimeout> | null = null;
  try {
    for (;;) {
      options.signal?.throwIfAborted();
      if (failure) throw (failure as { error: unknown }).error;
      if (pending.length > 0) {
        let out: Held[];
        if (reorder === 0) {
          out = pending;
          pending = [];
        } else {
          // Time-stamp order: a packet is due once `reorderMs` passed since its time stamp
          // (or since it arrived, when its host's clock runs ahead); due packets leave in
          // time-stamp order, and never ahead of an earlier one still held.
          pending.sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0));
          const cut = running === 0 ? Infinity : Date.now() - reorder;
          let n = 0;
          while (n < pending.length && pending[n].due <= cut) n++;
          out = pending.slice(0, n);
          pending = pending.slice(n);
        }
        for (const p of out) yield p.item;
        if (out.length > 0) continue;
      }
      if (running === 0 && pending.length === 0) return;
      await new Promise<void>((resolve) => {
        wake = resolve;
        if (reorder > 0 && pending.length > 0) {
          // The earliest time stamp held is what the output waits for.
          const head = pending.reduce((m, p) => (p.ts < m.ts ? p : m));
          const due = Math.max(1, head.due + reorder - Date.now());
          timer = setTimeout(poke, due);
        }
      });
      if (timer) clearTimeout(timer);
      timer = null;
    }
  } finally {
    if (timer) clearTimeout(timer);
    options.signal?.removeEventListener("abort", onAbort);
    if (!inner.signal.aborted) inner.abort();
    await Promise.allSettled(pumps);
  }
}
