/**
 * An immediate check of the file for `@logdna/tail-file`, which only polls on a timer
 * (`pollFileIntervalMs`). It has no public way to check now, so this wraps its two internal
 * methods on the instance (the version is pinned, 4.0.2; a test holds this): `_pollFileForChanges`
 * (one check: stat, then read what was added, or handle a rotation) and `_scheduleTimer(ms)` (the
 * next check; it clears the pending timer first). The rule that keeps every line exactly once: a
 * check never starts while another one runs or while reading is paused by back-pressure. Asked
 * then, the next check is only brought forward to "at once" when it is scheduled.
 */
import type TailFile from "@logdna/tail-file";

interface TailInternals {
  _pollFileForChanges(): Promise<void>;
  _scheduleTimer(ms: number): void;
}

function hasInternals(tail: object): tail is TailInternals {
  const t = tail as Partial<TailInternals>;
  return (
    typeof t._pollFileForChanges === "function" &&
    typeof t._scheduleTimer === "function"
  );
}

/**
 * Returns `pollNow()` for `tail` (call before `tail.start()`): checks the file at once when a
 * check is waiting on its timer; during a check, or while back-pressure pauses reading, the next
 * check is scheduled at once instead of after the interval. Undefined when this TailFile lacks
 * the internals (then it only polls).
 */
export function addPollNow(tail: TailFile): (() => void) | undefined {
  if (!hasInternals(tail)) return undefined;
  const poll = tail._pollFileForChanges.bind(tail);
  const schedule = tail._scheduleTimer.bind(tail);
  let polling = false; // a check is running
  let waiting = false; // a timer will start the next check
  let soon = false; // the next check was asked for at once
  tail._pollFileForChanges = async (): Promise<void> => {
    waiting = false;
    polling = true;
    try {
      await poll();
    } finally {
      polling = false;
    }
  };
  tail._scheduleTimer = (ms: number): void => {
    waiting = true;
    const now = soon;
    soon = false;
    schedule(now ? 0 : ms);
  };
  return (): void => {
    if (waiting && !polling) schedule(0);
    else soon = true;
  };
}
