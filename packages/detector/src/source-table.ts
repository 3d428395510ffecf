/**
 * The per-source slots of the knock queues, in flat typed arrays: a source's slot holds its
 * window of ports, its last-hit time and its place in a least-recently-used list. IPv4 sources are
 * found through an open-addressing hash table of their 32-bit numbers; other sources (IPv6)
 * through a second one of a seeded 63-bit hash of their address, given as text or as four words
 * (`source-hash.ts`). Nothing is
 * allocated per hit and nothing per new source: under a flood of spoofed sources the garbage
 * collector has nothing to do, and memory is fixed by `maxSources`. (A Map keyed per source,
 * churned by evictions, left megabytes of dead backing stores per rehash: replaying 1M spoofed
 * IPv4 sources, peak RSS went from ~170 MB to ~136 MB. The IPv6 sources' Map of strings, under a
 * flood of two SYNs per spoofed IPv6 source, took knockd's peak RSS to 152-164 MiB; floods.md,
 * "IPv6 floods".)
 */
import { ipv4ToNumber } from "@portknock/core";
import { createSourceHasher } from "./source-hash.ts";

const NONE = -1;

/** Ints per slot in `meta`: head, count, fresh, older, newer, address, and the time as a double. */
export const META_INTS = 8;
/** Offsets in a slot's `meta` record: the ring's next index, its entries, and a user field. */
export const HEAD = 0;
export const COUNT = 1;
export const FRESH = 2;
const OLDER = 3;
const NEWER = 4;
const IP = 5; // an IPv4 slot's address (as int32); an IPv6 slot's first key int
/** The slot's last-hit time is `times[slot * TIME_STRIDE + TIME]` (same memory as `meta`). */
export const TIME_STRIDE: number = META_INTS / 2;
export const TIME = 3;

/** Slots for at most `capacity` sources, each with a window of `width` ints. */
export interface SourceTable {
  /** The slot of `source`, or -1. */
  find(source: string): number;
  /** `find` for an IPv4 source given as its 32-bit number. */
  findV4(ip: number): number;
  /** `find` for an IPv6 source given as its four 32-bit words, `words[0..3]`. */
  findV6(words: Int32Array): number;
  /**
   * A slot for `source` (not present): a free one, or the least recently used one, evicted
   * (then `evicted` is true until the next insert). Its head, count and fresh are 0.
   */
  insert(source: string): number;
  /** `insert` for an IPv4 source given as its 32-bit number. */
  insertV4(ip: number): number;
  /** `insert` for an IPv6 source given as `findV6` takes it. */
  insertV6(words: Int32Array): number;
  /** Whether the last insert evicted a source. */
  readonly evicted: boolean;
  /** Frees `slot`. */
  remove(slot: number): void;
  /** Marks `slot` most recently used. */
  touch(slot: number): void;
  /** The least recently used slot, or -1 when empty. */
  oldest(): number;
  readonly size: number;
  /** Per-slot windows, `width` ints each. */
  readonly windows: Int32Array;
  /**
   * Per-slot records of META_INTS ints (HEAD, COUNT, FRESH, the LRU links) and, over the same
   * memory, the last-hit time (`times`): what one hit reads and writes is in one cache line.
   */
  readonly meta: Int32Array;
  readonly times: Float64Array;
}

/** Creates a table for `capacity` sources with windows of `width` ints. */
export function createSourceTable(
  capacity: number,
  width: number,
): SourceTable {
  // Allocated for `capacity` up front: zero-filled typed arrays are mapped lazily by the OS, so
  // only the slots in use take memory, and the table never copies itself while growing (growth
  // by doubling left the old arrays as garbage at the worst moment, a flood).
  const windows = new Int32Array(capacity * width);
  const meta = new Int32Array(capacity * META_INTS);
  const times = new Float64Array(meta.buffer);
  let used = 0; // slots handed out so far (the rest of the arrays is unused)
  const free: number[] = [];
  let head = NONE; // least recently used
  let tail = NONE; // most recently used
  let size = 0;
  // IPv4 index: open addressing with linear probing, at most half full. Each entry is two ints,
  // [slot + 1 (0 = empty), the address], so probing and deletion never leave the index. The hash
  // is seeded so that crafted sources cannot build long probe chains. Sized for `capacity` up
  // front (16 bytes per source): growing would mean rehashing under a flood.
  const index = new Int32Array(2 * tableSize(capacity));
  const mask = index.length / 2 - 1;
  const seed = (Math.random() * 0x100000000) | 0;
  const hash = (ip: number): number => {
    let h = Math.imul((ip | 0) ^ seed, 0x9e3779b1);
    h ^= h >>> 15;
    h = Math.imul(h, 0x85ebca6b);
    return (h ^ (h >>> 13)) & mask;
  };

  // The IPv6 index: the same, with entries of three ints, [slot + 1, the key's two ints]; the
  // key's first int is already a seeded hash (its home bucket is in its low bits). 24 bytes per
  // source, whose pages the OS maps only when IPv6 sources arrive.
  const hasher = createSourceHasher();
  const index6 = new Int32Array(3 * (index.length / 2));

  function tableSize(n: number): number {
    let t = 1024;
    while (t < n * 2) t *= 2;
    return t;
  }

  // `insert` follows a failed `find` of the same source: parse its address once.
  let parsedSource: string | undefined;
  let parsedIp = -1;
  const ipOf = (source: string): number => {
    if (source !== parsedSource) {
      parsedIp = ipv4ToNumber(source);
      parsedSource = source;
    }
    return parsedIp;
  };

  const findV4 = (ip: number): number => {
    const key = ip | 0;
    for (let i = hash(ip); ; i = (i + 1) & mask) {
      const e = index[2 * i]!;
      if (e === 0) return NONE;
      if (index[2 * i + 1] === key) return e - 1;
    }
  };

  const find6 = (k0: number, k1: number): number => {
    for (let i = k0 & mask; ; i = (i + 1) & mask) {
      const e = index6[3 * i]!;
      if (e === 0) return NONE;
      if (index6[3 * i + 1] === k0 && index6[3 * i + 2] === k1) return e - 1;
    }
  };

  /** Removes `slot`'s IPv6 index entry, looked for from the home of `k0`, its key's first int. */
  const remove6 = (k0: number, slot: number): void => {
    let i = k0 & mask;
    while (index6[3 * i] !== slot + 1) i = (i + 1) & mask;
    let hole = i;
    for (let j = (i + 1) & mask; index6[3 * j] !== 0; j = (j + 1) & mask) {
      const home = index6[3 * j + 1]! & mask;
      const between =
        hole <= j ? home > hole && home <= j : home > hole || home <= j;
      if (!between) {
        index6[3 * hole] = index6[3 * j]!;
        index6[3 * hole + 1] = index6[3 * j + 1]!;
        index6[3 * hole + 2] = index6[3 * j + 2]!;
        hole = j;
      }
    }
    index6[3 * hole] = 0;
  };

  /** Removes `slot`'s index entry, looked for from `ip`'s place; false when it has none (IPv6). */
  const removeV4 = (ip: number, slot: number): boolean => {
    let i = hash(ip >>> 0);
    while (index[2 * i] !== 0 && index[2 * i] !== slot + 1) i = (i + 1) & mask;
    if (index[2 * i] === 0) return false;
    // Backward-shift deletion keeps linear probing correct without tombstones.
    let hole = i;
    for (let j = (i + 1) & mask; index[2 * j] !== 0; j = (j + 1) & mask) {
      const home = hash(index[2 * j + 1]! >>> 0);
      const between =
        hole <= j ? home > hole && home <= j : home > hole || home <= j;
      if (!between) {
        index[2 * hole] = index[2 * j]!;
        index[2 * hole + 1] = index[2 * j + 1]!;
        hole = j;
      }
    }
    index[2 * hole] = 0;
    return true;
  };

  const unlink = (slot: number): void => {
    const o = meta[slot * META_INTS + OLDER]!;
    const n = meta[slot * META_INTS + NEWER]!;
    if (o !== NONE) meta[o * META_INTS + NEWER] = n;
    else head = n;
    if (n !== NONE) meta[n * META_INTS + OLDER] = o;
    else tail = o;
  };
  const append = (slot: number): void => {
    meta[slot * META_INTS + OLDER] = tail;
    meta[slot * META_INTS + NEWER] = NONE;
    if (tail !== NONE) meta[tail * META_INTS + NEWER] = slot;
    else head = slot;
    tail = slot;
  };
  let evicted = false;

  // `key`: an IPv6 source's (`find` has just hashed the same source: the hasher's array).
  const insertKey = (ip: number, key: Int32Array | undefined): number => {
    evicted = false;
    let slot: number;
    if (free.length > 0) {
      slot = free.pop()!;
    } else if (used < capacity) {
      slot = used++;
    } else {
      slot = head;
      table.remove(slot);
      free.pop();
      evicted = true;
    }
    if (key === undefined) {
      meta[slot * META_INTS + IP] = ip | 0;
      let i = hash(ip);
      while (index[2 * i] !== 0) i = (i + 1) & mask;
      index[2 * i] = slot + 1;
      index[2 * i + 1] = ip | 0;
    } else {
      const k0 = key[0]!;
      meta[slot * META_INTS + IP] = k0;
      let i = k0 & mask;
      while (index6[3 * i] !== 0) i = (i + 1) & mask;
      index6[3 * i] = slot + 1;
      index6[3 * i + 1] = k0;
      index6[3 * i + 2] = key[1]!;
    }
    const m = slot * META_INTS;
    meta[m + HEAD] = 0;
    meta[m + COUNT] = 0;
    meta[m + FRESH] = 0;
    append(slot);
    size++;
    return slot;
  };

  const table: SourceTable = {
    find(source: string): number {
      const ip = ipOf(source);
      if (ip >= 0) return findV4(ip);
      const key = hasher.hash(source);
      return find6(key[0]!, key[1]!);
    },
    findV4,
    findV6(words: Int32Array): number {
      const key = hasher.hashWords(words);
      return find6(key[0]!, key[1]!);
    },
    insert(source: string): number {
      const ip = ipOf(source);
      return insertKey(ip, ip >= 0 ? undefined : hasher.hash(source));
    },
    insertV4(ip: number): number {
      return insertKey(ip, undefined);
    },
    insertV6(words: Int32Array): number {
      return insertKey(-1, hasher.hashWords(words));
    },
    get evicted(): boolean {
      return evicted;
    },
    remove(slot: number): void {
      // The address is in the slot's own record: evicting reads no other array for it.
      const k = meta[slot * META_INTS + IP]!;
      if (!removeV4(k, slot)) remove6(k, slot);
      unlink(slot);
      free.push(slot);
      size--;
    },
    touch(slot: number): void {
      if (slot === tail) return;
      unlink(slot);
      append(slot);
    },
    oldest: (): number => head,
    get size(): number {
      return size;
    },
    windows,
    meta,
    times,
  };
  return table;
}
