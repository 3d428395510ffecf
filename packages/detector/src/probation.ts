/**
 * The probation segment of the knock queues (issue #20): the sources seen once, each in a 16-byte
 * record (its key, its one hit as a ring entry and stamp of `knock-queues.ts`) plus 8 bytes of
 * index (two 4-byte buckets), in a ring overwritten oldest first. A source's second hit takes its record out (into the
 * protected segment, `source-table.ts`); a source that sends no second one is overwritten after
 * exactly `capacity` later first hits, or dropped once idle for the timeout. So a flood of
 * one-packet spoofed sources only ever replaces one-hit records, in order, and a first hit
 * survives `capacity` of them whatever their rate: the ring's length is the guarantee.
 *
 * 24 bytes per source where a protected queue takes 48 + 8n (`source-table.ts`): the default
 * 4 × 65,536 one-hit sources take 6 MiB, less than half the 65,536 full queues of n = 21 ports
 * they replaced in front of a flood (14 MiB). Everything is allocated once (the OS maps the pages as
 * they are written) and nothing per hit. IPv4 sources are keyed by their number; other sources
 * (IPv6) by a seeded 63-bit hash of their address (`source-hash.ts`: text or words alike), so a flood of IPv6 sources costs no strings
 * either (two sources share a record only on a hash collision, about 2^-63 per pair).
 */
import { createSourceHasher } from "./source-hash.ts";

/** Ints per record: the key (two ints), the hit's ring entry and stamp. */
const REC_INTS = 4;
const K0 = 0;
const K1 = 1; // V4 for an IPv4 source, odd for a hashed other one, FREE for a free record
const ENTRY = 2;
const STAMP = 3;
const FREE = 0; // zero-filled: records never written are free, and their pages never touched
const V4 = 2;
/** At most this many records: a record's number + 1 fills the low 24 bits of its index entry. */
export const MAX_PROBATION: number = 2 ** 23;
/** A record's time is its stamp's (31 bits of ms): ages are exact up to 2^30 ms. */
const STALE_MS = 2 ** 29;

/** The one-hit sources, at most `capacity`. */
export interface Probation {
  /** The record of the IPv4 source `ip` (0 to 2^32 - 1), or -1. */
  findV4(ip: number): number;
  /** The record of a source that is not IPv4 (its text), or -1. */
  findOther(source: string): number;
  /**
   * The record of the IPv6 source whose four words are `words[0..3]` (the same as `findOther`
   * of its text), or -1.
   */
  findV6(words: Int32Array): number;
  /**
   * Stores the first hit of an IPv4 source without a record, as the ring `entry` and `stamp` of
   * `knock-queues.ts` (`(timeMs | 0) << 1`, bit 0: the source port is known). Overwrites the
   * oldest record when the ring is full (then `evicted` is true until the next insert).
   */
  insertV4(ip: number, entry: number, stamp: number): void;
  /** `insertV4` for a source that is not IPv4. */
  insertOther(source: string, entry: number, stamp: number): void;
  /** `insertV4` for an IPv6 source given as `findV6` takes it. */
  insertV6(words: Int32Array, entry: number, stamp: number): void;
  /** Whether the last insert overwrote a live record. */
  readonly evicted: boolean;
  /** Frees record `rec`. */
  remove(rec: number): void;
  /** The ring entry of `rec`'s hit (port and source port). */
  entry(rec: number): number;
  /** The ring stamp of `rec`'s hit. */
  stamp(rec: number): number;
  /** How long ago `rec`'s hit was at `timeMs` (ms; negative when the clock went back). */
  ageMs(rec: number, timeMs: number): number;
  /**
   * Frees the records, oldest first, that are `timeoutMs` or more older than `nowMs`, up to the
   * first younger one; all of them when `nowMs` is 2^29 ms (6 days) or more away from the last
   * call (ages that far are no longer exact). Returns how many were live. Ages are exact when this
   * runs at least every 2^29 ms and `timeoutMs` is under 2^29 ms.
   */
  expire(nowMs: number, timeoutMs: number): number;
  /** Records in use. */
  readonly size: number;
}

/** The index's hash of a key's first int (its home bucket is in the low bits). */
export function probationHash(seed: number, k0: number): number {
  let h = Math.imul(k0 ^ seed, 0x9e3779b1);
  h ^= h >>> 15;
  h = Math.imul(h, 0x85ebca6b);
  return h ^ (h >>> 13);
}

/**
 * Creates an empty probation segment for `capacity` sources (1 to MAX_PROBATION). `seed` (for
 * tests) fixes the index's hash; by default it is random.
 */
export function createProbation(
  capacity: number,
  seed: number = (Math.random() * 0x100000000) | 0,
): Probation {
  if (!Number.isInteger(capacity) || capacity < 1 || capacity > MAX_PROBATION) {
    throw new RangeError(
      `capacity must be an integer from 1 to ${MAX_PROBATION}, got ${capacity}`,
    );
  }
  const records = new Int32Array(capacity * REC_INTS);
  let cursor = 0; // the next record written: after a full turn, the oldest
  let span = 0; // records from the oldest still counted to the cursor (live or freed)
  let size = 0;
  let evicted = false;
  let lastExpire = Number.NaN;

  // The index: open addressing with linear probing, at most half full, one int per bucket: the
  // record's number + 1 (0 = empty) in bits 0-23, the entry's distance from its home bucket in
  // bits 24-28 (31: that far or more, then read from the record's key) and 3 more bits of the
  // key's hash in bits 29-31. So a probe reads a record only when those 3 bits match, and a
  // deletion shifts entries back without reading theirs. Seeded: crafted sources cannot build
  // long probe chains.
  let buckets = 1024;
  while (buckets < capacity * 2) buckets *= 2;
  const index = new Int32Array(buckets);
  const mask = buckets - 1;
  const hash = (k0: number): number => probationHash(seed, k0);
  const REC = 0xffffff;
  const FAR = 31;

  // Other (IPv6) keys: a seeded 63-bit hash of the address (`source-hash.ts`).
  const hasher = createSourceHasher();

  const find = (k0: number, k1: number): number => {
    const h = hash(k0);
    const tag = h >>> 29;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const v = index[i]!;
      if (v === 0) return -1;
      if (v >>> 29 === tag) {
        const rec = (v & REC) - 1;
        if (records[rec * REC_INTS + K0] === k0) {
          if (records[rec * REC_INTS + K1] === k1) return rec;
        }
      }
    }
  };

  const remove = (rec: number): void => {
    const o = rec * REC_INTS;
    let i = hash(records[o + K0]!) & mask;
    while ((index[i]! & REC) !== rec + 1) i = (i + 1) & mask;
    // Backward-shift deletion keeps linear probing correct without tombstones: an entry moves
    // back to the hole when its home is not between the hole and it.
    let hole = i;
    for (let j = (i + 1) & mask; index[j] !== 0; j = (j + 1) & mask) {
      const v = index[j]!;
      let far = (v >>> 24) & FAR;
      if (far === FAR) {
        far = (j - hash(records[((v & REC) - 1) * REC_INTS + K0]!)) & mask;
      }
      const back = (j - hole) & mask;
      if (far >= back) {
        index[hole] = (v & ~(FAR << 24)) | (Math.min(far - back, FAR) << 24);
        hole = j;
      }
    }
    index[hole] = 0;
    records[o + K1] = FREE;
    size--;
  };

  const insert = (k0: number, k1: number, entry: number, stamp: number) => {
    evicted = false;
    const rec = cursor;
    const o = rec * REC_INTS;
    if (span === capacity) {
      if (records[o + K1] !== FREE) {
        remove(rec);
        evicted = true;
      }
      span--;
    }
    records[o + K0] = k0;
    records[o + K1] = k1;
    records[o + ENTRY] = entry;
    records[o + STAMP] = stamp;
    const h = hash(k0);
    let far = 0;
    let i = h & mask;
    while (index[i] !== 0) {
      i = (i + 1) & mask;
      far++;
    }
    index[i] = ((h >>> 29) << 29) | (Math.min(far, FAR) << 24) | (rec + 1);
    size++;
    span++;
    cursor = cursor + 1 === capacity ? 0 : cursor + 1;
  };

  return {
    findV4: (ip: number): number => find(ip | 0, V4),
    findOther(source: string): number {
      const key = hasher.hash(source);
      return find(key[0]!, key[1]!);
    },
    findV6(words: Int32Array): number {
      const key = hasher.hashWords(words);
      return find(key[0]!, key[1]!);
    },
    insertV6(words: Int32Array, entry: number, stamp: number): void {
      const key = hasher.hashWords(words);
      insert(key[0]!, key[1]!, entry, stamp);
    },
    insertV4(ip: number, entry: number, stamp: number): void {
      insert(ip | 0, V4, entry, stamp);
    },
    insertOther(source: string, entry: number, stamp: number): void {
      const key = hasher.hash(source);
      insert(key[0]!, key[1]!, entry, stamp);
    },
    get evicted(): boolean {
      return evicted;
    },
    remove,
    entry: (rec: number): number => records[rec * REC_INTS + ENTRY]!,
    stamp: (rec: number): number => records[rec * REC_INTS + STAMP]!,
    ageMs: (rec: number, timeMs: number): number =>
      ((((timeMs | 0) << 1) - (records[rec * REC_INTS + STAMP]! & ~1)) | 0) >>
      1,
    expire(nowMs: number, timeoutMs: number): number {
      const all = Math.abs(nowMs - lastExpire) >= STALE_MS;
      lastExpire = nowMs;
      const now = (nowMs | 0) << 1;
      let n = 0;
      while (span > 0) {
        const oldest =
          cursor - span < 0 ? cursor - span + capacity : cursor - span;
        const o = oldest * REC_INTS;
        if (records[o + K1] !== FREE) {
          const age = ((now - (records[o + STAMP]! & ~1)) | 0) >> 1;
          if (!all && age < timeoutMs) break;
          remove(oldest);
          n++;
        }
        span--;
      }
      return n;
    },
    get size(): number {
      return size;
    },
  };
}
