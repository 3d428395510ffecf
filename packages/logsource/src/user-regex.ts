/**
 * `<logformat>` regexes run by a linear-time engine (issue #16): re2js, a JavaScript port of
 * RE2, so no regex and no line can make a match backtrack, whatever the pattern (the built-in
 * format keeps V8's RegExp: its regexes are ours, see the README). A user writes JavaScript
 * syntax; core's `translateRegex` rewrites it in RE2's syntax with the same meaning, and refuses
 * by name what RE2 cannot run (back-references, lookarounds). Pure.
 */
import { RE2JS } from "re2js";
import { quoteValue, translateRegex } from "@portknock/core";

/**
 * A regex as `parseLogLine` runs it: V8's `RegExp` (the built-in format) or a `LinearRegex`.
 * Neither keeps state between calls (no `g` or `y` flag).
 */
export interface LineRegex {
  readonly source: string;
  test(text: string): boolean;
  exec(text: string): ArrayLike<string | undefined> | null;
}

/** A user regex compiled for the linear-time engine; `source` is the user's JavaScript text. */
export class LinearRegex implements LineRegex {
  readonly source: string;
  // A copy sent to a worker thread keeps `source` only (see `reviveLineRegex`).
  readonly #re: RE2JS;
  constructor(source: string, re: RE2JS) {
    this.source = source;
    this.#re = re;
  }
  test(text: string): boolean {
    return this.#re.test(text);
  }
  exec(text: string): ArrayLike<string | undefined> | null {
    return this.#re.exec(text);
  }
  toString(): string {
    return `/${this.source}/`;
  }
}

/** Result of `compileLinearRegex`. */
export type CompileLinearRegexResult =
  | { ok: true; regex: LinearRegex; groups: number }
  | { ok: false; message: string };

/**
 * Compiles `source` (JavaScript syntax, no flags) for the linear-time engine. Never throws: a
 * syntax error, or a construct the engine cannot run (named: `a lookahead (?=…)`, `a
 * back-reference \1`, `a repetition count over 1000`), is `ok: false` with one sentence.
 */
export function compileLinearRegex(source: string): CompileLinearRegexResult {
  try {
    new RegExp(source);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    return {
      ok: false,
      message: `invalid regex ${quoteValue(source)}: ${detail}`,
    };
  }
  const t = translateRegex(source);
  if (!t.ok) {
    return {
      ok: false,
      message: `regex ${quoteValue(source)} uses ${t.construct} at character ${t.index + 1}, which the linear-time regex engine cannot run; rewrite it without`,
    };
  }
  try {
    return {
      ok: true,
      regex: new LinearRegex(source, RE2JS.compile(t.pattern)),
      groups: t.groups,
    };
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    return {
      ok: false,
      message: `regex ${quoteValue(source)} is refused by the linear-time regex engine: ${detail}`,
    };
  }
}

/**
 * `regex` as it arrives in a worker thread: a `RegExp` stays one, a `LinearRegex` (a plain
 * `{ source }` after the structured clone) is compiled again. Throws `TypeError` if the source
 * no longer compiles, which cannot happen for one `compileLinearRegex` accepted.
 */
export function reviveLineRegex(regex: LineRegex): LineRegex {
  if (regex instanceof RegExp || regex instanceof LinearRegex) return regex;
  const again = compileLinearRegex(regex.source);
  if (!again.ok) throw new TypeError(again.message);
  return again.regex;
}
