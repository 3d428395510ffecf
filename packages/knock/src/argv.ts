/**
 * The client's command line (client.md): `normalizeArgv` (config) applies the prototype's
 * Getopt::Long habits; yargs (strict, no exit, no short-option groups) then checks and types the
 * normalised tokens.
 */
import yargs from "yargs";
import type { ArgvCode } from "@portknock/config";
import type { Diagnostic } from "@portknock/core";
import { normalizeArgv } from "@portknock/config";

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
  "version",
];

const BOOLEANS = new Set([...CONFIG_BOOLEANS, ...ACTION_BOOLEANS]);
const FLAG = /^flag(0|[1-9]\d?)$/;

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
  version: boolean;
}

/** Result of `parseArgs`: the options, or a usage diagnostic naming the flag. */
export type ParseArgsResult =
  | { ok: true; args: ParsedArgs }
  | { ok: false; diagnostic: Diagnostic<ArgvCode> };

/**
 * Parses the client's command line. Never throws and never exits: a usage problem is returned as
 * a diagnostic naming the flag.
 */
export function parseArgs(argv: readonly string[]): ParseArgsResult {
  const normalized = normalizeArgv(argv, {
    program: "knock",
    values: VALUE_OPTIONS,
    booleans: [...BOOLEANS],
    valuePattern: FLAG,
  });
  if (!normalized.ok) return normalized;
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
  if (failure !== undefined) {
    return {
      ok: false,
      diagnostic: {
        code: "ARGV_UNKNOWN",
        severity: "error",
        message: failure,
        where: { kind: "argv", flag: "argv" },
      },
    };
  }

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
      version: bool("version"),
    },
  };
}
