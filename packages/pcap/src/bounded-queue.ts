/**
 * A fixed-capacity FIFO between a push source (libpcap callbacks) and one async consumer. When
 * the consumer lags and the queue is full, new items are dropped and counted: memory stays
 * bounded whatever the traffic.
 */

/** The producer's side and the consumer's iterator. */
export interface BoundedQueue<T> extends AsyncIterableIterator<T> {
  /** Queues `item`; false (and `dropped` + 1) when the queue is full or ended. */
  push(item: T): boolean;
  /** No more items: the iterator finishes after the queued ones. */
  end(): void;
  /** The iterator rejects with `error` after the queued items. */
  fail(error: Error): void;
  /** Items dropped because the queue was full. */
  readonly dropped: number;
  /** Items waiting. */
  readonly size: number;
}

/**
 * Creates a queue holding at most `capacity` items. Throws `RangeError` for a capacity that is
 * not a positive integer. `onReturn` runs once when the consumer stops early.
 */
export function createBoundedQueue<T>(
  capacity: number,
  onReturn?: () => void,
): BoundedQueue<T> {
  if (!Number.isInteger(capacity) || capacity < 1) {
    throw new RangeError(
      `queue capacity must be a positive integer, got ${capacity}`,
    );
  }
  const ring = new Array<T | undefined>(capacity);
  let head = 0;
  let size = 0;
  let dropped = 0;
  let ended = false;
  let waiter: ((r: IteratorResult<T>) => void) | undefined;
  let waiterReject: ((error: Error) => void) | undefined;
  let failure: Error | undefined;
  const done: IteratorResult<T> = { value: undefined, done: true };

  const queue: BoundedQueue<T> = {
    push(item: T): boolean {
      if (ended) return false;
      if (waiter !== undefined) {
        const resolve = waiter;
        waiter = waiterReject = undefined;
        resolve({ value: item, done: false });
        return true;
      }
      if (size === capacity) {
        dropped++;
        return false;
      }
      ring[(head + size) % capacity] = item;
      size++;
      return true;
    },
    end(): void {
      ended = true;
      const resolve = waiter;
      waiter = waiterReject = undefined;
      resolve?.(done);
    },
    fail(error: Error): void {
      if (ended) return;
      ended = true;
      const reject = waiterReject;
      waiter = waiterReject = undefined;
      if (reject !== undefined) reject(error);
      else failure = error;
    },
    get dropped(): number {
      return dropped;
    },
    get size(): number {
      return size;
    },
    next(): Promise<IteratorResult<T>> {
      if (size > 0) {
        const value = ring[head] as T;
        ring[head] = undefined;
        head = (head + 1) % capacity;
        size--;
        return Promise.resolve({ value, done: false });
      }
      if (failure !== undefined) {
        const error = failure;
        failure = undefined;
        return Promise.reject(error);
      }
      if (ended) return Promise.resolve(done);
      return new Promise((resolve, reject) => {
        waiter = resolve;
        waiterReject = reject;
      });
    },
    return(): Promise<IteratorResult<T>> {
      const first = !ended;
      ring.fill(undefined);
      size = 0;
      failure = undefined;
      queue.end();
      if (first) onReturn?.();
      return Promise.resolve(done);
    },
    [Symbol.asyncIterator](): BoundedQueue<T> {
      return queue;
    },
  };
  return queue;
}
