/**
 * The sealed profile's replay cache shared by every gateway (issue #19, design component 1): one
 * atomic `SET P:replay:<replay key> <gateway name> NX PX <ttl> GET` per accepted knock, so a knock
 * accepted at one gateway is refused at every other, and the refusal can say which gateway holds
 * it. When Redis is down or over the budget the claim is `local`: the caller decides with its own
 * replay cache (knockd's detector already did), and the claim is remembered (bounded, expiring
 * with its ttl) and pushed with the same `SET NX` when the link comes back; finding another
 * gateway's entry then is a `CLUSTER_REPLAY_CONFLICT`: the same knock was accepted twice during a
 * partition.
 */
import type { Clock, Logger, TimerHandle, Timers } from "@portknock/core";
import { noopLogger, systemClock, systemTimers } from "@portknock/core";
import type { ClusterLink } from "./link.ts";

/** What a claim gave. */
export type ReplayClaim =
  /** This gateway's `SET NX` won: the knock is new to the cluster. */
  | { result: "fresh" }
  /**
   * The key was already there: refuse the knock (`KNOCK_REPLAY`). `by` is the gateway that
   * accepted it (this gateway's own name when it is a copy seen here before).
   */
  | { result: "replay"; by: string }
  /**
   * Redis is down (`down`), over the budget (`timeout`) or refused the command (`error`): decide
   * with the local replay cache. The claim is remembered and pushed when Redis answers again.
   */
  | { result: "local"; reason: "down" | "timeout" | "error" };

/** Counters of a replay cache (knockd's `/metrics`). */
export interface ReplayCacheCounters {
  /** Claims made. */
  claims: number;
  /** Of those, the ones this gateway won in Redis. */
  fresh: number;
  /** Of those, the ones Redis already held (knocks refused as replays). */
  replays: number;
  /** Of those, the ones decided locally (degraded). */
  local: number;
  /** Local claims pushed to Redis afterwards without a conflict. */
  merged: number;
  /** Local claims that found another gateway's entry when pushed: accepted twice. */
  conflicts: number;
  /** Local claims forgotten unpushed: the oldest, over `maxRemembered`, or refused by Redis. */
  dropped: number;
  /** Local claims waiting to be pushed now (a gauge). */
  remembered: number;
}

/** Options of `createClusterReplayCache`. */
export interface ClusterReplayCacheOptions {
  link: ClusterLink;
  logger?: Logger;
  /** Local claims kept for the merge at most (default 100,000); the oldest are dropped, counted. */
  maxRemembered?: number;
  /** Wait before pushing again after a merge that timed out while the link is up, in ms (default 1000). */
  retryMs?: number;
  /** Local claims pushed at once during a merge (default 64). */
  mergeConcurrency?: number;
  clock?: Clock;
  timers?: Timers;
}

/** The shared replay cache. */
export interface ClusterReplayCache {
  /**
   * Claims `key` (the codec's `replayKey` of an accepted sealed knock) for `ttlMs` (the design:
   * 2 × the window). Never rejects; never waits longer than the link's budget. Throws a
   * `RangeError` for an empty key, one over 256 characters, or a ttl that is not 1 ms-24 days.
   */
  claim(key: string, ttlMs: number): Promise<ReplayClaim>;
  /** Pushes the remembered local claims now (also done by itself when the link comes up). */
  merge(): Promise<void>;
  counters(): ReplayCacheCounters;
  /** Stops merging and forgets the remembered claims (idempotent; the link stays open). */
  close(): Promise<void>;
}

const MAX_TTL_MS = 2 ** 31 - 1;

/** Creates the shared replay cache on `link` (keys `prefix:replay:<key>`). */
export function createClusterReplayCache(
  options: ClusterReplayCacheOptions,
): ClusterReplayCache {
  const { link } = options;
  const logger = options.logger ?? noopLogger;
  const clock = options.clock ?? systemClock;
  const timers = options.timers ?? systemTimers;
  const maxRemembered = options.maxRemembered ?? 100_000;
  const retryMs = options.retryMs ?? 1000;
  const concurrency = options.mergeConcurrency ?? 64;
  if (!Number.isInteger(maxRemembered) || maxRemembered < 1) {
    throw new RangeError(
      `maxRemembered must be a positive integer, got ${maxRemembered}`,
    );
  }
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new RangeError(
      `mergeConcurrency must be a positive integer, got ${concurrency}`,
    );
  }
  const counters: ReplayCacheCounters = {
    claims: 0,
    fresh: 0,
    replays: 0,
    local: 0,
    merged: 0,
    conflicts: 0,
    dropped: 0,
    remembered: 0,
  };
  // replay key → expiry (epoch ms), in claim order: the local claims not yet in Redis.
  const remembered = new Map<string, number>();
  let closed = false;
  let merging: Promise<void> | undefined;
  let again = false;
  let retry: { handle: TimerHandle } | undefined;
  let warnedFull = false;

  const setNx = (key: string, ttlMs: number) =>
    link.run("replay claim", async (r) => {
      // NX with GET (Redis ≥ 7.0, Valkey): null when this SET won, else the holder's name.
      const v: unknown = await r.call(
        "SET",
        link.key("replay", key),
        link.name,
        "NX",
        "PX",
        String(ttlMs),
        "GET",
      );
      if (v == null) return null;
      return typeof v === "string" ? v : JSON.stringify(v);
    });

  const remember = (key: string, expiresMs: number): void => {
    if (remembered.has(key)) return;
    const now = clock.now();
    for (const [k, t] of remembered) {
      if (remembered.size < maxRemembered && t > now) break;
      remembered.delete(k);
      if (t > now) {
        counters.dropped++;
        if (!warnedFull) {
          warnedFull = true;
          logger.warn(
            {
              event: "cluster.replay_backlog_full",
              code: "CLUSTER_REPLAY_BACKLOG_FULL",
              max: maxRemembered,
            },
            `over ${maxRemembered} knocks accepted locally while Redis is unreachable: the oldest are no longer pushed to Redis when it is back (other gateways may accept their replays)`,
          );
        }
      }
    }
    remembered.set(key, expiresMs);
    counters.remembered = remembered.size;
  };

  // A remembered claim found `holder` in Redis (or won: null).
  const settle = (key: string, holder: string | null): void => {
    remembered.delete(key);
    counters.remembered = remembered.size;
    if (holder === null || holder === link.name) {
      counters.merged++;
      return;
    }
    counters.conflicts++;
    logger.warn(
      {
        event: "cluster.replay_conflict",
        code: "CLUSTER_REPLAY_CONFLICT",
        key,
        gateway: link.name,
        other: holder.slice(0, 80),
      },
      `knock ${key} was accepted by both ${link.name} and ${JSON.stringify(holder).slice(0, 80)} while Redis was unreachable: a replay got through during the partition`,
    );
  };

  const pushAll = async (): Promise<void> => {
    while (!closed && remembered.size > 0 && link.up) {
      const now = clock.now();
      const batch: [string, number][] = [];
      for (const [k, t] of remembered) {
        if (t <= now) {
          remembered.delete(k); // expired: nothing left to protect
          continue;
        }
        batch.push([k, t]);
        if (batch.length === concurrency) break;
      }
      counters.remembered = remembered.size;
      if (batch.length === 0) return;
      const results = await Promise.all(
        batch.map(([k, t]) => setNx(k, Math.max(1, t - now))),
      );
      let stalled = false;
      results.forEach((res, i) => {
        const key = batch[i]![0];
        if (res.ok) settle(key, res.value);
        else if (
          res.reason === "error" &&
          /^(WRONGTYPE|ERR) /.test(res.message)
        ) {
          // Redis refused this command (a key of another type, a Redis without SET NX GET):
          // retrying will not help. Other errors (a connection dropping mid-merge) retry.
          remembered.delete(key);
          counters.dropped++;
        } else stalled = true;
      });
      counters.remembered = remembered.size;
      if (stalled) {
        scheduleRetry();
        return;
      }
    }
  };

  // Down: the next `onUp` merges. Over the budget while up: no `onUp` will come, so try later.
  const scheduleRetry = (): void => {
    if (link.up && !closed && retry === undefined) {
      retry = {
        handle: timers.setTimeout(() => {
          retry = undefined;
          void merge();
        }, retryMs),
      };
    }
  };

  const merge = (): Promise<void> => {
    if (closed) return Promise.resolve();
    if (merging !== undefined) {
      again = true;
      return merging;
    }
    merging = (async () => {
      do {
        again = false;
        await pushAll();
      } while (again && !closed);
    })().finally(() => {
      merging = undefined;
    });
    return merging;
  };

  link.onUp(() => {
    warnedFull = false;
    void merge();
  });

  return {
    async claim(key: string, ttlMs: number): Promise<ReplayClaim> {
      if (typeof key !== "string" || key.length === 0 || key.length > 256) {
        throw new RangeError(
          `replay key must be 1-256 characters, got ${JSON.stringify(key)?.slice(0, 80)}`,
        );
      }
      if (!Number.isInteger(ttlMs) || ttlMs < 1 || ttlMs > MAX_TTL_MS) {
        throw new RangeError(
          `ttlMs must be an integer 1-${MAX_TTL_MS}, got ${ttlMs}`,
        );
      }
      counters.claims++;
      const res = closed
        ? ({ ok: false, reason: "down" } as const)
        : await setNx(key, ttlMs);
      if (!res.ok) {
        counters.local++;
        if (!closed) {
          remember(key, clock.now() + ttlMs);
          scheduleRetry();
        }
        return { result: "local", reason: res.reason };
      }
      if (remembered.has(key)) {
        // Accepted here during the outage, not pushed yet: this SET was the push, and the
        // knock is a copy of one this gateway (or, conflicting, another) already accepted.
        settle(key, res.value);
        counters.replays++;
        return { result: "replay", by: res.value ?? link.name };
      }
      if (res.value === null) {
        counters.fresh++;
        return { result: "fresh" };
      }
      counters.replays++;
      return { result: "replay", by: res.value };
    },
    merge,
    counters(): ReplayCacheCounters {
      return { ...counters, remembered: remembered.size };
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      if (retry !== undefined) timers.clearTimeout(retry.handle);
      retry = undefined;
      remembered.clear();
      await merging;
    },
  };
}
