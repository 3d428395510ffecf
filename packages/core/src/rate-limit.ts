/**
 * Rate limiting for warnings about untrusted input (STYLE.md §8: rejections are logged
 * rate-limited). Pure; time comes from the injected clock.
 */
import type { Clock } from "./clock.ts";

/** Per-key rate limiting: at most `burst` passes per key per interval. */
export interface RateLimiter {
  /**
   * Whether an event of `key` may be logged now: the number of events of that key suppressed
   * since the last one that passed (0 or more), or -1 when this one is suppressed.
   */
  take(key: string): number;
}

/** Options of `createRateLimiter`. */
export interface RateLimiterOptions {
  clock: Clock;
  /** Length of one interval, in ms. */
  intervalMs: number;
  /** Events per key and interval that pass. Default 1. */
  burst?: number;
}

/** Creates a rate limiter. Memory: one small record per distinct key (keys are codes). */
export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  const { clock, intervalMs } = options;
  const burst = options.burst ?? 1;
  const keys = new Map<
    string,
    { start: number; used: number; suppressed: number }
  >();
  return {
    take(key: string): number {
      const now = clock.now();
      let k = keys.get(key);
      if (k === undefined) {
        k = { start: now, used: 0, suppressed: 0 };
        keys.set(key, k);
      }
      if (now - k.start >= intervalMs || now < k.start) {
        k.start = now;
        k.used = 0;
      }
      if (k.used >= burst) {
        k.suppressed++;
        return -1;
      }
      k.used++;
      const suppressed = k.suppressed;
      k.suppressed = 0;
      return suppressed;
    },
  };
}
