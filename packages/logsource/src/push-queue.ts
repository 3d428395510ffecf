/**
 * A queue that a push source (file follower, child process) fills and an async iterator drains,
 * with back-pressure: `onPause` when `highWater` items wait, `onResume` when they fall to half.
 */

/** Options of `createPushQueue`. */
export interface PushQueueOptions {
  /** Items queued before `onPause` is called. Default 10,000. */
  highWater?: number;
  onPause?: () => void;
  onResume?: () => void;
  /** Called once when the consumer stops early (`return`): stop the source. */
  onReturn?: () => Promise<void> | void;
}

/** The producer's side and the consumer's iterator. */
export interface PushQueue<T> extends AsyncIterableIterator<T> {
  push(item: T): void;
  /** No more items: the iterator finishes after the queued ones. */
  end(): void;
  /** The iterator throws `error` after the queued items. */
  fail(error: unknown): void;
  /** Whether `end`, `fail` or `return` happened. */
  readonly ended: boolean;
  /** Everything queued (waiting for at least one item), or done: the batch consumer's `next`. */
  nextBatch(): Promise<IteratorResult<T[]>>;
  /** The consumer stops early: the queue ends and `onReturn` stops the source. */
  return(): Promise<IteratorResult<T>>;
}

/** Creates a push queue. */
export function createPushQueue<T>(
  options: PushQueueOptions = {},
): PushQueue<T> {
  const highWater = options.highWater ?? 10_000;
  let items: T[] = [];
  let head = 0;
  let ended = false;
  let failure: { error: unknown } | undefined;
  let paused = false;
  let waiter: ((r: IteratorResult<T>) => void) | undefined;
  let batchWaiter: ((r: IteratorResult<T[]>) => void) | undefined;
  let waiterReject: ((e: unknown) => void) | undefined;
  const done: IteratorResult<T> = { value: undefined, done: true };

  const settleWaiter = (): void => {
    const resolve = waiter;
    const resolveBatch = batchWaiter;
    const reject = waiterReject;
    waiter = batchWaiter = waiterReject = undefined;
    if (failure !== undefined && reject !== undefined) {
      reject(failure.error);
      failure = undefined;
    } else {
      resolve?.(done);
      resolveBatch?.(done as IteratorResult<T[]>);
    }
  };
  const takeFailure = (): Promise<never> => {
    const error = failure?.error;
    failure = undefined;
    return Promise.reject(
      error instanceof Error ? error : new Error(String(error)),
    );
  };

  const queue: PushQueue<T> = {
    push(item: T): void {
      if (ended) return;
      if (waiter !== undefined) {
        const resolve = waiter;
        waiter = waiterReject = undefined;
        resolve({ value: item, done: false });
        return;
      }
      if (batchWaiter !== undefined) {
        const resolve = batchWaiter;
        batchWaiter = waiterReject = undefined;
        resolve({ value: [item], done: false });
        return;
      }
      items.push(item);
      if (!paused && items.length - head >= highWater) {
        paused = true;
        options.onPause?.();
      }
    },
    end(): void {
      ended = true;
      settleWaiter();
    },
    fail(error: unknown): void {
      if (ended) return;
      failure = { error };
      ended = true;
      settleWaiter();
    },
    get ended(): boolean {
      return ended;
    },
    next(): Promise<IteratorResult<T>> {
      if (head < items.length) {
        const value = items[head++] as T;
        if (head === items.length) {
          items = [];
          head = 0;
        }
        if (paused && items.length - head <= highWater / 2) {
          paused = false;
          options.onResume?.();
        }
        return Promise.resolve({ value, done: false });
      }
      if (failure !== undefined) return takeFailure();
      if (ended) return Promise.resolve(done);
      return new Promise((resolve, reject) => {
        waiter = resolve;
        waiterReject = reject;
      });
    },
    nextBatch(): Promise<IteratorResult<T[]>> {
      if (head < items.length) {
        const batch = head === 0 ? items : items.slice(head);
        items = [];
        head = 0;
        if (paused) {
          paused = false;
          options.onResume?.();
        }
        return Promise.resolve({ value: batch, done: false });
      }
      if (failure !== undefined) return takeFailure();
      if (ended) return Promise.resolve(done as IteratorResult<T[]>);
      return new Promise((resolve, reject) => {
        batchWaiter = resolve;
        waiterReject = reject;
      });
    },
    async return(): Promise<IteratorResult<T>> {
      const first = !ended;
      ended = true;
      items = [];
      head = 0;
      settleWaiter();
      if (first) await options.onReturn?.();
      return done;
    },
    [Symbol.asyncIterator](): PushQueue<T> {
      return queue;
    },
  };
  return queue;
}

/** A queue's items as an iterator of batches (for `BATCHES`). */
export function batchIterator<T>(queue: PushQueue<T>): AsyncIterator<T[]> {
  return {
    next: () => queue.nextBatch(),
    return: async (): Promise<IteratorResult<T[]>> => {
      await queue.return();
      return { value: undefined, done: true };
    },
  };
}
