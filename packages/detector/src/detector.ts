/**
 * Knock detection (spec: daemon.md §2, sealed.md "Daemon checks"): hits → per-source queues →
 * codec → the sealed profile's checks → a knock. Synchronous and I/O-free: an embedder feeds hits
 * from any source and gets each accepted knock, with the variables its actions use, through
 * `onKnock`. What happens next (actions, a firewall grant) is the caller's business.
 */
import type { KnockConfig, Knock, SealedKnock } from "@portknock/codec";
import type { Clock, HitColumns, KnockHit, Logger } from "@portknock/core";
import { createRateLimiter, noopLogger, systemClock } from "@portknock/core";
import type { HitOutcome, QueueCounters } from "./knock-queues.ts";
import { createKnockQueues } from "./knock-queues.ts";
import type { ReplayCacheStore, SealedRefusal } from "./sealed-guard.ts";
import { createSealedGuard } from "./sealed-guard.ts";

const REJECT_LOG_INTERVAL_MS = 60_000;

/** An accepted knock, as `onKnock` receives it. */
export interface DetectedKnock {
  /** The hit that completed the knock (its source, origin and time). */
  hit: KnockHit;
  knock: Knock | SealedKnock;
  /**
   * The knock's fields plus `SOURCE` (the packet's source address) and, for the sealed profile,
   * `TIME` (the nonce's time) and `USER` (the matching `<user>`): what action templates use.
   */
  variables: Record<string, string | number>;
}

/** Options of `createDetector`. */
export interface DetectorOptions {
  /** The compiled knock settings (`compileKnockConfig` of `@portknock/codec`). */
  knock: KnockConfig;
  /** A source's queue is dropped after this long without a hit (`knocktimeout`); under 2^29. */
  knockTimeoutMs: number;
  /**
   * Most sources of two hits or more at once (`maxsources`), least recently used evicted first;
   * sources of one hit wait in a probation segment of `4 × maxSources` compact records, which
   * only they evict (README, "Floods").
   */
  maxSources: number;
  /**
   * A hit equal in (source, source port, sequence number when known, port) to the source's newest
   * such queued hit, seen less than this many ms before, is a kernel retransmit, dropped (README,
   * "Retransmits"). Default 3000; 0 turns it off.
   */
  retransmitWindowMs?: number;
  /**
   * ... and seen at least this many ms before: sooner, it is a hit of its own (a raw sender
   * repeating a port). For packet times (network mode); default 0 (file mode's batch times).
   */
  retransmitMinGapMs?: number;
  /** Sealed profile: the time window and the replay cache (required when `knock` is sealed). */
  sealed?: {
    /** A knock's time must be within this many ms of now (`window`). */
    windowMs: number;
    /** CLIENT must equal the packet's source (`requiresource`). */
    requireSource: boolean;
    /** Where the replay cache persists across restarts; in memory only without one. */
    store?: ReplayCacheStore;
  };
  /** Time for the sealed checks and the log rate limit. Default `systemClock`. */
  clock?: Clock;
  /**
   * `knock.rejected` warnings (refused sealed knocks, replays; once per code per minute, with the
   * number suppressed); every hit at debug with `debug`.
   */
  logger?: Logger;
  /** Log every hit's fate at debug level (`knockd -debug`). */
  debug?: boolean;
  /** Called, synchronously, for every accepted knock. */
  onKnock: (knock: DetectedKnock) => void;
}

/** Counters of a detector (daemon.md §8). */
export interface DetectorCounters {
  /** Hits pushed. */
  hits: number;
  /** Valid sealed knocks refused by the daemon's checks, by code. */
  refusals: Partial<Record<SealedRefusal, number>>;
  queue: QueueCounters;
}

/** Per-source knock detection for one knock configuration. */
export interface Detector {
  /** Handles one hit; returns what became of it. Never throws for any hit. */
  push(hit: KnockHit): HitOutcome;
  /**
   * Handles a batch of hits in columns, in order: the same as `push` on each, but a `KnockHit`
   * is built only when it is logged or accepted.
   */
  pushColumns(columns: HitColumns): void;
  /** Drops queues idle for longer than the timeout at `nowMs`. */
  expire(nowMs: number): void;
  /** Sources with a queue now. */
  readonly sources: number;
  /** A snapshot of the counters. */
  counters(): DetectorCounters;
}

/** Creates a detector. Throws `RangeError`/`TypeError` for invalid options. */
export function createDetector(options: DetectorOptions): Detector {
  const { knock, onKnock } = options;
  const logger = options.logger ?? noopLogger;
  const debug = options.debug ?? false;
  if (typeof onKnock !== "function") {
    throw new TypeError("onKnock must be a function");
  }
  if (knock.format === "sealed" && options.sealed == null) {
    throw new TypeError("a sealed knock configuration needs options.sealed");
  }
  const queues = createKnockQueues({
    config: knock,
    knockTimeoutMs: options.knockTimeoutMs,
    maxSources: options.maxSources,
    ...(options.retransmitWindowMs != null && {
      retransmitWindowMs: options.retransmitWindowMs,
    }),
    ...(options.retransmitMinGapMs != null && {
      retransmitMinGapMs: options.retransmitMinGapMs,
    }),
  });
  const guard =
    knock.format === "sealed" && options.sealed != null
      ? createSealedGuard({
          windowMs: options.sealed.windowMs,
          requireSource: options.sealed.requireSource,
          clock: options.clock ?? systemClock,
          ...(options.sealed.store != null && { store: options.sealed.store }),
        })
      : undefined;
  let hits = 0;
  const refusals: Partial<Record<SealedRefusal, number>> = {};
  // Rejections are logged once per code per minute (STYLE.md §5): a resent capture cannot
  // flood the log. The counters count every one.
  const limiter = createRateLimiter({
    clock: options.clock ?? systemClock,
    intervalMs: REJECT_LOG_INTERVAL_MS,
  });

  function rejected(hit: KnockHit, code: string, message: string): void {
    const suppressed = limiter.take(code);
    if (suppressed < 0) return;
    logger.warn(
      {
        event: "knock.rejected",
        code,
        ip: hit.srcIp,
        source: hit.origin,
        ...(suppressed > 0 && { suppressed }),
      },
      message,
    );
  }

  /** Logs and acts on what became of `hit`. */
  function settle(hit: KnockHit, outcome: HitOutcome): HitOutcome {
    if (debug) {
      logger.debug({
        event: `hit.${outcome.kind}`,
        ip: hit.srcIp,
        port: hit.dstPort,
        source: hit.origin,
        ...("code" in outcome ? { code: outcome.code } : {}),
      });
    }
    if (outcome.kind === "replay") {
      rejected(
        hit,
        "KNOCK_REPLAY",
        "same knock seen within knocktimeout: dropped",
      );
      return outcome;
    }
    if (outcome.kind === "rejected" && outcome.full === true) {
      // A whole knock's worth of ports from one source that does not decode: the usual sign of
      // a client with another key or other settings (#15), or of a scan of the span.
      rejected(
        hit,
        outcome.code,
        "a knock-length sequence of ports from this source does not decode: another key or other knock settings on the client, or not a knock",
      );
      return outcome;
    }
    if (outcome.kind !== "accepted") return outcome;
    const found = outcome.knock;
    const sealed = "timeSeconds" in found ? found : undefined;
    const refusal =
      guard != null && sealed != null ? guard.check(sealed, hit.srcIp) : 0;
    if (refusal !== 0) {
      refusals[refusal] = (refusals[refusal] ?? 0) + 1;
      rejected(
        hit,
        refusal,
        "valid sealed knock refused by the daemon's checks",
      );
      return { kind: "rejected", code: refusal };
    }
    const variables: Record<string, string | number> = {
      ...found.values,
      SOURCE: hit.srcIp,
    };
    if (sealed != null) {
      // sealed: the time is in the nonce, and the key tells who knocked.
      variables.TIME = sealed.timeSeconds;
      if (sealed.user !== "") variables.USER = sealed.user;
    }
    onKnock({ hit, knock: found, variables });
    return outcome;
  }

  function push(hit: KnockHit): HitOutcome {
    hits++;
    const outcome = queues.push(
      hit.srcIp,
      hit.dstPort,
      hit.timeMs,
      hit.srcPort ?? -1,
      hit.seq,
    );
    return settle(hit, outcome);
  }

  return {
    push,
    pushColumns(columns: HitColumns): void {
      const { v4, v6, dstPort, srcPort, timeMs, timesMs, seq } = columns;
      for (let i = 0; i < columns.length; i++) {
        const ip = v4[i]!;
        const isV6 = ip === -2 && v6 !== undefined;
        if ((ip < 0 && !isV6) || debug) {
          push(columns.hit(i));
          continue;
        }
        hits++;
        const t = timesMs === undefined ? timeMs : timesMs[i]!;
        const s = seq === undefined ? undefined : seq[i];
        const outcome = isV6
          ? queues.pushV6(
              v6[4 * i]!,
              v6[4 * i + 1]!,
              v6[4 * i + 2]!,
              v6[4 * i + 3]!,
              dstPort[i]!,
              t,
              srcPort[i],
              s,
            )
          : queues.pushV4(ip, dstPort[i]!, t, srcPort[i], s);
        // Only these are logged or acted on (without debug).
        if (
          outcome.kind === "accepted" ||
          outcome.kind === "replay" ||
          (outcome.kind === "rejected" && outcome.full === true)
        ) {
          settle(columns.hit(i), outcome);
        }
      }
    },
    expire(nowMs: number): void {
      queues.expire(nowMs);
    },
    get sources(): number {
      return queues.size;
    },
    counters(): DetectorCounters {
      return {
        hits,
        refusals: { ...refusals },
        queue: {
          ...queues.counters,
          decodeFailures: { ...queues.counters.decodeFailures },
        },
      };
    },
  };
}
