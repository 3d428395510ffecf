/**
 * The daemon's checks of a sealed knock (sealed.md "Daemon checks, in order"), after the codec
 * has verified the tag: 2. the time is within `window` of NOW; 3. the (key, time, random) triple
 * was not accepted before within the window — the replay cache, kept in memory, bounded by the
 * window, and persisted in the statefile so that a restart does not reopen it; 4. with
 * `requiresource`, CLIENT equals the packet's source.
 */
import type { SealedKnock } from "@portknock/codec";
import { checkSealedWindow, replayKey } from "@portknock/codec";
import type { Clock } from "@portknock/core";

/** Why a sealed knock with a valid tag is refused. */
export type SealedRefusal =
  | "KNOCK_TIME_PAST"
  | "KNOCK_TIME_FUTURE"
  | "KNOCK_REPLAY"
  | "KNOCK_SOURCE_MISMATCH";

/** Checks sealed knocks and remembers accepted ones. */
export interface SealedGuard {
  /** 0 when the knock may run its actions (and it is now remembered), else the reason. */
  check(knock: SealedKnock, source: string): 0 | SealedRefusal;
  /** Entries in the replay cache. */
  readonly size: number;
}

/**
 * Where the replay cache persists: the engine's `StateStore` (its `getExtra`/`setExtra`) fits,
 * so a restart does not reopen the window for knocks accepted before it.
 */
export interface ReplayCacheStore {
  /** The saved entries of `namespace` (anything: entries that are not `[key, expiry]` are skipped). */
  getExtra(namespace: string): unknown;
  /** Saves `[replay key, expiry epoch ms]` entries under `namespace`. */
  setExtra(namespace: string, entries: [string, number][]): void;
}

/** Options of `createSealedGuard`. */
export interface SealedGuardOptions {
  windowMs: number;
  requireSource: boolean;
  clock: Clock;
  /**
   * Where the replay cache persists (knockd: the statefile); its namespace is `sealed.replay`.
   * Without one, the cache lives in memory only.
   */
  store?: ReplayCacheStore;
}

const NAMESPACE = "sealed.replay";

/** Creates the guard, loading the persisted replay cache from `store`. */
export function createSealedGuard(options: SealedGuardOptions): SealedGuard {
  const { windowMs, requireSource, clock, store } = options;
  const windowSeconds = windowMs / 1000;
  // replay key → expiry (epoch ms): a knock's time can be at most `window` old when accepted,
  // and a copy is refused by the window check once its time is more than `window` old, so the
  // entry is needed until time + window (kept until accepted-at + 2 × window, to be safe).
  const seen = new Map<string, number>();
  const saved = store?.getExtra(NAMESPACE);
  const now0 = clock.now();
  if (Array.isArray(saved)) {
    for (const entry of saved) {
      if (
        Array.isArray(entry) &&
        typeof entry[0] === "string" &&
        typeof entry[1] === "number" &&
        entry[1] > now0
      ) {
        seen.set(entry[0], entry[1]);
      }
    }
  }
  const prune = (nowMs: number): void => {
    for (const [key, expires] of seen) {
      if (expires > nowMs) break;
      seen.delete(key);
    }
  };
  const persist = (): void => {
    store?.setExtra(
      NAMESPACE,
      [...seen].map(([k, t]) => [k, t]),
    );
  };
  return {
    check(knock: SealedKnock, source: string): 0 | SealedRefusal {
      const nowMs = clock.now();
      const window = checkSealedWindow(
        knock.timeSeconds,
        Math.floor(nowMs / 1000),
        windowSeconds,
      );
      if (window !== 0) return window;
      prune(nowMs);
      const key = replayKey(knock);
      if (seen.has(key)) return "KNOCK_REPLAY";
      if (requireSource) {
        const client = knock.values.CLIENT ?? knock.values.IP;
        if (client != null && client !== source) return "KNOCK_SOURCE_MISMATCH";
      }
      seen.set(key, nowMs + 2 * windowMs);
      persist();
      return 0;
    },
    get size(): number {
      return seen.size;
    },
  };
}
