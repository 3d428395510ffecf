/**
 * Strict IP address text, parsed and formatted: the one implementation every package uses. Pure;
 * no `node:net`. IPv4 is a strict dotted quad: four decimal parts 0–255 without leading zeros
 * (`010.0.0.1` is refused: `inet_aton` would read it as octal). IPv6 is RFC 4291 text (eight
 * groups of 1–4 hex digits, at most one `::`, an optional final dotted quad), without a zone
 * (`%eth0`), brackets, prefix length or whitespace. Formatting gives RFC 5952 text, so the
 * kernel's `0000:…:0001`, a packet's bytes and a sealed knock's CLIENT all name `::1` alike.
 */

/** Longest IPv6 text: eight groups with an embedded dotted quad. */
const MAX_IPV6_TEXT = 45;

/**
 * The 32-bit value (0 to 2^32 - 1) of the strict dotted quad `text[start, end)`, or -1 when it is
 * not exactly one. Allocates nothing: the per-hit path uses it.
 */
export function ipv4ToNumber(
  text: string,
  start = 0,
  end: number = text.length,
): number {
  let value = 0;
  let parts = 0;
  let digits = 0;
  let octet = 0;
  let first = 0;
  for (let i = start; i <= end; i++) {
    const c = i < end ? text.charCodeAt(i) : 46; // a virtual final "."
    if (c === 46) {
      if (digits === 0 || octet > 255 || (digits > 1 && first === 48)) {
        return -1;
      }
      value = value * 256 + octet;
      parts++;
      digits = 0;
      octet = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits === 0) first = c;
      if (++digits > 3) return -1;
      octet = octet * 10 + (c - 48);
    } else {
      return -1;
    }
  }
  return parts === 4 ? value : -1;
}

/** Whether `text` is a strict dotted quad (`192.0.2.1`). */
export function isIpv4(text: string): boolean {
  return ipv4ToNumber(text) >= 0;
}

/** Whether `text` is a strict IPv6 address (see the module rules). */
export function isIpv6(text: string): boolean {
  return ipv6Words(text) !== undefined;
}

/** Whether `text` is a strict IPv4 or IPv6 address. */
export function isIpAddress(text: string): boolean {
  return isIpv4(text) || isIpv6(text);
}

/** The 4 bytes of a strict dotted quad; undefined when `text` is not exactly one. */
export function parseIpv4(text: string): Uint8Array | undefined {
  const n = ipv4ToNumber(text);
  if (n < 0) return undefined;
  return new Uint8Array([
    n >>> 24,
    (n >>> 16) & 0xff,
    (n >>> 8) & 0xff,
    n & 0xff,
  ]);
}

/** The 16 bytes of strict IPv6 text; undefined when `text` is not exactly an IPv6 address. */
export function parseIpv6(text: string): Uint8Array | undefined {
  const words = ipv6Words(text);
  if (words === undefined) return undefined;
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    const w = words[i] ?? 0;
    out[2 * i] = w >>> 8;
    out[2 * i + 1] = w & 0xff;
  }
  return out;
}

/** The bytes (4 or 16) of an IPv4 or IPv6 address; undefined when it is neither. */
export function parseIp(text: string): Uint8Array | undefined {
  return text.includes(":") ? parseIpv6(text) : parseIpv4(text);
}

/** The dotted quad of the 4 bytes at `offset` (bytes past the end read as 0). */
export function formatIpv4(bytes: Uint8Array, offset = 0): string {
  return `${bytes[offset] ?? 0}.${bytes[offset + 1] ?? 0}.${bytes[offset + 2] ?? 0}.${bytes[offset + 3] ?? 0}`;
}

/** The dotted quad of a 32-bit value (its low 32 bits; a negative int32 reads as unsigned). */
export function formatIpv4Number(value: number): string {
  const n = value >>> 0;
  return `${n >>> 24}.${(n >>> 16) & 0xff}.${(n >>> 8) & 0xff}.${n & 0xff}`;
}

/**
 * The RFC 5952 text of the 16 bytes at `offset` (bytes past the end read as 0): lower-case hex
 * without leading zeros, the longest run of two or more zero groups (the first of equal runs)
 * written `::`, and IPv4-mapped addresses as `::ffff:a.b.c.d` (the form `inet_ntop` gives).
 */
export function formatIpv6(bytes: Uint8Array, offset = 0): string {
  const w = new Array<number>(8);
  for (let i = 0; i < 8; i++) {
    w[i] =
      ((bytes[offset + 2 * i] ?? 0) << 8) | (bytes[offset + 2 * i + 1] ?? 0);
  }
  return formatWords(w);
}

/**
 * The address in `text` in normal form: a dotted quad unchanged (the same string, no
 * allocation), IPv6 in RFC 5952 form. Undefined when `text` is neither. Never throws.
 */
export function normalizeIp(text: string): string | undefined {
  if (ipv4ToNumber(text) >= 0) return text;
  if (text.indexOf(":") < 0) return undefined;
  const words = ipv6Words(text);
  return words === undefined ? undefined : formatWords(words);
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

const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

/** Words of `a:b:c` (each 1–4 hex digits); the last group may be a dotted quad if `quadOk`. */
function groupWords(part: string, quadOk: boolean): number[] | undefined {
  if (part === "") return [];
  const words: number[] = [];
  const groups = part.split(":");
  for (let i = 0; i < groups.length; i++) {
    const g = groups[i] ?? "";
    if (quadOk && i === groups.length - 1 && g.includes(".")) {
      const n = ipv4ToNumber(g);
      if (n < 0) return undefined;
      words.push(n >>> 16, n & 0xffff);
    } else if (HEX_GROUP.test(g)) {
      words.push(parseInt(g, 16));
    } else {
      return undefined;
    }
  }
  return words;
}

/** RFC 5952 text of 8 words. */
function formatWords(w: readonly number[]): string {
  const at = (i: number): number => w[i] ?? 0;
  if (
    at(0) === 0 &&
    at(1) === 0 &&
    at(2) === 0 &&
    at(3) === 0 &&
    at(4) === 0 &&
    at(5) === 0xffff
  ) {
    return `::ffff:${at(6) >> 8}.${at(6) & 0xff}.${at(7) >> 8}.${at(7) & 0xff}`;
  }
  let best = -1;
  let bestLen = 1; // RFC 5952 §4.2.2: a single zero group is not shortened
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
