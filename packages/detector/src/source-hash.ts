/**
 * The keys of sources that are not IPv4 (IPv6 text), in both segments of the knock queues (issue
 * #20): a seeded 63-bit hash of the text as two ints, so that a flood of IPv6 sources costs no
 * string per source, neither in probation nor in the protected segment. Two sources share a key
 * only on a hash collision, about 2^-63 per pair; the seeds are random per hasher, so sources
 * cannot be crafted to collide (and a source that shared a queue could do no more than one that
 * spoofed the other's address).
 */

/** Hashes source texts; see `createSourceHasher`. */
export interface SourceHasher {
  /**
   * The key of `source`: `[0]` any int, `[1]` odd. The same array every call, overwritten by the
   * next; hashing the last text again costs nothing.
   */
  hash(source: string): Int32Array;
}

const mix = (h: number): number => {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
};

/** Creates a hasher with random seeds (or `seedA`, `seedB`, for tests). */
export function createSourceHasher(
  seedA: number = (Math.random() * 0x100000000) | 0,
  seedB: number = (Math.random() * 0x100000000) | 0,
): SourceHasher {
  const key = new Int32Array(2);
  let hashed: string | undefined;
  return {
    hash(source: string): Int32Array {
      if (source === hashed) return key;
      let a = seedA;
      let b = seedB;
      for (let i = 0; i < source.length; i++) {
        const c = source.charCodeAt(i);
        a = Math.imul(a ^ c, 0x01000193);
        b = Math.imul(b ^ c, 0x5bd1e995) ^ (b >>> 15);
      }
      key[0] = mix(a ^ source.length);
      key[1] = mix(b) | 1;
      hashed = source;
      return key;
    },
  };
}
