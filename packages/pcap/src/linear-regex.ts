/**
 * `<ethfilter>` regexes on a linear-time engine (issue #16): re2js, the JavaScript port of RE2
 * that `<logformat>` regexes use (logsource's `user-regex.ts`), so that no value and no packet can
 * make a match backtrack. The user writes JavaScript syntax; core's `translateRegex` rewrites it
 * in RE2's with the same meaning and names what RE2 cannot run. Pure.
 */
import { RE2JS } from "re2js";
import { quoteValue, translateRegex } from "@portknock/core";

/** A compiled regex: `test` runs in time linear in the text. */
export interface LinearRegex {
  /** The JavaScript source it was compiled from. */
  readonly source: string;
  test(text: string): boolean;
}

/** Result of `compileLinearRegex`. */
export type CompileLinearRegexResult =
  { ok: true; regex: LinearRegex } | { ok: false; message: string };

/**
 * Compiles `source` (JavaScript syntax, no flags). Never throws: a syntax error, or a construct
 * the engine cannot run (a lookaround, a back-reference, a count over 1000), is `ok: false` with
 * one sentence.
 */
export function compileLinearRegex(source: string): CompileLinearRegexResult {
  try {
    new RegExp(source);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    return { ok: false, message: `not a valid regex (${detail})` };
  }
  const t = translateRegex(source);
  if (!t.ok) {
    return {
      ok: false,
      message: `uses ${t.construct} at character ${t.index + 1}, which the linear-time regex engine cannot run; rewrite it without`,
    };
  }
  try {
    const re = RE2JS.compile(t.pattern);
    return {
      ok: true,
      regex: { source, test: (text: string): boolean => re.test(text) },
    };
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    return {
      ok: false,
      message: `is refused by the linear-time regex engine (${detail}) in ${quoteValue(source)}`,
    };
  }
}
