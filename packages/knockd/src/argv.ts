/**
 * knockd's command line (daemon.md): `-conf FILE -debug -quiet -test -check -replay FILE
 * -logjson -h -man`, with the prototype's Getopt::Long habits (`normalizeArgv`), typed by yargs.
 */
import yargs from "yargs";
import type { Diagnostic } from "@portknock/config";
import { normalizeArgv } from "@portknock/config";

/** What the command line asked for. */
export interface DaemonArgs {
  conf?: string;
  replay?: string;
  debug: boolean;
  quiet: boolean;
  test: boolean;
  check: boolean;
  logjson: boolean;
  help: boolean;
  man: boolean;
}

const VALUES = ["conf", "replay"];
const BOOLEANS = [
  "debug",
  "quiet",
  "test",
  "check",
  "logjson",
  "h",
  "help",
  "man",
];

/** Parses knockd's argv; a usage problem is a diagnostic naming the flag. Never throws. */
export function parseDaemonArgs(
  argv: readonly string[],
): { ok: true; args: DaemonArgs } | { ok: false; diagnostic: Diagnostic } {
  const normalized = normalizeArgv(argv, {
    program: "knockd",
    values: VALUES,
    booleans: BOOLEANS,
  });
  if (!normalized.ok) return normalized;
  let failure: string | undefined;
  const y = yargs([...normalized.tokens])
    .parserConfiguration({
      "short-option-groups": false,
      "camel-case-expansion": false,
      "parse-numbers": false,
      "duplicate-arguments-array": false,
    })
    .exitProcess(false)
    .help(false)
    .version(false)
    .strict()
    .fail((msg: string | null, err: Error | undefined) => {
      failure = msg ?? err?.message ?? "invalid command line";
    });
  for (const o of VALUES) y.option(o, { type: "string" });
  for (const o of BOOLEANS) y.option(o, { type: "boolean" });
  const p = y.parseSync() as Record<string, unknown>;
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
  const b = (k: string): boolean => p[k] === true;
  return {
    ok: true,
    args: {
      ...(typeof p.conf === "string" ? { conf: p.conf } : {}),
      ...(typeof p.replay === "string" ? { replay: p.replay } : {}),
      debug: b("debug"),
      quiet: b("quiet"),
      test: b("test"),
      check: b("check"),
      logjson: b("logjson"),
      help: b("h") || b("help"),
      man: b("man"),
    },
  };
}
