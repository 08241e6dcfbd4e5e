/**
 * A single-consumer async queue: the push side is synchronous, the pull side an async iterable.
 *
 * @module
 */

/** An async iterable fed synchronously with `push()` and ended with `end()`. */
export class ChunkQueue<T> implements AsyncIterable<T> {
  private items: T[] = [];
  private head = 0;
  private waiting: ((r: IteratorResult<T>) => void) | null = null;
  private ended = false;

  /** Adds an item (ignored after `end()`). */
  push(item: T): void {
    if (this.ended) return;
    const w = this.waiting;
    if (w !== null) {
      this.waiting = null;
      w({ value: item, done: false });
    } else this.items.push(item);
  }
  /** Marks the end: the iterator finishes once the queued items are consumed. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    const w = this.waiting;
    if (w !== null) {
      this.waiting = null;
      w({ value: undefined as T, done: true });
    }
  }
  /** True once `end()` was called. */
  get isEnded(): boolean {
    return this.ended;
  }
  /** Number of items waiting to be consumed. */
  get size(): number {
    return this.items.length - this.head;
  }
  /** The async iterator (one consumer). */
  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: (): Promise<IteratorResult<T>> => {
        if (this.head < this.items.length) {
          const v = this.items[this.head++];
          if (this.head > 1024 && this.head * 2 > this.items.length) {
            this.items = this.items.slice(this.head);
            this.head = 0;
          }
          return Promise.resolve({ value: v, done: false });
        }
        if (this.ended) return Promise.resolve({ value: undefined as T, done: true });
        return new Promise((r) => (this.waiting = r));
      },
      return: (): Promise<IteratorResult<T>> => {
        this.items = [];
        this.head = 0;
        this.ended = true;
        return Promise.resolve({ value: undefined as T, done: true });
      },
    };
  }
}
