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
  key: number | string;
  // Offset of this source's window in the slab. The window is stored twice over (a ring of n
  // written at i and i+n), so the last n ports are always one contiguous subarray.
  offset: number;
  head: number;
  count: number;
  lastMs: number;
  // Least-recently-used list: `older` is towards the eviction end.
  older: SourceQueue | undefined;
  newer: SourceQueue | undefined;
}

/**
 * The map key of a source: an IPv4 address as its 32-bit number (cheap to hash, and it does not
 * keep alive the 1 MiB chunk of log text the address was sliced from), anything else (IPv6) as a
 * fresh flat copy of the string, for the same reason.
 */
function sourceKey(s: string): number | string {
  let value = 0;
  let octet = -1;
  let dots = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) {
      if (octet < 0 || ++dots > 3) return flatCopy(s);
      value = value * 256 + octet;
      octet = -1;
    } else if (c >= 48 && c <= 57) {
      octet = octet < 0 ? c - 48 : octet * 10 + c - 48;
      if (octet > 255) return flatCopy(s);
    } else {
      return flatCopy(s);
    }
  }
  return dots === 3 && octet >= 0 ? value * 256 + octet : flatCopy(s);
}

function flatCopy(s: string): string {
  // latin1 round-trips an address into a fresh, flat string.
  const copy = Buffer.from(s, "latin1").toString("latin1");
  return copy === s ? copy : s;
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
  const n = config.portCount;
  const inSpan = config.span.indexOf;
  // The frequent outcomes are shared, frozen objects: no allocation per hit.
  const OUTSIDE: HitOutcome = Object.freeze({ kind: "outside-span" });
  const QUEUED: readonly HitOutcome[] = Array.from(
    { length: n + 1 },
    (_, queued) => Object.freeze({ kind: "queued", queued }),
  );
  // A Map for lookup plus an intrusive doubly-linked list in LRU order: moving, expiring and
  // evicting are O(1). (A Map re-inserted on every hit is LRU-ordered too, but iterating it from
  // the front walks over every deleted slot: quadratic under a flood.)
  const queues = new Map<number | string, SourceQueue>();
  // All windows live in one slab (2n ints per source), grown by doubling up to maxSources and
  // recycled through a free list: a new source allocates no typed array.
  let slab = new Int32Array(2 * n * Math.min(maxSources, 1024));
  let slabUsed = 0;
  const freeOffsets: number[] = [];
  const takeOffset = (): number => {
    const reused = freeOffsets.pop();
    if (reused !== undefined) return reused;
    if (slabUsed + 2 * n > slab.length) {
      const bigger = new Int32Array(
        Math.min(slab.length * 2, 2 * n * maxSources),
      );
      bigger.set(slab);
      slab = bigger;
    }
    const offset = slabUsed;
    slabUsed += 2 * n;
    return offset;
  };
  let oldest: SourceQueue | undefined;
  let newest: SourceQueue | undefined;
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

  const unlink = (q: SourceQueue): void => {
    if (q.older) q.older.newer = q.newer;
    else oldest = q.newer;
    if (q.newer) q.newer.older = q.older;
    else newest = q.older;
    q.older = q.newer = undefined;
  };
  const append = (q: SourceQueue): void => {
    q.older = newest;
    q.newer = undefined;
    if (newest) newest.newer = q;
    else oldest = q;
    newest = q;
  };
  const remove = (q: SourceQueue): void => {
    unlink(q);
    queues.delete(q.key);
    freeOffsets.push(q.offset);
  };

  function expire(nowMs: number): void {
    while (oldest != null && nowMs - oldest.lastMs >= knockTimeoutMs) {
      remove(oldest);
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
    const key = sourceKey(source);
    let q = queues.get(key);
    if (q == null) {
      if (queues.size >= maxSources && oldest != null) {
        remove(oldest);
        counters.sourcesEvicted++;
      }
      q = {
        key,
        offset: takeOffset(),
        head: 0,
        count: 0,
        lastMs: timeMs,
        older: undefined,
        newer: undefined,
      };
      queues.set(key, q);
    } else {
      unlink(q);
    }
    append(q);
    q.lastMs = timeMs;
    slab[q.offset + q.head] = port;
    slab[q.offset + q.head + n] = port;
    q.head = (q.head + 1) % n;
    if (q.count < n) q.count++;
    counters.hitsQueued++;
    if (q.count < n) return QUEUED[q.count]!;

    const start = q.offset + q.head;
    const result = decodeKnock(config, slab.subarray(start, start + n));
    if (!result.ok) {
      counters.decodeFailures[result.code] =
        (counters.decodeFailures[result.code] ?? 0) + 1;
      return { kind: "rejected", code: result.code };
    }
    remove(q);
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
