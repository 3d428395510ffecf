/**
 * The keys of sources that are not IPv4 (IPv6), in both segments of the knock queues (issue
 * #20): a seeded 63-bit hash of the address's 16 bytes (of the text for a source that is no IP
 * address) as two ints, the same for its text (`hash`) and its four words (`hashWords`, the
 * allocation-free capture lane), so that a flood of IPv6 sources costs no
 * string per source, neither in probation nor in the protected segment. Two sources share a key
 * only on a hash collision, about 2^-63 per pair; the seeds are random per hasher, so sources
 * cannot be crafted to collide (and a source that shared a queue could do no more than one that
 * spoofed the other's address).
 */

import { parseIpv6 } from "@portknock/core";

const groups = new Int32Array(8);

/** The value of hex digit `c` (a char code), or -1. */
function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  c |= 0x20; // lower case
  return c >= 97 && c <= 102 ? c - 87 : -1;
}

/**
 * Writes the four words of IPv6 text into `out` and returns true; false when `text` is not IPv6.
 * Groups of hex digits with at most one `::` are read here without allocating; anything else
 * (an embedded dotted quad, say) is left to core's `parseIpv6`, so that both accept the same
 * texts with the same words (a property test holds it).
 */
export function ipv6TextWords(text: string, out: Int32Array): boolean {
  if (!readGroups(text)) {
    const bytes = parseIpv6(text);
    if (bytes === undefined) return false;
    for (let i = 0; i < 8; i++)
      groups[i] = (bytes[2 * i]! << 8) | bytes[2 * i + 1]!;
  }
  for (let i = 0; i < 4; i++)
    out[i] = (groups[2 * i]! << 16) | groups[2 * i + 1]!;
  return true;
}

/** `text`'s eight groups into `groups`, for hex groups and `::` only; else false. */
function readGroups(text: string): boolean {
  const n = text.length;
  if (n < 2 || n > 39) return false;
  let count = 0;
  let gap = -1;
  let i = 0;
  if (text.charCodeAt(0) === 58) {
    if (text.charCodeAt(1) !== 58) return false;
    gap = 0;
    i = 2;
  }
  while (i < n) {
    let v = 0;
    let digits = 0;
    for (
      let h = hexDigit(text.charCodeAt(i));
      h >= 0;
      h = hexDigit(text.charCodeAt(i))
    ) {
      v = (v << 4) | h;
      if (++digits > 4) return false;
      if (++i === n) break;
    }
    if (digits === 0 || count === 8) return false;
    groups[count++] = v;
    if (i === n) break;
    if (text.charCodeAt(i) !== 58) return false; // a dotted quad, or not IPv6
    if (++i === n) return false; // a trailing single colon
    if (text.charCodeAt(i) === 58) {
      if (gap >= 0) return false;
      gap = count;
      i++;
    }
  }
  if (gap < 0) return count === 8;
  const fill = 8 - count;
  if (fill < 1) return false;
  for (let k = count - 1; k >= gap; k--) groups[k + fill] = groups[k]!;
  for (let k = gap; k < gap + fill; k++) groups[k] = 0;
  return true;
}

/** Hashes source texts; see `createSourceHasher`. */
export interface SourceHasher {
  /**
   * The key of `source`: `[0]` any int, `[1]` odd. IPv6 text is keyed by its address (as
   * `hashWords`: `2001:db8::1` and `2001:DB8:0::1` share a key), other text by its characters.
   * The same array every call, overwritten by the next; hashing the last text again costs
   * nothing.
   */
  hash(source: string): Int32Array;
  /**
   * The key of the IPv6 address whose four 32-bit words (big-endian, any int form) are
   * `words[0..3]`: the same as `hash` of its text. The same array as `hash` returns.
   */
  hashWords(words: Int32Array): Int32Array;
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
  const parsed = new Int32Array(4);
  let hashed: string | undefined;
  const hashWords = (w: Int32Array): Int32Array => {
    let a = seedA;
    let b = seedB;
    for (let i = 0; i < 4; i++) {
      const c = w[i]!;
      a = mix(Math.imul(a ^ c, 0x01000193));
      b = Math.imul(b ^ c, 0x5bd1e995) ^ (b >>> 15);
    }
    // 16: the length of an address's bytes, which no text key has (they are hashed per char).
    key[0] = mix(a ^ 16);
    key[1] = mix(b ^ 0x2f6b1d3) | 1;
    hashed = undefined;
    return key;
  };
  return {
    hashWords,
    hash(source: string): Int32Array {
      if (source === hashed) return key;
      if (source.includes(":") && ipv6TextWords(source, parsed)) {
        hashWords(parsed);
        hashed = source;
        return key;
      }
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
