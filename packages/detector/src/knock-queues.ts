/**
 * Per-source knock queues (spec: daemon.md §2). Each source IP keeps the last n ports it knocked
 * inside the span (a sliding window); after each push with n ports queued the window is decoded.
 * Queues idle for `knockTimeoutMs` are dropped, and an accepted knock whose wire bytes were
 * already accepted within the timeout is dropped as a replay. Memory is bounded whatever the
 * traffic, spoofed sources included.
 *
 * Eviction is segmented (issue #20): a source's first hit goes to the probation segment
 * (`probation.ts`: compact one-hit records, overwritten oldest first); its second hit moves it,
 * with both hits, to the protected segment (`source-table.ts`: at most `maxSources` full queues,
 * least recently used evicted), which only sources with two hits or more enter. So one-hit
 * sources, a spoofed flood's, can never evict a source that has made progress, and a first hit
 * survives `probationSources` later first hits. The argument, with what an attacker can still do,
 * is in the README ("Floods").
 */
import type {
  DecodeCode,
  Knock,
  KnockConfig,
  SealedKnock,
} from "@portknock/codec";
import { decodeKnock, knockPortCounts } from "@portknock/codec";
import type { SealedRefusal } from "./sealed-guard.ts";
import { createProbation, MAX_PROBATION } from "./probation.ts";
import {
  COUNT,
  createSourceTable,
  FRESH,
  HEAD,
  META_INTS,
  TIME,
  TIME_STRIDE,
} from "./source-table.ts";
import { ipv4ToNumber } from "@portknock/core";

/**
 * The probation segment's default size, in one-hit records per `maxSources` (issue #20): 4, so
 * 262,144 records (6 MiB) for the default 65,536.
 */
export const PROBATION_PER_SOURCE: number = 4;

/** What became of one hit. */
export type HitOutcome =
  | { kind: "outside-span" }
  | { kind: "queued"; queued: number }
  /** A kernel's retransmit of a SYN already queued (README, "Retransmits"). */
  | { kind: "retransmit" }
  /**
   * The source's last ports do not decode (`full`: at the knock's longest length, so every length
   * was tried: the whole of a knock-length sequence failed), or a sealed check refused a knock.
   */
  | { kind: "rejected"; code: DecodeCode | SealedRefusal; full?: boolean }
  | { kind: "replay" }
  | { kind: "accepted"; knock: Knock | SealedKnock };

/** Counters of the queues (daemon.md §8). */
export interface QueueCounters {
  hitsOutsideSpan: number;
  hitsQueued: number;
  decodeFailures: Partial<Record<DecodeCode, number>>;
  knocksAccepted: number;
  replaysDropped: number;
  retransmitsDropped: number;
  /** Sources evicted, from either segment (`evictedProbation + evictedProtected`). */
  sourcesEvicted: number;
  /** One-hit sources overwritten in the probation segment by newer one-hit sources. */
  evictedProbation: number;
  /** Sources of two hits or more evicted from the protected segment by a newly promoted source. */
  evictedProtected: number;
  sourcesExpired: number;
}

/** Options of `createKnockQueues`. */
export interface KnockQueuesOptions {
  config: KnockConfig;
  /** A source's queue is dropped after this long without a hit (ms, under 2^29). */
  knockTimeoutMs: number;
  /** Most sources of two hits or more (the protected segment, full queues) at once. */
  maxSources: number;
  /**
   * Most one-hit sources (the probation segment, compact records) at once. Default
   * `min(4 * maxSources, 2^23)`. A knock of one port has no probation segment.
   */
  probationSources?: number;
  /**
   * A hit equal in (source, source port, sequence number when known, port) to the source's
   * newest such queued hit, seen less than this many ms before, is a kernel retransmit, dropped
   * (daemon.md §1; README, "Retransmits"). Default 3000; 0 turns it off.
   */
  retransmitWindowMs?: number;
  /**
   * ... and seen at least this many ms before (a kernel resends an unanswered SYN after ~1 s at
   * the soonest): a copy sooner is a hit of its own, as a raw sender repeating a port sends it.
   * For packet times (network mode, `-replay` of a pcap); the default 0 suits file mode, whose
   * hits are timed when their batch was read. Under `retransmitWindowMs`.
   */
  retransmitMinGapMs?: number;
}

/** The queues of all sources. */
export interface KnockQueues {
  /**
   * Adds one hit (`timeMs`: when it was seen; `srcPort`: its source port, -1 when unknown, which
   * is never a retransmit; `seq`: its TCP sequence number when known) and returns what became
   * of it.
   */
  push(
    source: string,
    port: number,
    timeMs: number,
    srcPort?: number,
    seq?: number,
  ): HitOutcome;
  /**
   * `push` for an IPv4 source given as its 32-bit number (0 to 2^32 - 1): the same queue as
   * its dotted quad.
   */
  pushV4(
    ip: number,
    port: number,
    timeMs: number,
    srcPort?: number,
    seq?: number,
  ): HitOutcome;
  /**
   * `push` for an IPv6 source given as its four 32-bit words, big-endian (`w0` holds the first
   * two groups; any int form: `n | 0` or `n >>> 0`): the same queue as its text.
   */
  pushV6(
    w0: number,
    w1: number,
    w2: number,
    w3: number,
    port: number,
    timeMs: number,
    srcPort?: number,
    seq?: number,
  ): HitOutcome;
  /** Drops queues and replay entries older than the timeout at `nowMs`. */
  expire(nowMs: number): void;
  /** Number of sources with a queue. */
  readonly size: number;
  readonly counters: QueueCounters;
}

/** Creates the per-source queues for one compiled knock configuration. */
export function createKnockQueues(options: KnockQueuesOptions): KnockQueues {
  const { config, knockTimeoutMs, maxSources } = options;
  const retransmitMs = options.retransmitWindowMs ?? 3000;
  if (!(retransmitMs >= 0)) {
    throw new RangeError(
      `retransmitWindowMs must be >= 0, got ${retransmitMs}`,
    );
  }
  const minGapMs = options.retransmitMinGapMs ?? 0;
  if (!(minGapMs >= 0 && (minGapMs < retransmitMs || minGapMs === 0))) {
    throw new RangeError(
      `retransmitMinGapMs must be >= 0 and under retransmitWindowMs (${retransmitMs}), got ${minGapMs}`,
    );
  }
  // (2^29 ms: the probation segment's ages, from 31-bit stamps, are exact below it.)
  if (!(knockTimeoutMs > 0 && knockTimeoutMs < 2 ** 29)) {
    throw new RangeError(
      `knockTimeoutMs must be > 0 and under 2^29 (6.2 days), got ${knockTimeoutMs}`,
    );
  }
  if (!Number.isInteger(maxSources) || maxSources < 1) {
    throw new RangeError(
      `maxSources must be a positive integer, got ${maxSources}`,
    );
  }
  // 4 × maxSources (issue #20): 262,144 one-hit sources for the default 65,536, 1.3 s of a
  // 200,000/s one-packet flood between two ports of a knock; 8 × kept knockd above 100 MiB under
  // two-SYN floods (README, "Floods"; docs/floods.md).
  const probationSources =
    options.probationSources ??
    Math.min(PROBATION_PER_SOURCE * maxSources, MAX_PROBATION);
  if (
    !Number.isInteger(probationSources) ||
    probationSources < 1 ||
    probationSources > MAX_PROBATION
  ) {
    throw new RangeError(
      `probationSources must be an integer from 1 to ${MAX_PROBATION}, got ${probationSources}`,
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
  const RETRANSMIT: HitOutcome = Object.freeze({ kind: "retransmit" });
  // What `admit` returns instead of a slot for a hit kept in probation.
  const FIRST_HIT = -1;
  const FIRST_HIT_AGAIN = -2;
  // Each source's slot is a ring of n entries of two ints: the port and its sender's tag
  // (`port | tag << 16`: the source port, or with a sequence number a 16-bit mix of both, see
  // `senderTag`), and the time (ms) shifted left with bit 0 set when the source port is known
  // (only time differences under 2^31 ms are used; the retransmit test moves it to the last
  // copy seen). Two ints rather than three
  // keep 65,536 queues of 18 ports 4.7 MiB smaller. The retransmit test reads the queued
  // entries, the decoder a copy of the last c ports.
  const table = createSourceTable(maxSources, 2 * n);
  // One-hit sources wait in probation, unless a single port can be a knock.
  const probation =
    lengths[0]! >= 2 ? createProbation(probationSources) : undefined;
  // A slot's FRESH: ports queued since the source's last accepted knock (its decodable window);
  // COUNT counts the ring's entries, kept after an acceptance so the retransmit of a knock's
  // last port is still recognised.
  const { meta, times, windows } = table;
  const scratch = new Int32Array(n);
  const views = Array.from({ length: n + 1 }, (_, c) => scratch.subarray(0, c));
  const accepted = new Map<string, number>(); // wire hex → time accepted (in time order)
  const counters: QueueCounters = {
    hitsOutsideSpan: 0,
    hitsQueued: 0,
    decodeFailures: {},
    knocksAccepted: 0,
    replaysDropped: 0,
    retransmitsDropped: 0,
    sourcesEvicted: 0,
    evictedProbation: 0,
    evictedProtected: 0,
    sourcesExpired: 0,
  };

  // The sweep from the least recently used end runs at most once per SWEEP_MS of hit time (the
  // oldest slot is cold in the cache: reading it on every hit cost ~80 ns); a source found idle
  // past the timeout in between is dropped when it is looked up, so expiry stays exact.
  const SWEEP_MS = 1000;
  let lastSweep = -Infinity;

  function expire(nowMs: number): void {
    lastSweep = nowMs;
    for (
      let o = table.oldest();
      o >= 0 && nowMs - times[o * TIME_STRIDE + TIME]! >= knockTimeoutMs;
      o = table.oldest()
    ) {
      table.remove(o);
      counters.sourcesExpired++;
    }
    if (probation != null)
      counters.sourcesExpired += probation.expire(nowMs, knockTimeoutMs);
    if (accepted.size === 0) return;
    for (const [wire, t] of accepted) {
      if (nowMs - t < knockTimeoutMs) break;
      accepted.delete(wire);
    }
  }

  /**
   * Whether `entry` (`port | tag << 16`, source port known) at `t` retransmits a SYN queued in
   * `slot` (README, "Retransmits"): the newest queued entry equal to it was seen between
   * `minGapMs` and `retransmitMs` before, and — when the hit carries a sequence number
   * (`withSeq`) — no queued entry has the same tag to another port (a kernel never sends one
   * (source port, sequence number) to two ports; a raw sender that does is no kernel, and its
   * repeats are hits). Without a sequence number (log lines, UDP) the tag is the source port
   * alone, which a system may well reuse for connections to other ports, so that part of the
   * rule does not apply. A match moves its stamp to `t`, so the next copy (a kernel doubles its
   * timeout: +1, +2, +4 s) is measured from this one.
   */
  function isRetransmit(
    slot: number,
    entry: number,
    t: number,
    withSeq: boolean,
  ): boolean {
    const base = slot * 2 * n;
    const count = meta[slot * META_INTS + COUNT]!;
    const tag = entry >>> 16;
    const now = t << 1;
    let match = -1;
    let i = meta[slot * META_INTS + HEAD]!;
    for (let k = 0; k < count; k++) {
      i = i === 0 ? n - 1 : i - 1;
      const e = base + 2 * i;
      const queued = windows[e]!;
      if ((windows[e + 1]! & 1) === 0 || queued >>> 16 !== tag) continue;
      if (queued !== entry) {
        if (withSeq) return false; // the same (source port, seq) to another port: no kernel
        continue;
      }
      if (match < 0) match = e;
    }
    if (match < 0) return false;
    const gap = ((now - (windows[match + 1]! & ~1)) | 0) >>> 1;
    if (gap < minGapMs || gap >= retransmitMs) return false;
    windows[match + 1] = now | 1;
    return true;
  }

  // The IPv6 source of `pushV6`'s hit: where `ip` is V6, the key is these words.
  const V6 = -2;
  const words6 = new Int32Array(4);

  /**
   * A protected slot for a source (`ip` >= 0, else V6: `words6`, else `source`) that has none,
   * evicting if full.
   */
  function protect(ip: number, source: string | undefined): number {
    const slot =
      ip >= 0
        ? table.insertV4(ip)
        : ip === V6
          ? table.insertV6(words6)
          : table.insert(source!);
    if (table.evicted) {
      counters.sourcesEvicted++;
      counters.evictedProtected++;
    }
    return slot;
  }

  /**
   * A hit (`entry`, `stamp` as ring entries) from a source without a protected queue: its first
   * hit is kept in probation (FIRST_HIT); a second one, unless it repeats the first
   * (FIRST_HIT_AGAIN, a kernel retransmit), moves the source to the protected segment with its
   * first hit queued, and its slot is returned for the second.
   */
  function admit(
    ip: number,
    source: string | undefined,
    entry: number,
    stamp: number,
    timeMs: number,
  ): number {
    if (probation == null) return protect(ip, source);
    let rec =
      ip >= 0
        ? probation.findV4(ip)
        : ip === V6
          ? probation.findV6(words6)
          : probation.findOther(source!);
    if (rec >= 0 && probation.ageMs(rec, timeMs) >= knockTimeoutMs) {
      probation.remove(rec); // idle past the timeout, not swept yet
      counters.sourcesExpired++;
      rec = -1;
    }
    if (rec < 0) {
      if (ip >= 0) probation.insertV4(ip, entry, stamp);
      else if (ip === V6) probation.insertV6(words6, entry, stamp);
      else probation.insertOther(source!, entry, stamp);
      if (probation.evicted) {
        counters.sourcesEvicted++;
        counters.evictedProbation++;
      }
      return FIRST_HIT;
    }
    const first = probation.entry(rec);
    const firstStamp = probation.stamp(rec);
    const gap = (((stamp & ~1) - (firstStamp & ~1)) | 0) >>> 1;
    if (
      (stamp & 1) === 1 &&
      retransmitMs > 0 &&
      first === entry &&
      (firstStamp & 1) === 1 &&
      gap >= minGapMs &&
      gap < retransmitMs
    ) {
      return FIRST_HIT_AGAIN;
    }
    probation.remove(rec);
    const slot = protect(ip, source);
    const m = slot * META_INTS;
    windows[slot * 2 * n] = first;
    windows[slot * 2 * n + 1] = firstStamp;
    meta[m + HEAD] = 1 % n;
    meta[m + COUNT] = 1;
    meta[m + FRESH] = 1;
    return slot;
  }

  function push(
    source: string,
    port: number,
    timeMs: number,
    srcPort = -1,
    seq?: number,
  ): HitOutcome {
    return pushKey(ipv4ToNumber(source), source, port, timeMs, srcPort, seq);
  }

  function pushV4(
    ip: number,
    port: number,
    timeMs: number,
    srcPort = -1,
    seq?: number,
  ): HitOutcome {
    if (!(ip >= 0 && ip <= 0xffffffff && Number.isInteger(ip))) {
      throw new RangeError(`not an IPv4 number: ${ip}`);
    }
    return pushKey(ip, undefined, port, timeMs, srcPort, seq);
  }

  function pushV6(
    w0: number,
    w1: number,
    w2: number,
    w3: number,
    port: number,
    timeMs: number,
    srcPort = -1,
    seq?: number,
  ): HitOutcome {
    words6[0] = w0;
    words6[1] = w1;
    words6[2] = w2;
    words6[3] = w3;
    return pushKey(V6, undefined, port, timeMs, srcPort, seq);
  }

  /** A hit from `ip` when >= 0, from `words6` when V6, else from `source` (not IPv4). */
  function pushKey(
    ip: number,
    source: string | undefined,
    port: number,
    timeMs: number,
    srcPort: number,
    seq: number | undefined,
  ): HitOutcome {
    if ((port & 0xffff) !== port || inSpan[port]! < 0) {
      counters.hitsOutsideSpan++;
      return OUTSIDE;
    }
    if ((srcPort & 0xffff) !== srcPort) srcPort = -1; // unknown (or not a port)
    if (timeMs - lastSweep >= SWEEP_MS || timeMs < lastSweep) expire(timeMs);
    const t = timeMs | 0;
    let slot =
      ip >= 0
        ? table.findV4(ip)
        : ip === V6
          ? table.findV6(words6)
          : table.find(source!);
    if (
      slot >= 0 &&
      timeMs - times[slot * TIME_STRIDE + TIME]! >= knockTimeoutMs
    ) {
      table.remove(slot); // idle past the timeout, not swept yet
      counters.sourcesExpired++;
      slot = -1;
    }
    const entry = srcPort >= 0 ? port | (senderTag(srcPort, seq) << 16) : port;
    const stamp = (t << 1) | (srcPort >= 0 ? 1 : 0);
    if (slot < 0) {
      slot = admit(ip, source, entry, stamp, timeMs);
      if (slot === FIRST_HIT) {
        counters.hitsQueued++;
        return QUEUED[1]!;
      }
      if (slot === FIRST_HIT_AGAIN) {
        counters.retransmitsDropped++;
        return RETRANSMIT;
      }
    } else {
      if (
        srcPort >= 0 &&
        retransmitMs > 0 &&
        isRetransmit(slot, entry, t, seq !== undefined)
      ) {
        counters.retransmitsDropped++;
        return RETRANSMIT;
      }
      table.touch(slot);
    }
    const base = slot * 2 * n;
    const m = slot * META_INTS;
    const head = meta[m + HEAD]!;
    const e = base + 2 * head;
    windows[e] = entry;
    windows[e + 1] = stamp;
    const next = head + 1 === n ? 0 : head + 1;
    meta[m + HEAD] = next;
    times[slot * TIME_STRIDE + TIME] = timeMs;
    meta[m + COUNT] = Math.min(meta[m + COUNT]! + 1, n);
    const count = Math.min(meta[m + FRESH]! + 1, n);
    meta[m + FRESH] = count;
    counters.hitsQueued++;
    let result: ReturnType<typeof decodeKnock> | undefined;
    for (const c of lengths) {
      if (count < c) break;
      // The last c ports, oldest first.
      for (let k = 0, i = next - c < 0 ? next - c + n : next - c; k < c; k++) {
        scratch[k] = windows[base + 2 * i]! & 0xffff;
        i = i + 1 === n ? 0 : i + 1;
      }
      result = decodeKnock(config, views[c]!);
      if (result.ok) break;
    }
    if (result == null) return QUEUED[count]!;
    if (!result.ok) {
      counters.decodeFailures[result.code] =
        (counters.decodeFailures[result.code] ?? 0) + 1;
      return { kind: "rejected", code: result.code, full: count === n };
    }
    meta[m + FRESH] = 0; // the queue starts over (its entries still catch retransmits)
    // compat: the same wire bytes twice within knocktimeout are a replay. sealed knocks carry a
    // random nonce; the daemon's sealed checks keep (and persist) their replay cache instead.
    if (config.format !== "sealed") {
      const wire = Buffer.from(result.knock.wire).toString("hex");
      const before = accepted.get(wire);
      if (before !== undefined && timeMs - before < knockTimeoutMs) {
        counters.replaysDropped++;
        return { kind: "replay" };
      }
      accepted.delete(wire); // re-inserted last: the map stays in time order
      accepted.set(wire, timeMs);
    }
    counters.knocksAccepted++;
    return { kind: "accepted", knock: result.knock };
  }

  return {
    push,
    pushV4,
    pushV6,
    expire,
    get size(): number {
      return table.size + (probation?.size ?? 0);
    },
    counters,
  };
}

/**
 * A sender's 16-bit tag for the retransmit rule: the source port, or with a TCP sequence number
 * (0 to 2^32 - 1; anything else is ignored) a mix of both, so that two tags are equal for one
 * (source port, sequence number) and, otherwise, by chance once in 65,536.
 */
export function senderTag(srcPort: number, seq: number | undefined): number {
  if (seq === undefined || !(seq >= 0 && seq <= 0xffffffff)) return srcPort;
  const h = Math.imul((seq | 0) ^ Math.imul(srcPort, 0x9e3779b1), 0x85ebca6b);
  return (h ^ (h >>> 16)) & 0xffff;
}
