/**
 * Time, injected (STYLE.md §6): a `Clock` says what time it is and `Timers` wait. Tests use a
 * settable clock and vitest fake timers; `systemTimers` looks `setTimeout` up at each call, so it
 * follows `vi.useFakeTimers()` even when created before.
 */

/** The current time. */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
}

/** The real clock (`Date.now()`). */
export const systemClock: Clock = {
  now: (): number => Date.now(),
};

/** An opaque timer handle. */
export type TimerHandle = unknown;

/** Waiting. */
export interface Timers {
  setTimeout(callback: () => void, delayMs: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** `globalThis.setTimeout`/`clearTimeout`, resolved at call time. */
export const systemTimers: Timers = {
  setTimeout: (callback: () => void, delayMs: number): TimerHandle =>
    globalThis.setTimeout(callback, delayMs),
  clearTimeout: (handle: TimerHandle): void => {
    globalThis.clearTimeout(handle as ReturnType<typeof setTimeout>);
  },
};

/** Longest single wait `setTimeout` supports (about 24.8 days); longer delays are chained. */
export const MAX_TIMER_MS: number = 2 ** 31 - 1;
