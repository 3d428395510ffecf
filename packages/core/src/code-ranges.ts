/**
 * Sets of UTF-16 code units as sorted inclusive ranges, for `translateRegex`: JavaScript's
 * character classes written out exactly, and closed under JavaScript's case-insensitive
 * matching (the `i` flag without `u`). Pure.
 */

/** Sorted, disjoint, non-adjacent inclusive ranges `[lo, hi]`. */
export type CodeRanges = [number, number][];

/** `ranges` sorted and merged (touching ranges joined). */
export function normalizeRanges(ranges: CodeRanges): CodeRanges {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const out: CodeRanges = [];
  for (const [lo, hi] of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && lo <= last[1] + 1)
      last[1] = Math.max(last[1], hi);
    else out.push([lo, hi]);
  }
  return out;
}

/** The code units 0–0xFFFF not in `ranges` (normalized). */
export function complementRanges(ranges: CodeRanges): CodeRanges {
  const out: CodeRanges = [];
  let next = 0;
  for (const [lo, hi] of normalizeRanges(ranges)) {
    if (lo > next) out.push([next, lo - 1]);
    next = hi + 1;
  }
  if (next <= 0xffff) out.push([next, 0xffff]);
  return out;
}

function hasCode(ranges: CodeRanges, code: number): boolean {
  let lo = 0;
  let hi = ranges.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const r = ranges[mid]!;
    if (code < r[0]) hi = mid - 1;
    else if (code > r[1]) lo = mid + 1;
    else return true;
  }
  return false;
}

/** JavaScript's `\d`, `\w` and `\s` (ECMA-262 WhiteSpace and LineTerminator), by letter. */
export const CLASS_ESCAPES: Readonly<Record<"d" | "w" | "s", CodeRanges>> = {
  d: [[0x30, 0x39]],
  w: [
    [0x30, 0x39],
    [0x41, 0x5a],
    [0x5f, 0x5f],
    [0x61, 0x7a],
  ],
  s: [
    [0x09, 0x0d],
    [0x20, 0x20],
    [0xa0, 0xa0],
    [0x1680, 0x1680],
    [0x2000, 0x200a],
    [0x2028, 0x2029],
    [0x202f, 0x202f],
    [0x205f, 0x205f],
    [0x3000, 0x3000],
    [0xfeff, 0xfeff],
  ],
};

/** What `.` matches without the `s` flag: all but `\n`, `\r`, U+2028 and U+2029. */
export const DOT_RANGES: CodeRanges = complementRanges([
  [0x0a, 0x0a],
  [0x0d, 0x0d],
  [0x2028, 0x2029],
]);

/**
 * ECMA-262 Canonicalize for a pattern without the `u` flag: the upper case of `code` when it is
 * one code unit, except that a non-ASCII unit never maps into ASCII.
 */
function canonicalize(code: number): number {
  const upper = String.fromCharCode(code).toUpperCase();
  if (upper.length !== 1) return code;
  const c = upper.charCodeAt(0);
  return code >= 128 && c < 128 ? code : c;
}

// The code units that share their canonical form with another one, grouped: built once, on the
// first case-insensitive regex (65,536 `toUpperCase` calls, a few milliseconds).
let caseGroups: number[][] | undefined;

function buildCaseGroups(): number[][] {
  const byCanon = new Map<number, number[]>();
  for (let code = 0; code <= 0xffff; code++) {
    const canon = canonicalize(code);
    const group = byCanon.get(canon);
    if (group === undefined) byCanon.set(canon, [code]);
    else group.push(code);
  }
  return [...byCanon.values()].filter((g) => g.length > 1);
}

/**
 * `ranges` plus every code unit that a case-insensitive JavaScript regex (no `u` flag) takes for
 * one of them: `x` matches a class under `i` when some member has x's canonical form.
 */
export function caseClose(ranges: CodeRanges): CodeRanges {
  caseGroups ??= buildCaseGroups();
  const set = normalizeRanges(ranges);
  const extra: CodeRanges = [];
  for (const group of caseGroups) {
    if (group.some((c) => hasCode(set, c))) {
      for (const c of group) extra.push([c, c]);
    }
  }
  return extra.length === 0 ? set : normalizeRanges([...set, ...extra]);
}
