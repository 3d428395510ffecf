/**
 * Compiles a condition's `/regex/` once at load (spec: daemon.md §4). Pure. Perl syntax that
 * JavaScript would silently read differently is refused instead of guessed at.
 */

/** Result of `compileRegex`. */
export type CompileRegexResult =
  { ok: true; regex: RegExp } | { ok: false; message: string };

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
 * anything else are refused). Never throws.
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
  try {
    return { ok: true, regex: new RegExp(source, jsFlags) };
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    return { ok: false, message: `invalid regex /${source}/: ${detail}` };
  }
}
