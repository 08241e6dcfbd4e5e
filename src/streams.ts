/**
 * Internal: turning the batch iterators of captures (local or remote) into
 * per-packet iterators and `ReadableStream`s, one way for every kind of capture.
 *
 * @module
 */

/** Flattens an async iterable of batches into single items. */
export async function* flatten<T>(
  batches: AsyncIterable<readonly T[]>,
): AsyncGenerator<T, void, undefined> {
  for await (const batch of batches) {
    for (const item of batch) yield item;
  }
}

/**
 * A pull-based `ReadableStream` over an async iterator (no read-ahead);
 * cancelling the stream returns the iterator.
 */
export function streamOf<T>(it: AsyncIterator<T, void, undefined>): ReadableStream<T> {
  return new ReadableStream<T>({
    async pull(controller): Promise<void> {
      try {
        const r = await it.next();
        if (r.done) controller.close();
        else controller.enqueue(r.value);
      } catch (e) {
        controller.error(e);
      }
    },
    async cancel(): Promise<void> {
      await it.return?.();
    },
  }, { highWaterMark: 0 });
}
