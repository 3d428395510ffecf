/**
 * A hash table from a pair of 32-bit keys (an IPv4 address, and source port << 16 |
 * destination port, both as int32 bit patterns so V8 never boxes them) to a time: the
 * retransmit filter's hot path. Pure. Open addressing in one
 * typed array, so a lookup touches one 12-byte record, allocates nothing and holds no pointer
 * for the garbage collector to trace; `Map` with a string key per hit was ~1 µs per insert at
 * 300,000 sources. The hash is seeded per table so crafted sources cannot pile up in one
 * probe chain.
 */

const MIN_SLOTS = 16384;

/** A growable table (load factor ≤ 1/2). */
export interface HitTable {
  /** The time stored for the key, or undefined. */
  get(a: number, b: number): number | undefined;
  /**
   * Stores the time of the key and returns the one it replaces (undefined if new): one probe.
   * Times are whole ms, not before the first one stored (earlier ones are stored as that one).
   */
  swap(a: number, b: number, timeMs: number): number | undefined;
  /** Keys stored. */
  readonly size: number;
}

/** Creates an empty table with room for about `expected` keys before it grows. */
export function createHitTable(expected = 0): HitTable {
  let slots = MIN_SLOTS;
  while (slots < expected * 2) slots *= 2;
  let mask = slots - 1;
  // Per slot: [a, b, time − base + 1] as 32-bit integers (12 bytes: fewer cache and TLB misses
  // than doubles); a 0 time marks a free slot.
  let ints = new Int32Array(slots * 3);
  let size = 0;
  let base = NaN; // the first time stored: times are kept relative to it
  const seed = (Math.random() * 0x100000000) | 0;

  const find = (a: number, b: number): number => {
    let h = Math.imul(a ^ seed, 0x85ebca6b) ^ b;
    h = Math.imul(h ^ (h >>> 15), 0xc2b2ae35);
    for (let i = (h ^ (h >>> 13)) & mask; ; i = (i + 1) & mask) {
      const k = i * 3;
      if (ints[k + 2] === 0) return ~i;
      if (ints[k] === a && ints[k + 1] === b) return i;
    }
  };

  const grow = (): void => {
    const old = ints;
    slots *= 2;
    mask = slots - 1;
    ints = new Int32Array(slots * 3);
    for (let k = 0; k < old.length; k += 3) {
      const t = old[k + 2] ?? 0;
      if (t === 0) continue;
      const a = old[k] ?? 0;
      const b = old[k + 1] ?? 0;
      const j = ~find(a, b) * 3;
      ints[j] = a;
      ints[j + 1] = b;
      ints[j + 2] = t;
    }
  };

  return {
    get(a: number, b: number): number | undefined {
      const i = find(a | 0, b | 0);
      return i < 0 ? undefined : base + (ints[i * 3 + 2] ?? 1) - 1;
    },
    swap(a: number, b: number, timeMs: number): number | undefined {
      const ka = a | 0;
      const kb = b | 0;
      let i = find(ka, kb);
      if (base !== base) base = timeMs; // NaN: first entry
      const old = i < 0 ? undefined : base + (ints[i * 3 + 2] ?? 1) - 1;
      if (i < 0) {
        if ((size + 1) * 2 > slots) {
          grow();
          i = find(ka, kb);
        }
        i = ~i;
        ints[i * 3] = ka;
        ints[i * 3 + 1] = kb;
        size++;
      }
      // Clamped into 1…2^31−1 ms after `base` (24 days; a generation lives seconds).
      ints[i * 3 + 2] = Math.min(Math.max(timeMs - base, 0), 0x7ffffffe) + 1;
      return old;
    },
    get size(): number {
      return size;
    },
  };
}
