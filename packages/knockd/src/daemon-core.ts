/**
 * The daemon's core (daemon.md §2, §8): hits → `@portknock/detector` → engine. Hits are handled
 * synchronously (a busy action never stalls decoding); accepted knocks are handed to the engine one
 * after another, so actions run in the order the knocks arrived.
 */
import type {
  DetectedKnock,
  Detector,
  DetectorOptions,
  HitOutcome,
} from "@portknock/detector";
import type { QueueCounters } from "@portknock/detector";
import { createDetector } from "@portknock/detector";
import type { Engine } from "@portknock/engine";
import type { HitColumns, KnockHit, Logger } from "@portknock/core";
import { createRateLimiter, systemClock } from "@portknock/core";
import { replayKey } from "@portknock/codec";
import type { ReplayClaim } from "@portknock/cluster";

/** Counters of a core: the detector's and the engine's (daemon.md §8). */
export interface CoreCounters {
  hits: number;
  /** Valid sealed knocks refused by the daemon's checks, by code. */
  refusals: Record<string, number>;
  queue: QueueCounters;
  knocksAccepted: number;
  /** Kernel retransmits dropped (by the detector's queues, in both modes). */
  retransmitsDropped: number;
  actionsRun: number;
  actionsFailed: number;
  actionsRefused: number;
  actionsScheduled: number;
  /** Knocks refused because their delayed actions could not be written to the statefile. */
  knocksNotDurable: number;
  /** Delayed actions found interrupted by a crash at start (not run again). */
  actionsInterrupted: number;
  /** `grant` template keys applied (issue #17), and of those the ones that failed. */
  grantsRun: number;
  grantsFailed: number;
  /**
   * With a cluster (issue #19): sealed knocks the detector accepted, by the cluster replay
   * cache's answer — `fresh` (first in the cluster), `replay` (another gateway, or this one,
   * accepted it first: refused, and counted in `refusals.KNOCK_REPLAY` too) or `local` (Redis
   * down or over the budget: decided by the local cache alone). Absent without a cluster.
   */
  clusterClaims?: { fresh: number; replay: number; local: number };
}

/** The cluster's replay cache, as the core asks it (issue #19). */
export interface CoreClusterReplay {
  /** `@portknock/cluster`'s `claim`: never rejects, never waits past the budget. */
  claim(key: string, ttlMs: number): Promise<ReplayClaim>;
  /** How long a claim holds, in ms (knockd: 2 × window). */
  ttlMs: number;
}

/** The core of one daemon configuration. */
export interface DaemonCore {
  /** Handles one hit; returns what became of it (for `-debug` and tests). */
  handleHit(hit: KnockHit): HitOutcome;
  /**
   * Handles a batch of hits in columns (`LogHitSource.nextColumns`), in order: the same as
   * `handleHit` on each, but a hit is built only when it is logged or accepted.
   */
  handleColumns(columns: HitColumns): void;
  /** Resolves when every accepted knock has gone through the engine. */
  idle(): Promise<void>;
  counters(): CoreCounters;
  /** Sources with a queue now. */
  sources(): number;
}

/** Options of `createDaemonCore`: the detector's, without `onKnock`, and the engine. */
export type DaemonCoreOptions = Omit<DetectorOptions, "onKnock" | "logger"> & {
  engine: Engine;
  logger: Logger;
  /** Sealed knocks on a cluster: claimed in the shared replay cache before they act. */
  cluster?: CoreClusterReplay;
};

/** Wires a detector to the engine. */
export function createDaemonCore(options: DaemonCoreOptions): DaemonCore {
  const { engine, logger, cluster } = options;
  let chain: Promise<void> = Promise.resolve();
  const claims = { fresh: 0, replay: 0, local: 0 };
  let clusterReplays = 0;
  // Like the detector's rejections: one line per minute, with the number suppressed, so that
  // replaying a captured knock at every gateway cannot flood the log. Every one is counted.
  const replayLog = createRateLimiter({
    clock: options.clock ?? systemClock,
    intervalMs: 60_000,
  });
  // After the detector's own checks (window, local replay cache, requiresource) and before any
  // action: one claim in the cluster's replay cache, waited on for at most the budget. Knocks
  // still reach the engine one after another, in the order they arrived.
  const claimed = async (
    hit: KnockHit,
    knock: DetectedKnock["knock"],
  ): Promise<boolean> => {
    if (cluster == null || !("timeSeconds" in knock)) return true;
    const c = await cluster.claim(replayKey(knock), cluster.ttlMs);
    claims[c.result]++;
    if (c.result !== "replay") return true;
    clusterReplays++;
    const suppressed = replayLog.take("KNOCK_REPLAY");
    if (suppressed < 0) return false;
    logger.warn(
      {
        event: "knock.rejected",
        code: "KNOCK_REPLAY",
        ip: hit.srcIp,
        source: hit.origin,
        gateway: c.by,
        ...(suppressed > 0 && { suppressed }),
      },
      `valid sealed knock refused: gateway ${c.by} of the cluster accepted it first`,
    );
    return false;
  };
  const detector: Detector = createDetector({
    ...options,
    logger,
    onKnock({ hit, knock, variables }): void {
      // The engine logs the knock (knock.accepted, with its origin) and every action it runs.
      chain = chain.then(async () => {
        try {
          if (!(await claimed(hit, knock))) return;
          await engine.accept(variables, { origin: hit.origin });
        } catch (e) {
          logger.error(
            { event: "engine.error", ip: hit.srcIp, source: hit.origin },
            `the engine failed on an accepted knock: ${(e as Error).message}`,
          );
        }
      });
    },
  });

  return {
    handleHit(hit: KnockHit): HitOutcome {
      return detector.push(hit);
    },
    handleColumns(columns: HitColumns): void {
      detector.pushColumns(columns);
    },
    async idle(): Promise<void> {
      let last: Promise<void> | undefined;
      while (last !== chain) {
        last = chain;
        await last;
      }
      await engine.idle();
    },
    sources(): number {
      return detector.sources;
    },
    counters(): CoreCounters {
      const e = engine.counters;
      const d = detector.counters();
      const refusals: Record<string, number> = { ...d.refusals };
      if (clusterReplays > 0) {
        refusals.KNOCK_REPLAY = (refusals.KNOCK_REPLAY ?? 0) + clusterReplays;
      }
      return {
        hits: d.hits,
        refusals,
        queue: d.queue,
        knocksAccepted: d.queue.knocksAccepted,
        retransmitsDropped: d.queue.retransmitsDropped,
        actionsRun: e.actionsRun,
        actionsFailed: e.actionsFailed,
        actionsRefused: e.actionsRefused,
        actionsScheduled: e.actionsScheduled,
        knocksNotDurable: e.knocksNotDurable,
        actionsInterrupted: e.actionsInterrupted,
        grantsRun: e.grantsRun,
        grantsFailed: e.grantsFailed,
        ...(cluster != null && { clusterClaims: { ...claims } }),
      };
    },
  };
}
