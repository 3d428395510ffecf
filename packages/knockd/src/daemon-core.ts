/**
 * The daemon's core (daemon.md §2, §8): hits → per-source queues → codec → engine. Hits are
 * handled synchronously (a busy action never stalls decoding); accepted knocks are handed to the
 * engine one after another, so actions run in the order the knocks arrived.
 */
import type { Logger } from "@portknock/core";
import type { Engine } from "@portknock/engine";
import type { HitColumns } from "@portknock/logsource";
import type { KnockHit } from "@portknock/core";
import type { Knock, SealedKnock } from "@portknock/codec";
import type { HitOutcome, KnockQueues, QueueCounters } from "./knock-queues.ts";
import type { SealedGuard } from "./sealed-guard.ts";

/** Counters of a running daemon (daemon.md §8). */
export interface DaemonCounters {
  linesSeen: number;
  hits: number;
  rejections: Record<string, number>;
  queue: QueueCounters;
  knocksAccepted: number;
  /** Kernel retransmits dropped (by the queues; the network mode adds the capture's). */
  retransmitsDropped: number;
  actionsRun: number;
  actionsFailed: number;
  actionsRefused: number;
  actionsScheduled: number;
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
  /** Counts a line or packet that produced no hit, and why (`reason` undefined: not relevant). */
  countSeen(reason?: string): void;
  /** Resolves when every accepted knock has gone through the engine. */
  idle(): Promise<void>;
  counters(): DaemonCounters;
  /** Sources with a queue now. */
  sources(): number;
}

/** Options of `createDaemonCore`. */
export interface DaemonCoreOptions {
  queues: KnockQueues;
  /** sealed profile: the daemon's checks after the tag (window, replay, source). */
  sealed?: SealedGuard;
  engine: Engine;
  logger: Logger;
  /** Log every hit's fate at debug level (`-debug`). */
  debug: boolean;
}

/** Wires queues and engine together. */
export function createDaemonCore(options: DaemonCoreOptions): DaemonCore {
  const { queues, engine, logger, debug, sealed } = options;
  let linesSeen = 0;
  let hits = 0;
  const rejections: Record<string, number> = {};
  let chain: Promise<void> = Promise.resolve();

  function accept(hit: KnockHit, knock: Knock | SealedKnock): void {
    const vars: Record<string, string | number> = {
      ...knock.values,
      SOURCE: hit.srcIp,
    };
    if ("timeSeconds" in knock) {
      // sealed: the time is in the nonce, and the key tells who knocked.
      vars.TIME = knock.timeSeconds;
      if (knock.user !== "") vars.USER = knock.user;
    }
    // The engine logs the knock (knock.accepted, with its origin) and every action it runs.
    chain = chain.then(async () => {
      try {
        await engine.accept(vars, { origin: hit.origin });
      } catch (e) {
        logger.error(
          { event: "engine.error", ip: hit.srcIp, source: hit.origin },
          `the engine failed on an accepted knock: ${(e as Error).message}`,
        );
      }
    });
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
    if (outcome.kind === "accepted") {
      const refusal =
        sealed != null && "timeSeconds" in outcome.knock
          ? sealed.check(outcome.knock, hit.srcIp)
          : 0;
      if (refusal === 0) accept(hit, outcome.knock);
      else {
        rejections[refusal] = (rejections[refusal] ?? 0) + 1;
        logger.warn(
          {
            event: "knock.rejected",
            code: refusal,
            ip: hit.srcIp,
            source: hit.origin,
          },
          "valid sealed knock refused by the daemon's checks",
        );
        return { kind: "rejected", code: refusal };
      }
    } else if (outcome.kind === "replay") {
      logger.warn(
        {
          event: "knock.rejected",
          code: "KNOCK_REPLAY",
          ip: hit.srcIp,
          source: hit.origin,
        },
        "same knock seen within knocktimeout: dropped",
      );
    }
    return outcome;
  }

  function handleHit(hit: KnockHit): HitOutcome {
    linesSeen++;
    hits++;
    const outcome = queues.push(
      hit.srcIp,
      hit.dstPort,
      hit.timeMs,
      hit.srcPort ?? -1,
    );
    return settle(hit, outcome);
  }

  return {
    handleHit,
    handleColumns(columns: HitColumns): void {
      const { v4, dstPort, srcPort, timeMs } = columns;
      for (let i = 0; i < columns.length; i++) {
        const ip = v4[i]!;
        if (ip < 0 || debug) {
          handleHit(columns.hit(i));
          continue;
        }
        linesSeen++;
        hits++;
        const outcome = queues.pushV4(ip, dstPort[i]!, timeMs, srcPort[i]);
        // Only these are logged or acted on (without -debug).
        if (outcome.kind === "accepted" || outcome.kind === "replay") {
          settle(columns.hit(i), outcome);
        }
      }
    },
    countSeen(reason?: string): void {
      linesSeen++;
      if (reason != null) rejections[reason] = (rejections[reason] ?? 0) + 1;
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
      return queues.size;
    },
    counters(): DaemonCounters {
      const e = engine.counters;
      return {
        linesSeen,
        hits,
        rejections: { ...rejections },
        queue: {
          ...queues.counters,
          decodeFailures: { ...queues.counters.decodeFailures },
        },
        knocksAccepted: queues.counters.knocksAccepted,
        retransmitsDropped: queues.counters.retransmitsDropped,
        actionsRun: e.actionsRun,
        actionsFailed: e.actionsFailed,
        actionsRefused: e.actionsRefused,
        actionsScheduled: e.actionsScheduled,
      };
    },
  };
}
