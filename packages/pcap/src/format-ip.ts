/**
 * IP address text from packet bytes: IPv4 as a dotted quad, IPv6 in RFC 5952 form (lower-case
 * hex, no leading zeros, the longest run of two or more zero words as `::`, IPv4-mapped addresses
 * as `::ffff:a.b.c.d`): the same text `normalizeIp` of `@portknock/logsource` gives, so hits of
 * both modes name a source alike. `cap`'s own IPv6 strings are not standard (16 one-byte groups),
 * so we never use them. Pure; never throws (bytes past the end read as 0).
 */

/** The dotted quad of the 4 bytes at `offset`. */
export function formatIpv4(bytes: Uint8Array, offset: number): string {
  return `${bytes[offset] ?? 0}.${bytes[offset + 1] ?? 0}.${bytes[offset + 2] ?? 0}.${bytes[offset + 3] ?? 0}`;
}

/** The RFC 5952 text of the 16 bytes at `offset`. */
export function formatIpv6(bytes: Uint8Array, offset: number): string {
  const w = new Array<number>(8);
  for (let i = 0; i < 8; i++) {
    w[i] =
      ((bytes[offset + 2 * i] ?? 0) << 8) | (bytes[offset + 2 * i + 1] ?? 0);
  }
  const at = (i: number): number => w[i] ?? 0;
  if (
    at(0) === 0 &&
    at(1) === 0 &&
    at(2) === 0 &&
    at(3) === 0 &&
    at(4) === 0 &&
    at(5) === 0xffff
  ) {
    return `::ffff:${formatIpv4(bytes, offset + 12)}`;
  }
  // The longest run of zero words (the first of equal runs), if at least two long.
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (at(i) !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && at(j) === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (from: number, to: number): string => {
    let s = "";
    for (let i = from; i < to; i++) {
      s += (i > from ? ":" : "") + at(i).toString(16);
    }
    return s;
  };
  if (best < 0) return hex(0, 8);
  return `${hex(0, best)}::${hex(best + bestLen, 8)}`;
}
