/**
 * Per-source knock queues (spec: daemon.md §2). Each source IP keeps the last n ports it knocked
 * inside the span (a sliding window); after each push with n ports queued the window is decoded.
 * Queues idle for `knockTimeoutMs` are dropped, at most `maxSources` exist (least recently used
 * evicted first), and an accepted knock whose wire bytes were already accepted within the timeout
 * is dropped as a replay. Memory is bounded whatever the traffic, spoofed sources included.
 */
import type { DecodeCode, Knock, KnockConfig } from "@portknock/codec";
import { decodeKnock } from "@portknock/codec";

/** What became of one hit. */
export type HitOutcome =
  | { kind: "outside-span" }
  | { kind: "queued"; queued: number }
  | { kind: "rejected"; code: DecodeCode }
  | { kind: "replay" }
  | { kind: "accepted"; knock: Knock };

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

interface SourceQueue {
  // The window is stored twice over (ring of n written at i and i+n), so the last n ports are
  // always one contiguous subarray: no copying per decode.
  ports: Int32Array;
  head: number;
  count: number;
  lastMs: number;
}

/** Creates the per-source queues for one compiled knock configuration. */
export function createKnockQueues(options: KnockQueuesOptions): KnockQueues {
  const { config, knockTimeoutMs, maxSources } = options;
  if (!(knockTimeoutMs > 0))
    throw new RangeError(`knockTimeoutMs must be > 0, got ${knockTimeoutMs}`);
  if (!Number.isInteger(maxSources) || maxSources < 1) {
    throw new RangeError(
      `maxSources must be a positive integer, got ${maxSources}`,
    );
  }
  const n = config.portCount;
  const inSpan = config.span.indexOf;
  // Map iteration order is insertion order: re-inserting on each hit keeps it in LRU order, so
  // both expiry and eviction take from the front.
  const queues = new Map<string, SourceQueue>();
  const accepted = new Map<string, number>(); // wire hex → time accepted (also in time order)
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
    for (const [source, q] of queues) {
      if (nowMs - q.lastMs < knockTimeoutMs) break;
      queues.delete(source);
      counters.sourcesExpired++;
    }
    for (const [wire, t] of accepted) {
      if (nowMs - t < knockTimeoutMs) break;
      accepted.delete(wire);
    }
  }

  function push(source: string, port: number, timeMs: number): HitOutcome {
    if (!(port >= 0 && port <= 65535) || inSpan[port]! < 0) {
      counters.hitsOutsideSpan++;
      return { kind: "outside-span" };
    }
    expire(timeMs);
    let q = queues.get(source);
    if (q == null) {
      if (queues.size >= maxSources) {
        const oldest = queues.keys().next().value;
        if (oldest !== undefined) queues.delete(oldest);
        counters.sourcesEvicted++;
      }
      q = { ports: new Int32Array(2 * n), head: 0, count: 0, lastMs: timeMs };
    } else {
      queues.delete(source);
    }
    queues.set(source, q);
    q.lastMs = timeMs;
    q.ports[q.head] = port;
    q.ports[q.head + n] = port;
    q.head = (q.head + 1) % n;
    if (q.count < n) q.count++;
    counters.hitsQueued++;
    if (q.count < n) return { kind: "queued", queued: q.count };

    const result = decodeKnock(config, q.ports.subarray(q.head, q.head + n));
    if (!result.ok) {
      counters.decodeFailures[result.code] =
        (counters.decodeFailures[result.code] ?? 0) + 1;
      return { kind: "rejected", code: result.code };
    }
    queues.delete(source);
    const wire = Buffer.from(result.knock.wire).toString("hex");
    if (accepted.has(wire)) {
      counters.replaysDropped++;
      return { kind: "replay" };
    }
    accepted.set(wire, timeMs);
    counters.knocksAccepted++;
    return { kind: "accepted", knock: result.knock };
  }

  return {
    push,
    expire,
    get size(): number {
      return queues.size;
    },
    counters,
  };
}
