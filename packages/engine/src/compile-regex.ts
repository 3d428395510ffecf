/**
 * Compiles a condition's `/regex/` once at load (spec: daemon.md §4). Pure. Perl syntax that
 * JavaScript would silently read differently is refused instead of guessed at. The regex is
 * written in JavaScript's syntax and runs on a linear-time engine (re2js, a port of RE2; issue
 * #16), so no subject can make it backtrack: core's `translateRegex` keeps JavaScript's meaning
 * and refuses by name what RE2 cannot run (back-references, lookarounds).
 */
import { RE2JS } from "re2js";
import { translateRegex } from "@portknock/core";

/** A compiled condition regex: `test` runs in time linear in the subject. */
export interface ConditionRegex {
  /** The regex as written, JavaScript syntax. */
  readonly source: string;
  /** The flags kept: some of `i`, `m`, `s`. */
  readonly flags: string;
  test(subject: string): boolean;
  /** As `RegExp` shows it: `/^10\\//i`. */
  toString(): string;
}

/** Result of `compileRegex`. */
export type CompileRegexResult =
  { ok: true; regex: ConditionRegex } | { ok: false; message: string };

class LinearConditionRegex implements ConditionRegex {
  readonly source: string;
  readonly flags: string;
  readonly #re: RE2JS;
  readonly #shown: string;
  constructor(checked: RegExp, re: RE2JS) {
    this.source = checked.source;
    this.flags = checked.flags;
    this.#shown = String(checked);
    this.#re = re;
  }
  test(subject: string): boolean {
    return this.#re.test(subject);
  }
  /** As `RegExp` shows it: `/^10\//i`. */
  toString(): string {
    return this.#shown;
  }
}

// Perl escapes that JavaScript (without the u flag) would read as plain letters.
const PERL_ONLY: Readonly<Record<string, string>> = {
  A: "use ^ instead of \\A",
  z: "use $ instead of \\z",
  Z: "use $ instead of \\Z",
  G: "\\G is not supported",
  Q: "\\Q…\\E quoting is not supported: escape each character",
  E: "\\Q…\\E quoting is not supported: escape each character",
  K: "\\K is not supported",
};

const MAX_SOURCE = 1024;

/**
 * Compiles `source` with Perl flags `i`, `m`, `s` (`g` and `o` are accepted and ignored; `x` and
 * anything else are refused) for the linear-time engine. Never throws: an invalid regex, a
 * Perl-only escape, a back-reference, a lookaround or a count over 1000 is `ok: false`.
 */
export function compileRegex(
  source: string,
  flags: string,
): CompileRegexResult {
  if (source.length > MAX_SOURCE) {
    return {
      ok: false,
      message: `regex is longer than ${MAX_SOURCE} characters`,
    };
  }
  let jsFlags = "";
  for (const f of new Set(flags)) {
    if (f === "i" || f === "m" || f === "s") jsFlags += f;
    else if (f !== "g" && f !== "o") {
      return {
        ok: false,
        message: `regex flag ${JSON.stringify(f)} is not supported; expected i, m or s`,
      };
    }
  }
  for (let i = 0; i < source.length; i++) {
    if (source[i] !== "\\") continue;
    const n = source[i + 1] ?? "";
    const why = Object.hasOwn(PERL_ONLY, n) ? PERL_ONLY[n] : undefined;
    if (why != null)
      return { ok: false, message: `regex uses Perl-only \\${n}: ${why}` };
    i++;
  }
  let checked: RegExp;
  try {
    checked = new RegExp(source, jsFlags);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    return { ok: false, message: `invalid regex /${source}/: ${detail}` };
  }
  const t = translateRegex(source, {
    ignoreCase: jsFlags.includes("i"),
    multiline: jsFlags.includes("m"),
    dotAll: jsFlags.includes("s"),
  });
  if (!t.ok) {
    return {
      ok: false,
      message: `regex /${source}/ uses ${t.construct} at character ${t.index + 1}, which the linear-time regex engine cannot run; rewrite it without`,
    };
  }
  try {
    return {
      ok: true,
      regex: new LinearConditionRegex(checked, RE2JS.compile(t.pattern)),
    };
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    return {
      ok: false,
      message: `regex /${source}/ is refused by the linear-time regex engine: ${detail}`,
    };
  }
}
