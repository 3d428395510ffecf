/**
 * Sets of characters for the regex safety check: the 128 ASCII characters one by one, and every
 * other character as one symbol (`OTHER`), which is exact enough for FIRST-set overlap tests
 * (a conservative over-approximation for non-ASCII text).
 */

/** A set of characters: 4 words of ASCII bits and one word for "any non-ASCII". */
export type CharSet = Uint32Array;

/** The symbol standing for every character above U+007F. */
export const OTHER = 128;

/** An empty set. */
export function emptySet(): CharSet {
  return new Uint32Array(5);
}

/** Adds `code` (a UTF-16 unit; anything above 127 is `OTHER`) to `set`. */
export function addChar(set: CharSet, code: number): void {
  const c = code > 127 ? OTHER : code;
  set[c >> 5] = (set[c >> 5] ?? 0) | (1 << (c & 31));
}

/** Adds the inclusive range `from`–`to` to `set`. */
export function addRange(set: CharSet, from: number, to: number): void {
  for (let c = from; c <= Math.min(to, 127); c++) addChar(set, c);
  if (to > 127) addChar(set, OTHER);
}

/** `a ∪= b`. */
export function unionInto(a: CharSet, b: CharSet): void {
  for (let i = 0; i < 5; i++) a[i] = (a[i] ?? 0) | (b[i] ?? 0);
}

/**
 * The complement of `set` within ASCII; `OTHER` is always in it, because `OTHER` in `set` may
 * stand for only some non-ASCII characters (an over-approximation, safe for overlap tests).
 */
export function complement(set: CharSet): CharSet {
  const out = emptySet();
  for (let i = 0; i < 4; i++) out[i] = ~(set[i] ?? 0) >>> 0;
  out[4] = 1;
  return out;
}

/** Whether `a` and `b` share a character. */
export function overlaps(a: CharSet, b: CharSet): boolean {
  for (let i = 0; i < 5; i++)
    if (((a[i] ?? 0) & (b[i] ?? 0)) !== 0) return true;
  return false;
}

/** Character class escapes (`\d \w \s` and their negations) as sets, `undefined` for others. */
export function classEscape(letter: string): CharSet | undefined {
  const set = emptySet();
  switch (letter.toLowerCase()) {
    case "d":
      addRange(set, 48, 57);
      break;
    case "w":
      addRange(set, 48, 57);
      addRange(set, 65, 90);
      addRange(set, 97, 122);
      addChar(set, 95);
      break;
    case "s":
      addRange(set, 9, 13);
      addChar(set, 32);
      addChar(set, OTHER); // U+00A0, U+2028, U+FEFF, …
      break;
    default:
      return undefined;
  }
  return letter === letter.toUpperCase() ? complement(set) : set;
}

/** Every character but the line terminators (what `.` matches without the `s` flag). */
export function dotSet(): CharSet {
  const set = emptySet();
  addRange(set, 0, 0xffff);
  set[0] = (set[0] ?? 0) & ~((1 << 10) | (1 << 13));
  return set;
}
