/**
 * Per-source knock queues (spec: daemon.md §2). Each source IP keeps the last n ports it knocked
 * inside the span (a sliding window); after each push with n ports queued the window is decoded.
 * Queues idle for `knockTimeoutMs` are dropped, at most `maxSources` exist (least recently used
 * evicted first), and an accepted knock whose wire bytes were already accepted within the timeout
 * is dropped as a replay. Memory is bounded whatever the traffic, spoofed sources included.
 */
import type {
  DecodeCode,
  Knock,
  KnockConfig,
  SealedKnock,
} from "@portknock/codec";
import { decodeKnock, knockPortCounts } from "@portknock/codec";
import type { SealedRefusal } from "./sealed-guard.ts";
import { createSourceTable } from "./source-table.ts";

/** What became of one hit. */
export type HitOutcome =
  | { kind: "outside-span" }
  | { kind: "queued"; queued: number }
  | { kind: "rejected"; code: DecodeCode | SealedRefusal }
  | { kind: "replay" }
  | { kind: "accepted"; knock: Knock | SealedKnock };

/** Counters of the queues (daemon.md §8). */
export interface QueueCounters {
  hitsOutsideSpan: number;
  hitsQueued: number;
  decodeFailures: Partial<Record<DecodeCode, number>>;
  knocksAccepted: number;
  replaysDropped: number;
  sourcesEvicted: number;
  sourcesExpired: number;
}

/** Options of `createKnockQueues`. */
export interface KnockQueuesOptions {
  config: KnockConfig;
  /** A source's queue is dropped after this long without a hit. */
  knockTimeoutMs: number;
  /** Most sources with a queue at once. */
  maxSources: number;
}

/** The queues of all sources. */
export interface KnockQueues {
  /** Adds one hit (`timeMs`: when it was seen) and returns what became of it. */
  push(source: string, port: number, timeMs: number): HitOutcome;
  /** Drops queues and replay entries older than the timeout at `nowMs`. */
  expire(nowMs: number): void;
  /** Number of sources with a queue. */
  readonly size: number;
  readonly counters: QueueCounters;
}

/** Creates the per-source queues for one compiled knock configuration. */
export function createKnockQueues(options: KnockQueuesOptions): KnockQueues {
  const { config, knockTimeoutMs, maxSources } = options;
  if (!(knockTimeoutMs > 0)) {
    throw new RangeError(`knockTimeoutMs must be > 0, got ${knockTimeoutMs}`);
  }
  if (!Number.isInteger(maxSources) || maxSources < 1) {
    throw new RangeError(
      `maxSources must be a positive integer, got ${maxSources}`,
    );
  }
  // A sealed knock with CLIENT has two lengths (IPv4 or IPv6 CLIENT): the window keeps the
  // longest, and after each push the last c ports are decoded for each length c, shortest first.
  const lengths = knockPortCounts(config).sort((a, b) => a - b);
  const n = lengths[lengths.length - 1]!;
  const inSpan = config.span.indexOf;
  // The frequent outcomes are shared, frozen objects: no allocation per hit.
  const OUTSIDE: HitOutcome = Object.freeze({ kind: "outside-span" });
  const QUEUED: readonly HitOutcome[] = Array.from(
    { length: n + 1 },
    (_, queued) => Object.freeze({ kind: "queued", queued }),
  );
  // Each source's window is stored twice over (a ring of n written at i and i+n), so the last n
  // ports are always one contiguous subarray of the table's windows.
  const table = createSourceTable(maxSources, 2 * n);
  const accepted = new Map<string, number>(); // wire hex → time accepted (in time order)
  const counters: QueueCounters = {
    hitsOutsideSpan: 0,
    hitsQueued: 0,
    decodeFailures: {},
    knocksAccepted: 0,
    replaysDropped: 0,
    sourcesEvicted: 0,
    sourcesExpired: 0,
  };

  function expire(nowMs: number): void {
    for (
      let o = table.oldest();
      o >= 0 && nowMs - table.lastMs[o]! >= knockTimeoutMs;
      o = table.oldest()
    ) {
      table.remove(o);
      counters.sourcesExpired++;
    }
    if (accepted.size === 0) return;
    for (const [wire, t] of accepted) {
      if (nowMs - t < knockTimeoutMs) break;
      accepted.delete(wire);
    }
  }

  function push(source: string, port: number, timeMs: number): HitOutcome {
    if (!(port >= 0 && port <= 65535) || inSpan[port]! < 0) {
      counters.hitsOutsideSpan++;
      return OUTSIDE;
    }
    expire(timeMs);
    let slot = table.find(source);
    if (slot < 0) {
      const inserted = table.insert(source);
      slot = inserted.slot;
      if (inserted.evicted) counters.sourcesEvicted++;
    } else {
      table.touch(slot);
    }
    const windows = table.windows;
    const base = slot * 2 * n;
    const head = table.heads[slot]!;
    windows[base + head] = port;
    windows[base + head + n] = port;
    const next = head + 1 === n ? 0 : head + 1;
    table.heads[slot] = next;
    table.lastMs[slot] = timeMs;
    const count = Math.min(table.counts[slot]! + 1, n);
    table.counts[slot] = count;
    counters.hitsQueued++;
    let result: ReturnType<typeof decodeKnock> | undefined;
    for (const c of lengths) {
      if (count < c) break;
      const end = base + next + n;
      result = decodeKnock(config, windows.subarray(end - c, end));
      if (result.ok) break;
    }
    if (result == null) return QUEUED[count]!;
    if (!result.ok) {
      counters.decodeFailures[result.code] =
        (counters.decodeFailures[result.code] ?? 0) + 1;
      return { kind: "rejected", code: result.code };
    }
    table.remove(slot);
    // compat: the same wire bytes twice within knocktimeout are a replay. sealed knocks carry a
    // random nonce; the daemon's sealed checks keep (and persist) their replay cache instead.
    if (config.format !== "sealed") {
      const wire = Buffer.from(result.knock.wire).toString("hex");
      if (accepted.has(wire)) {
        counters.replaysDropped++;
        return { kind: "replay" };
      }
      accepted.set(wire, timeMs);
    }
    counters.knocksAccepted++;
    return { kind: "accepted", knock: result.knock };
  }

  return {
    push,
    expire,
    get size(): number {
      return table.size;
    },
    counters,
  };
}
