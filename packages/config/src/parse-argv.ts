/**
 * Command-line normalisation with Getopt::Long habits, shared by `knock` and `knockd` (their
 * users type the prototype's spellings). Options take one or two dashes (`-conf FILE`,
 * `--conf=FILE`), names are case-insensitive and may be abbreviated to a unique prefix, booleans
 * are `-iv`, `-iv=yes`, `-iv=no`, `-noiv`, `--no-iv`, and a value may start with a dash (`-flag0 -1`
 * is the value "-1", as Getopt::Long takes it). The result is a list of `--name=value`, `--name` and
 * `--no-name` tokens that a strict option parser (yargs) then types. Pure.
 */
import type { Diagnostic } from "@portknock/core";
import { quoteValue } from "@portknock/core";

/** Codes of command-line usage errors. */
export type ArgvCode =
  | "ARGV_UNKNOWN"
  | "ARGV_AMBIGUOUS"
  | "ARGV_MISSING_VALUE"
  | "ARGV_BAD_BOOLEAN"
  | "ARGV_UNEXPECTED";

/** The options a program accepts. */
export interface ArgvSpec {
  /** The program name for messages (`knock`). */
  program: string;
  /** Options that take a value (lower case). */
  values: readonly string[];
  /** Boolean options (lower case). */
  booleans: readonly string[];
  /** Further value options matched by pattern (e.g. `/^flag(0|[1-9]\d?)$/`), never abbreviated. */
  valuePattern?: RegExp;
}

/** Result of `normalizeArgv`. */
export type NormalizeArgvResult =
  | { ok: true; tokens: string[] }
  | { ok: false; diagnostic: Diagnostic<ArgvCode> };

function fail(
  code: ArgvCode,
  flag: string,
  message: string,
): NormalizeArgvResult {
  return {
    ok: false,
    diagnostic: {
      code,
      severity: "error",
      message,
      where: { kind: "argv", flag },
    },
  };
}

function parseYesNo(v: string): boolean | undefined {
  const t = v.toLowerCase();
  if (["1", "yes", "on", "true"].includes(t)) return true;
  if (["0", "no", "off", "false"].includes(t)) return false;
  return undefined;
}

/**
 * Normalises `argv` for `spec`. A usage problem (unknown or ambiguous option, missing value, bad
 * boolean, stray argument) is returned as a diagnostic naming the flag; never throws.
 */
export function normalizeArgv(
  argv: readonly string[],
  spec: ArgvSpec,
): NormalizeArgvResult {
  const booleans = new Set(spec.booleans);
  const all = [...spec.values, ...spec.booleans];
  const resolve = (name: string): string | string[] => {
    if (all.includes(name) || spec.valuePattern?.test(name)) return name;
    const candidates = all.filter((o) => o.startsWith(name));
    return candidates.length === 1 ? candidates[0]! : candidates;
  };
  const tokens: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const raw = argv[i]!;
    if (!raw.startsWith("-") || raw === "-" || raw === "--") {
      return fail(
        "ARGV_UNEXPECTED",
        raw,
        `unexpected argument ${quoteValue(raw)}: ${spec.program} takes only options (try -h)`,
      );
    }
    const body = raw.replace(/^--?/, "");
    const eq = body.indexOf("=");
    const given = (eq < 0 ? body : body.slice(0, eq)).toLowerCase();
    const inline = eq < 0 ? undefined : body.slice(eq + 1);
    const flag = `-${given}`;
    let name = resolve(given);
    let negated = false;
    if (typeof name !== "string" && given.startsWith("no")) {
      const positive = resolve(given.replace(/^no-?/, ""));
      if (typeof positive === "string" && booleans.has(positive)) {
        name = positive;
        negated = true;
      }
    }
    if (typeof name !== "string") {
      return name.length > 1
        ? fail(
            "ARGV_AMBIGUOUS",
            flag,
            `option ${flag} is ambiguous: it could be ${name.map((n) => `-${n}`).join(", ")}`,
          )
        : fail("ARGV_UNKNOWN", flag, `unknown option ${flag} (try -h)`);
    }
    if (booleans.has(name)) {
      let value = !negated;
      if (inline !== undefined) {
        const b = parseYesNo(inline);
        if (b === undefined || negated) {
          return fail(
            "ARGV_BAD_BOOLEAN",
            flag,
            `option ${flag} is yes or no, got ${quoteValue(inline)}`,
          );
        }
        value = b;
      }
      tokens.push(value ? `--${name}` : `--no-${name}`);
      continue;
    }
    let value = inline;
    if (value === undefined) {
      if (i + 1 >= argv.length) {
        return fail(
          "ARGV_MISSING_VALUE",
          `-${name}`,
          `option -${name} needs a value`,
        );
      }
      value = argv[++i]!;
    }
    tokens.push(`--${name}=${value}`);
  }
  return { ok: true, tokens };
}
