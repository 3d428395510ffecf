/**
 * A JavaScript regex (no `u` flag, with Annex B's leniency) rewritten for a linear-time engine
 * of RE2's syntax (re2js), with the same meaning: every character, escape and class is written
 * out as the exact set of code units JavaScript matches (`\s` with U+00A0 and U+FEFF, `.`
 * without U+2028), case-insensitivity (`i`) is applied here with JavaScript's own case mapping,
 * and `s` is folded into `.`. Pure; it never throws and never guesses: a construct RE2 cannot
 * run in linear time (a back-reference, a lookahead or lookbehind, a count over 1000) is refused
 * by name. The source must be one `new RegExp(source, flags)` accepted.
 *
 * What stays different (documented for users): a character outside the BMP (a surrogate pair in
 * the text) is one character, as with the `u` flag; with `m`, `^` and `$` match only around
 * `\n` (compat: Perl's /m); and a group inside a repetition keeps its last iteration's text, as
 * in Perl, where JavaScript resets it on each iteration.
 */
import type { CodeRanges } from "./code-ranges.ts";
import {
  CLASS_ESCAPES,
  DOT_RANGES,
  caseClose,
  complementRanges,
  normalizeRanges,
} from "./code-ranges.ts";

/** JavaScript's flags that `translateRegex` keeps. */
export interface RegexFlags {
  ignoreCase?: boolean;
  multiline?: boolean;
  dotAll?: boolean;
}

/** Result of `translateRegex`. */
export type TranslateRegexResult =
  | {
      ok: true;
      /** The same regex in RE2 syntax (flags included as `(?m)`). */
      pattern: string;
      /** Capturing groups, numbered as in the source (named ones too). */
      groups: number;
    }
  | {
      ok: false;
      /** The construct, as a user reads it: `a back-reference \1`, `a lookahead (?=…)`. */
      construct: string;
      /** Where it starts in the source. */
      index: number;
    };

/** The largest repetition count RE2 accepts. */
export const MAX_REPEAT = 1000;

const SIMPLE_ESCAPES: Readonly<Record<string, number>> = {
  t: 9,
  n: 10,
  v: 11,
  f: 12,
  r: 13,
};

/** A piece of the RE2 text, and whether it can match the empty string. */
interface Piece {
  text: string;
  nullable: boolean;
}

// Thrown inside the translation only; `translateRegex` returns it as a result.
class Refusal extends Error {
  readonly construct: string;
  readonly index: number;
  constructor(construct: string, index: number) {
    super(construct);
    this.construct = construct;
    this.index = index;
  }
}

const isOctal = (c: string): boolean => c >= "0" && c <= "7";
const isHex = (s: string): boolean => /^[0-9a-fA-F]+$/.test(s);

/** Counts the capturing groups and says whether any is named (Annex B reads `\k` by that). */
function scanGroups(source: string): { groups: number; named: boolean } {
  let groups = 0;
  let named = false;
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === "\\") i++;
    else if (inClass) inClass = c !== "]";
    else if (c === "[") inClass = true;
    else if (c === "(") {
      if (source[i + 1] !== "?") groups++;
      else if (/^\(\?<[^=!]/.test(source.slice(i, i + 4))) {
        groups++;
        named = true;
      }
    }
  }
  return { groups, named };
}

function hex(code: number): string {
  return `\\x{${code.toString(16)}}`;
}

/**
 * A class of `ranges` (code units) in RE2 syntax. RE2 reads a surrogate pair as one code point:
 * a set with every surrogate, which JavaScript would match half by half, takes the whole
 * character above U+FFFF.
 */
function rangesClass(ranges: CodeRanges, negate: boolean): string {
  const astral = ranges.some(([lo, hi]) => lo <= 0xd800 && hi >= 0xdfff);
  const all: CodeRanges = astral ? [...ranges, [0x10000, 0x10ffff]] : ranges;
  const body = all
    .map(([lo, hi]) => (lo === hi ? hex(lo) : `${hex(lo)}-${hex(hi)}`))
    .join("");
  // RE2 has no empty class: nothing is "not anything", anything is "not nothing".
  if (body === "")
    return negate ? "[\\x{0}-\\x{10ffff}]" : "[^\\x{0}-\\x{10ffff}]";
  return `[${negate ? "^" : ""}${body}]`;
}

/**
 * Rewrites `source` (which `new RegExp(source, flags)` accepted, flags among i, m, s) in RE2
 * syntax with the same matches and capture numbering. Never throws.
 */
export function translateRegex(
  source: string,
  flags: RegexFlags = {},
): TranslateRegexResult {
  const { groups, named } = scanGroups(source);
  const ignoreCase = flags.ignoreCase === true;
  let pos = 0;
  const peek = (k = 0): string => source[pos + k] ?? "";

  /** A set of code units as RE2 text, closed under `i` when it applies. */
  const setText = (ranges: CodeRanges, negate = false): string =>
    rangesClass(
      ignoreCase ? caseClose(ranges) : normalizeRanges(ranges),
      negate,
    );

  const charText = (code: number): string => {
    if (ignoreCase) {
      const closed = caseClose([[code, code]]);
      if (closed.length > 1 || closed[0]![0] !== closed[0]![1]) {
        return rangesClass(closed, false);
      }
    }
    if (/[A-Za-z0-9]/.test(String.fromCharCode(code))) {
      return String.fromCharCode(code);
    }
    return hex(code);
  };

  function alternation(): Piece {
    const first = sequence();
    let text = first.text;
    let nullable = first.nullable;
    while (peek() === "|") {
      pos++;
      const next = sequence();
      text += `|${next.text}`;
      nullable ||= next.nullable;
    }
    return { text, nullable };
  }

  function sequence(): Piece {
    let text = "";
    let nullable = true;
    while (pos < source.length && peek() !== "|" && peek() !== ")") {
      const start = pos;
      const item = quantified(atom(), start);
      text += item.text;
      nullable &&= item.nullable;
    }
    return { text, nullable };
  }

  function quantified(a: Piece, start: number): Piece {
    const m = /^(?:[*+?]|\{(\d+)(?:(,)(\d*))?\})/.exec(source.slice(pos));
    if (m === null) return a;
    let q = m[0];
    let min = q === "+" ? 1 : 0;
    let max = q === "?" ? 1 : Infinity;
    if (q.startsWith("{")) {
      min = Number(m[1]);
      max = m[2] === undefined ? min : m[3] ? Number(m[3]) : Infinity;
      if (min > MAX_REPEAT || (max !== Infinity && max > MAX_REPEAT)) {
        throw new Refusal(`a repetition count over ${MAX_REPEAT} (${q})`, pos);
      }
      q = `{${min}${m[2] === undefined ? "" : `,${m[3] ? max : ""}`}}`;
    }
    pos += m[0].length;
    if (peek() === "?") {
      pos++;
      q += "?";
    }
    // JavaScript ends a repetition at an optional iteration that matches nothing, and RE2 does
    // not always: with an empty-matching body, the two can pick different matches.
    if (a.nullable && max > min) {
      throw new Refusal(
        `a repetition of something that can match the empty string (${source.slice(start, pos)})`,
        start,
      );
    }
    return { text: `(?:${a.text})${q}`, nullable: min === 0 || a.nullable };
  }

  function atom(): Piece {
    const start = pos;
    const c = peek();
    pos++;
    const chars = (text: string): Piece => ({ text, nullable: false });
    switch (c) {
      case "(":
        return group(start);
      case "[":
        return chars(charClass());
      case ".":
        return chars(
          setText(flags.dotAll === true ? [[0, 0xffff]] : DOT_RANGES),
        );
      case "^":
      case "$":
        return { text: c, nullable: true };
      case "\\":
        return escape(start);
      default: {
        const code = c.charCodeAt(0);
        const low = peek().charCodeAt(0);
        if (
          code >= 0xd800 &&
          code <= 0xdbff &&
          low >= 0xdc00 &&
          low <= 0xdfff
        ) {
          // A character outside the BMP: one code point for RE2.
          pos++;
          if (/^(?:[*+?]|\{\d+(?:,\d*)?\})/.test(source.slice(pos))) {
            throw new Refusal(
              "a repetition of a character outside the BMP, which JavaScript applies to its second half",
              start,
            );
          }
          return chars(hex(0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00)));
        }
        return chars(charText(code));
      }
    }
  }

  function group(start: number): Piece {
    const head = /^\?(?::|=|!|<=|<!|<[^>]*>)?/.exec(source.slice(pos))?.[0];
    if (head === "?=" || head === "?!") {
      throw new Refusal(`a lookahead (${head}…)`, start);
    }
    if (head === "?<=" || head === "?<!") {
      throw new Refusal(`a lookbehind (${head}…)`, start);
    }
    if (head === "?") throw new Refusal("an inline modifier (?…)", start);
    pos += head?.length ?? 0;
    const body = alternation();
    if (peek() === ")") pos++;
    // Named groups become plain ones: the numbering is the same, and RE2's names are narrower.
    const text = head === "?:" ? `(?:${body.text})` : `(${body.text})`;
    return { text, nullable: body.nullable };
  }

  /** `\…` outside a class (pos is after the backslash). */
  function escape(start: number): Piece {
    const e = peek();
    if (e === "b" || e === "B") {
      pos++;
      return { text: `\\${e}`, nullable: true };
    }
    if (e >= "1" && e <= "9") {
      const digits = /^\d+/.exec(source.slice(pos))![0];
      if (Number(digits) <= groups) {
        throw new Refusal(`a back-reference \\${digits}`, start);
      }
    }
    if (e === "k" && named) {
      throw new Refusal("a named back-reference \\k<…>", start);
    }
    const set = classEscape();
    const text =
      set !== undefined ? setText(set) : charText(characterEscape(false));
    return { text, nullable: false };
  }

  /** `\d \D \w \W \s \S` as ranges (pos at the letter), else undefined (pos unchanged). */
  function classEscape(): CodeRanges | undefined {
    const e = peek();
    const lower = e.toLowerCase();
    if (lower !== "d" && lower !== "w" && lower !== "s") return undefined;
    pos++;
    const set = CLASS_ESCAPES[lower];
    return e === lower ? set : complementRanges(set);
  }

  /**
   * The code unit of a character escape (pos is after the backslash). Annex B: `\c` without a
   * control letter is a backslash, `\x` and `\u` without their digits are the letters, `\0`–`\7`
   * that are not back-references are octal, and any other escaped character is itself.
   */
  function characterEscape(inClass: boolean): number {
    const e = peek();
    pos++;
    if (Object.hasOwn(SIMPLE_ESCAPES, e)) return SIMPLE_ESCAPES[e]!;
    if (e === "c") {
      const l = peek();
      if (/[A-Za-z]/.test(l) || (inClass && /[0-9_]/.test(l))) {
        pos++;
        return l.charCodeAt(0) % 32;
      }
      pos--; // the backslash alone; `c` is read next
      return 0x5c;
    }
    if (e === "x" || e === "u") {
      const n = e === "x" ? 2 : 4;
      const digits = source.slice(pos, pos + n);
      if (digits.length === n && isHex(digits)) {
        pos += n;
        return parseInt(digits, 16);
      }
      return e.charCodeAt(0);
    }
    if (isOctal(e)) {
      let value = Number(e);
      if (isOctal(peek())) {
        value = value * 8 + Number(peek());
        pos++;
        if (value < 32 && isOctal(peek())) {
          value = value * 8 + Number(peek());
          pos++;
        }
      }
      return value;
    }
    if (e === "b" && inClass) return 8;
    return e.charCodeAt(0);
  }

  /** `[…]` (pos is after `[`). */
  function charClass(): string {
    const negate = peek() === "^";
    if (negate) pos++;
    const ranges: CodeRanges = [];
    while (pos < source.length && peek() !== "]") {
      const from = classAtom();
      if (
        peek() === "-" &&
        peek(1) !== "]" &&
        peek(1) !== "" &&
        typeof from === "number"
      ) {
        const save = pos;
        pos++;
        const to = classAtom();
        if (typeof to === "number") {
          ranges.push([from, to]);
          continue;
        }
        pos = save; // `[a-\d]`: the `-` is a character (Annex B)
      }
      if (typeof from === "number") ranges.push([from, from]);
      else ranges.push(...from);
    }
    pos++;
    return setText(ranges, negate);
  }

  /** One class member: a code unit, or the ranges of a class escape. */
  function classAtom(): number | CodeRanges {
    const c = peek();
    pos++;
    if (c !== "\\") return c.charCodeAt(0);
    const set = classEscape();
    if (set !== undefined) return set;
    return characterEscape(true);
  }

  try {
    const body = alternation().text;
    if (pos < source.length) {
      // A `)` without its `(`: new RegExp refuses it, so this is a misuse.
      return { ok: false, construct: "an unmatched )", index: pos };
    }
    return {
      ok: true,
      pattern: (flags.multiline === true ? "(?m)" : "") + body,
      groups,
    };
  } catch (error) {
    if (error instanceof Refusal) {
      return { ok: false, construct: error.construct, index: error.index };
    }
    throw error;
  }
}
