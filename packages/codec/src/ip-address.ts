/**
 * IPv6 address text for the sealed profile's CLIENT field (spec: sealed.md "Plaintext"). Parsing is
 * strict RFC 4291 text; formatting is the RFC 5952 canonical form, the same normalisation the log
 * and packet sources apply to source addresses, so a decoded CLIENT compares equal to them as text.
 */

/** Whether `text` is a group of 1–4 hex digits. */
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;
const DOTTED_QUAD =
  /^(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})$/;

/** The 16-bit words of `a:b:c` (a last dotted quad counts as two words when `quadOk`). */
function groupWords(part: string, quadOk: boolean): number[] | undefined {
  if (part === "") return [];
  const words: number[] = [];
  const groups = part.split(":");
  for (let i = 0; i < groups.length; i++) {
    const g = groups[i]!;
    if (quadOk && i === groups.length - 1 && g.includes(".")) {
      const m = DOTTED_QUAD.exec(g);
      if (m == null) return undefined;
      const o = [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4])];
      if (o.some((x) => x > 255)) return undefined;
      words.push((o[0]! << 8) | o[1]!, (o[2]! << 8) | o[3]!);
    } else if (HEX_GROUP.test(g)) {
      words.push(parseInt(g, 16));
    } else {
      return undefined;
    }
  }
  return words;
}

/**
 * Parses IPv6 address text (RFC 4291 §2.2: eight groups of 1–4 hex digits, at most one `::`, an
 * optional final dotted quad) into its 16 bytes. No zone (`%eth0`), brackets, prefix length or
 * whitespace. Returns undefined when the text is not exactly an IPv6 address.
 */
export function parseIPv6(text: string): Uint8Array | undefined {
  if (text.length < 2 || text.length > 45) return undefined;
  const gap = text.indexOf("::");
  if (gap >= 0 && text.indexOf("::", gap + 1) >= 0) return undefined;
  let words: number[] | undefined;
  if (gap < 0) {
    words = groupWords(text, true);
    if (words?.length !== 8) return undefined;
  } else {
    const head = groupWords(text.slice(0, gap), false);
    const tail = groupWords(text.slice(gap + 2), true);
    if (head == null || tail == null) return undefined;
    const fill = 8 - head.length - tail.length;
    if (fill < 1) return undefined;
    words = [...head, ...new Array<number>(fill).fill(0), ...tail];
  }
  const out = new Uint8Array(16);
  words.forEach((w, i) => {
    out[2 * i] = w >>> 8;
    out[2 * i + 1] = w & 0xff;
  });
  return out;
}

/**
 * Formats the 16 bytes `bytes[offset … offset+16)` as RFC 5952 text: lower-case hex without
 * leading zeros, the longest run of two or more zero groups (the first of equal runs) written
 * `::`, and IPv4-mapped addresses as `::ffff:a.b.c.d`.
 */
export function formatIPv6(bytes: Uint8Array, offset = 0): string {
  const w: number[] = [];
  for (let i = 0; i < 8; i++) {
    w.push((bytes[offset + 2 * i]! << 8) | bytes[offset + 2 * i + 1]!);
  }
  if (w.slice(0, 5).every((x) => x === 0) && w[5] === 0xffff) {
    const b = offset + 12;
    return `::ffff:${bytes[b]}.${bytes[b + 1]}.${bytes[b + 2]}.${bytes[b + 3]}`;
  }
  let bestStart = -1;
  let bestLength = 1; // RFC 5952 §4.2.2: a single zero group is not shortened
  for (let i = 0; i < 8;) {
    if (w[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = (ws: number[]): string => ws.map((x) => x.toString(16)).join(":");
  if (bestStart < 0) return hex(w);
  return `${hex(w.slice(0, bestStart))}::${hex(w.slice(bestStart + bestLength))}`;
}
