/**
 * The daemon's core (daemon.md §2, §8): hits → `@portknock/detector` → engine. Hits are handled
 * synchronously (a busy action never stalls decoding); accepted knocks are handed to the engine one
 * after another, so actions run in the order the knocks arrived.
 */
import type {
  Detector,
  DetectorOptions,
  HitOutcome,
} from "@portknock/detector";
import type { QueueCounters } from "@portknock/detector";
import { createDetector } from "@portknock/detector";
import type { Engine } from "@portknock/engine";
import type { HitColumns, KnockHit, Logger } from "@portknock/core";

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
};

/** Wires a detector to the engine. */
export function createDaemonCore(options: DaemonCoreOptions): DaemonCore {
  const { engine, logger } = options;
  let chain: Promise<void> = Promise.resolve();
  const detector: Detector = createDetector({
    ...options,
    logger,
    onKnock({ hit, variables }): void {
      // The engine logs the knock (knock.accepted, with its origin) and every action it runs.
      chain = chain.then(async () => {
        try {
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
      return {
        hits: d.hits,
        refusals: { ...d.refusals },
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
      };
    },
  };
}
