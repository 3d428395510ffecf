/**
 * Kernel SYN retransmits appear as two identical LOG lines (spec: daemon.md §1): a hit equal in
 * (source IP, source port, destination port) to one seen less than `windowMs` earlier counts
 * once. Pure; time comes from the injected clock.
 *
 * Memory: two generations of a map, each started at least `windowMs` after the previous one; a
 * lookup checks both, and starting a generation drops the one before the previous, whose entries
 * are all older than `windowMs`. So the filter holds at most the distinct hits of the last two
 * windows, and never more than `2 × maxEntries`: a generation that reaches `maxEntries` is
 * retired early (a flood can then let a retransmit through as a second hit, never the reverse).
 */
import { ipv4ToNumber } from "@portknock/core";
import { createHitTable } from "./hit-table.ts";
import type { Clock, KnockHit } from "@portknock/core";

/** Options of `createRetransmitFilter`. */
export interface RetransmitFilterOptions {
  /** How long an identical hit counts as a retransmit, in ms. Default 3000 (daemon.md §1). */
  windowMs?: number;
  /** Where time comes from. */
  clock: Clock;
  /** Entries per generation before it is retired early. Default 1,000,000. */
  maxEntries?: number;
}

/** A stateful duplicate test over hits. */
export interface RetransmitFilter {
  /**
   * Whether `hit` repeats one seen less than `windowMs` ago (and remembers it, restarting its
   * window). Hits without a `srcPort` are never duplicates.
   */
  isDuplicate(hit: KnockHit): boolean;
  /** Entries held (for tests and counters). */
  readonly size: number;
}

/**
 * Creates a retransmit filter (see the module comment for the memory bound). Throws `RangeError`
 * for a `windowMs` or `maxEntries` that is not a positive number.
 */
export function createRetransmitFilter(
  options: RetransmitFilterOptions,
): RetransmitFilter {
  const windowMs = options.windowMs ?? 3000;
  const maxEntries = options.maxEntries ?? 1_000_000;
  const { clock } = options;
  if (!(windowMs > 0)) {
    throw new RangeError(
      `windowMs must be a positive number of ms, got ${windowMs}`,
    );
  }
  if (!(maxEntries >= 1)) {
    throw new RangeError(`maxEntries must be at least 1, got ${maxEntries}`);
  }
  // IPv4 sources in a numeric table (the hot path), others (IPv6) in a Map keyed by text.
  let current = createHitTable();
  let previous = createHitTable();
  let current6 = new Map<string, number>();
  let previous6 = new Map<string, number>();
  let currentStart = -Infinity;

  const rotate = (now: number, age: number): void => {
    const fresh = age >= 2 * windowMs || age < 0;
    // Size the new generation like the last one, so that it rarely has to grow.
    const expected = current.size;
    previous = fresh ? createHitTable() : current;
    previous6 = fresh ? new Map<string, number>() : current6;
    current = createHitTable(expected);
    current6 = new Map<string, number>();
    currentStart = now;
  };

  return {
    isDuplicate(hit: KnockHit): boolean {
      const { srcPort, srcIp } = hit;
      if (srcPort === undefined) return false;
      const now = clock.now();
      const age = now - currentStart;
      if (
        age >= windowMs ||
        age < 0 ||
        current.size + current6.size >= maxEntries
      ) {
        rotate(now, age);
      }
      const ports = (srcPort << 16) | hit.dstPort;
      const n = ipv4ToNumber(srcIp);
      let seen: number | undefined;
      if (n >= 0) {
        const v4 = n | 0; // the table's keys are int32 patterns
        seen = current.swap(v4, ports, now) ?? previous.get(v4, ports);
      } else {
        const key = `${srcIp} ${ports}`;
        seen = current6.get(key) ?? previous6.get(key);
        current6.set(key, now);
      }
      return seen !== undefined && now - seen < windowMs && now >= seen;
    },
    get size(): number {
      return current.size + previous.size + current6.size + previous6.size;
    },
  };
}
