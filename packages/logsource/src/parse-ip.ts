/**
 * IP address text from log lines, checked and normalised. Pure, allocation-free for IPv4.
 * IPv4 is a strict dotted quad (no leading zeros: `010.0.0.1` would be octal to `inet_aton`).
 * IPv6 is RFC 4291 text (full, `::`-compressed, or ending in a dotted quad; no zone), normalised to
 * the RFC 5952 form so that the kernel's `0000:0000:…:0001` and `::1` are one source.
 */

const MAX_IPV6_TEXT = 45;

/** Whether `text[start, end)` is a strict dotted quad. */
function isIpv4Range(text: string, start: number, end: number): boolean {
  let parts = 0;
  let digits = 0;
  let value = 0;
  let first = 0;
  for (let i = start; i <= end; i++) {
    const c = i < end ? text.charCodeAt(i) : 46; // a virtual final "."
    if (c === 46) {
      if (digits === 0 || value > 255 || (digits > 1 && first === 48)) {
        return false;
      }
      parts++;
      digits = 0;
      value = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits === 0) first = c;
      if (++digits > 3) return false;
      value = value * 10 + (c - 48);
    } else {
      return false;
    }
  }
  return parts === 4;
}

/** Whether `text` is a strict dotted quad (`192.0.2.1`). */
export function isIpv4(text: string): boolean {
  return isIpv4Range(text, 0, text.length);
}

/** The 8 16-bit words of IPv6 text, or undefined when it is not IPv6. */
function ipv6Words(text: string): number[] | undefined {
  if (text.length < 2 || text.length > MAX_IPV6_TEXT) return undefined;
  const gap = text.indexOf("::");
  if (gap >= 0 && text.indexOf("::", gap + 1) >= 0) return undefined;
  const head = gap < 0 ? text : text.slice(0, gap);
  const tail = gap < 0 ? "" : text.slice(gap + 2);
  const headWords = groupWords(head, gap < 0); // a dotted quad only ends an address
  const tailWords = groupWords(tail, true);
  if (headWords == null || tailWords == null) return undefined;
  if (gap < 0) return headWords.length === 8 ? headWords : undefined;
  const fill = 8 - headWords.length - tailWords.length;
  if (fill < 1) return undefined;
  return [...headWords, ...new Array<number>(fill).fill(0), ...tailWords];
}

/** Words of `a:b:c` (each 1–4 hex digits); the last group may be a dotted quad if `quadOk`. */
function groupWords(part: string, quadOk: boolean): number[] | undefined {
  if (part === "") return [];
  const words: number[] = [];
  const groups = part.split(":");
  for (let i = 0; i < groups.length; i++) {
    const g = groups[i] ?? "";
    if (quadOk && i === groups.length - 1 && g.includes(".")) {
      if (!isIpv4(g)) return undefined;
      const [a = 0, b = 0, c = 0, d = 0] = g.split(".").map(Number);
      words.push((a << 8) | b, (c << 8) | d);
    } else if (/^[0-9a-fA-F]{1,4}$/.test(g)) {
      words.push(parseInt(g, 16));
    } else {
      return undefined;
    }
  }
  return words;
}

/**
 * RFC 5952 text of 8 words: lower-case hex without leading zeros, the longest run of two or more
 * zero words (the first of equal runs) as `::`; IPv4-mapped addresses as `::ffff:a.b.c.d`.
 */
function formatIpv6(w: readonly number[]): string {
  const at = (i: number): number => w[i] ?? 0;
  // The form inet_ntop (and so Node's socket addresses) gives IPv4-mapped addresses.
  if (w.slice(0, 5).every((x) => x === 0) && at(5) === 0xffff) {
    return `::ffff:${at(6) >> 8}.${at(6) & 0xff}.${at(7) >> 8}.${at(7) & 0xff}`;
  }
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
  const hex = (from: number, to: number): string =>
    w
      .slice(from, to)
      .map((x) => x.toString(16))
      .join(":");
  if (best < 0) return hex(0, 8);
  return `${hex(0, best)}::${hex(best + bestLen, 8)}`;
}

/**
 * The address in `text` in normal form: an IPv4 dotted quad unchanged (the same string), IPv6 in
 * RFC 5952 form. Undefined when `text` is neither (so the caller counts `LOG_BAD_IP`). Never
 * throws.
 */
export function normalizeIp(text: string): string | undefined {
  if (isIpv4Range(text, 0, text.length)) return text;
  if (text.indexOf(":") < 0) return undefined;
  const words = ipv6Words(text);
  return words === undefined ? undefined : formatIpv6(words);
}
