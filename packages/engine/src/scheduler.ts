/**
 * Timers for pending delayed actions (spec: daemon.md §7). Waits longer than `setTimeout` can
 * hold are chained; a timer that fires runs its action even if the clock disagrees slightly.
 */
import type { Clock, TimerHandle, Timers } from "@portknock/core";
import { MAX_TIMER_MS } from "@portknock/core";
import type { PendingAction } from "./state-data.ts";

/** Keeps one timer per scheduled pending action. */
export interface Scheduler {
  /** Arms a timer that calls `onDue` at `action.dueMs` (at once when overdue). */
  schedule(action: PendingAction): void;
  has(id: string): boolean;
  /** Disarms everything (the actions stay pending in the store). */
  cancelAll(): void;
  readonly size: number;
}

/** Creates a scheduler. */
export function createScheduler(
  clock: Clock,
  timers: Timers,
  onDue: (action: PendingAction) => void,
): Scheduler {
  const handles = new Map<string, TimerHandle>();
  const arm = (action: PendingAction): void => {
    const wait = Math.max(0, action.dueMs - clock.now());
    const capped = wait > MAX_TIMER_MS;
    const handle = timers.setTimeout(
      () => {
        handles.delete(action.id);
        if (capped) arm(action);
        else onDue(action);
      },
      capped ? MAX_TIMER_MS : wait,
    );
    handles.set(action.id, handle);
  };
  return {
    schedule(action) {
      if (handles.has(action.id)) return;
      arm(action);
    },
    has: (id) => handles.has(id),
    cancelAll() {
      for (const h of handles.values()) timers.clearTimeout(h);
      handles.clear();
    },
    get size() {
      return handles.size;
    },
  };
}
