/**
 * Command-line parsing with Getopt::Long habits (client.md): options take one or two dashes,
 * `-conf FILE`, `--conf=FILE`, booleans as `-iv`, `-iv=yes`, `-noiv`, `--no-iv`, names are
 * case-insensitive and may be abbreviated to a unique prefix, and a value may start with a dash
 * (`-flag0 -1` is the value "-1", refused later as out of range). A pre-pass normalises argv to
 * `--name=value` tokens; yargs (strict, no exit, no short-option groups) then checks and types them.
 */
import yargs from "yargs";
import type { Diagnostic } from "@portknock/config";
import { quoteValue } from "@portknock/config";

/** Options that take a value; each is also a config key (config.md "Client keys"). */
export const VALUE_OPTIONS: readonly string[] = [
  "conf",
  "remote",
  "client",
  "port",
  "time",
  "mask",
  "knock",
  "cipher",
  "key",
  "ivvalue",
  "portspan",
  "padding",
  "format",
  "keysalt",
  "logfile",
  "fileformat",
  "protocol",
  "method",
  "knockdelay",
];

/** Boolean options that are also config keys. */
export const CONFIG_BOOLEANS: readonly string[] = [
  "encrypt",
  "iv",
  "logtofile",
];

/** Boolean options of the command line only. */
export const ACTION_BOOLEANS: readonly string[] = [
  "test",
  "json",
  "debug",
  "quiet",
  "h",
  "help",
  "man",
  "genkey",
];

const BOOLEANS = new Set([...CONFIG_BOOLEANS, ...ACTION_BOOLEANS]);
const FLAG = /^flag(0|[1-9]\d?)$/;
const ALL = [...VALUE_OPTIONS, ...BOOLEANS];

/** What the command line asked for. */
export interface ParsedArgs {
  /** Config-key options as strings, to be validated with the config file's rules. */
  overrides: Record<string, string>;
  conf?: string;
  test: boolean;
  json: boolean;
  debug: boolean;
  quiet: boolean;
  help: boolean;
  man: boolean;
  genkey: boolean;
}

/** Result of `parseArgs`: the options, or a usage diagnostic naming the flag. */
export type ParseArgsResult =
  | { ok: true; args: ParsedArgs }
  | {
      ok: false;
      diagnostic: Diagnostic<
        | "ARGV_UNKNOWN"
        | "ARGV_AMBIGUOUS"
        | "ARGV_MISSING_VALUE"
        | "ARGV_BAD_BOOLEAN"
        | "ARGV_UNEXPECTED"
      >;
    };

function usageError(
  code:
    | "ARGV_UNKNOWN"
    | "ARGV_AMBIGUOUS"
    | "ARGV_MISSING_VALUE"
    | "ARGV_BAD_BOOLEAN"
    | "ARGV_UNEXPECTED",
  flag: string,
  message: string,
): ParseArgsResult {
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

/** Resolve an option name: exact, FLAGn, or a unique prefix. */
function resolveName(name: string): string | string[] {
  if (ALL.includes(name) || FLAG.test(name)) return name;
  const candidates = ALL.filter((o) => o.startsWith(name));
  return candidates.length === 1 ? candidates[0]! : candidates;
}

function parseBooleanWord(v: string): boolean | undefined {
  const t = v.toLowerCase();
  if (["1", "yes", "on", "true"].includes(t)) return true;
  if (["0", "no", "off", "false"].includes(t)) return false;
  return undefined;
}

/** Normalises Getopt::Long-style argv into `--name=value` / `--name` / `--no-name` tokens. */
function normalize(
  argv: readonly string[],
): { tokens: string[] } | ParseArgsResult {
  const tokens: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const raw = argv[i]!;
    if (!raw.startsWith("-") || raw === "-" || raw === "--") {
      return usageError(
        "ARGV_UNEXPECTED",
        raw,
        `unexpected argument ${quoteValue(raw)}: knock takes only options (try -h)`,
      );
    }
    const body = raw.replace(/^--?/, "");
    const eq = body.indexOf("=");
    const rawName = (eq < 0 ? body : body.slice(0, eq)).toLowerCase();
    const inline = eq < 0 ? undefined : body.slice(eq + 1);
    const flag = `-${rawName}`;
    let name = resolveName(rawName);
    let negated = false;
    if (
      typeof name !== "string" ||
      (name !== rawName && rawName.startsWith("no"))
    ) {
      const positive = rawName.replace(/^no-?/, "");
      const resolved = rawName.startsWith("no")
        ? resolveName(positive)
        : undefined;
      if (typeof resolved === "string" && BOOLEANS.has(resolved)) {
        name = resolved;
        negated = true;
      }
    }
    if (typeof name !== "string") {
      return name.length > 1
        ? usageError(
            "ARGV_AMBIGUOUS",
            flag,
            `option ${flag} is ambiguous: it could be ${name.map((n) => `-${n}`).join(", ")}`,
          )
        : usageError("ARGV_UNKNOWN", flag, `unknown option ${flag} (try -h)`);
    }
    if (BOOLEANS.has(name)) {
      let value = !negated;
      if (inline !== undefined) {
        const b = parseBooleanWord(inline);
        if (b === undefined || negated) {
          return usageError(
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
    if (negated) {
      return usageError(
        "ARGV_UNKNOWN",
        flag,
        `option -${name} takes a value and cannot be negated`,
      );
    }
    let value = inline;
    if (value === undefined) {
      if (i + 1 >= argv.length) {
        return usageError(
          "ARGV_MISSING_VALUE",
          `-${name}`,
          `option -${name} needs a value`,
        );
      }
      value = argv[++i]!;
    }
    tokens.push(`--${name}=${value}`);
  }
  return { tokens };
}

/**
 * Parses the client's command line. Never throws and never exits: a usage problem is returned as
 * a diagnostic naming the flag.
 */
export function parseArgs(argv: readonly string[]): ParseArgsResult {
  const normalized = normalize(argv);
  if (!("tokens" in normalized)) return normalized;
  let failure: string | undefined;
  const y = yargs([...normalized.tokens])
    .parserConfiguration({
      "short-option-groups": false,
      "camel-case-expansion": false,
      "parse-numbers": false,
      "parse-positional-numbers": false,
      "duplicate-arguments-array": false,
    })
    .exitProcess(false)
    .help(false)
    .version(false)
    .strict()
    .fail((msg: string | null, err: Error | undefined) => {
      failure = msg ?? err?.message ?? "invalid command line";
    });
  for (const o of VALUE_OPTIONS) y.option(o, { type: "string" });
  for (let n = 0; n < 100; n++) y.option(`flag${n}`, { type: "string" });
  for (const o of BOOLEANS) y.option(o, { type: "boolean" });
  const parsed = y.parseSync() as Record<string, unknown>;
  if (failure !== undefined) return usageError("ARGV_UNKNOWN", "argv", failure);

  const overrides: Record<string, string> = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (key === "_" || key === "$0" || key === "conf" || value === undefined)
      continue;
    if (typeof value === "string") overrides[key] = value;
    else if (CONFIG_BOOLEANS.includes(key) && typeof value === "boolean") {
      overrides[key] = value ? "yes" : "no";
    }
  }
  const bool = (k: string): boolean => parsed[k] === true;
  const conf = parsed.conf;
  return {
    ok: true,
    args: {
      overrides,
      ...(typeof conf === "string" ? { conf } : {}),
      test: bool("test"),
      json: bool("json"),
      debug: bool("debug"),
      quiet: bool("quiet"),
      help: bool("h") || bool("help"),
      man: bool("man"),
      genkey: bool("genkey"),
    },
  };
}
