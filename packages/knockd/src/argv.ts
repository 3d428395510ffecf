/**
 * knockd's command line (daemon.md): `-conf FILE -debug -quiet -test -check -replay FILE
 * -logjson -h -man -version`, with the prototype's Getopt::Long habits (`normalizeArgv`), typed by
 * yargs-parser (the parser of yargs).
 */
import parser from "yargs-parser";
import type { Diagnostic } from "@portknock/core";
import { normalizeArgv } from "@portknock/config";
import { DAEMON_ARGV_SPEC } from "./argv-spec.ts";

/** What the command line asked for. */
export interface DaemonArgs {
  conf?: string;
  replay?: string;
  debug: boolean;
  quiet: boolean;
  test: boolean;
  check: boolean;
  /** `-firewall-remove`: take away the managed firewall (issue #17) and exit. */
  firewallRemove: boolean;
  logjson: boolean;
  help: boolean;
  man: boolean;
  version: boolean;
}

const { values: VALUES, booleans: BOOLEANS } = DAEMON_ARGV_SPEC;

/** Parses knockd's argv; a usage problem is a diagnostic naming the flag. Never throws. */
export function parseDaemonArgs(
  argv: readonly string[],
): { ok: true; args: DaemonArgs } | { ok: false; diagnostic: Diagnostic } {
  const normalized = normalizeArgv(argv, DAEMON_ARGV_SPEC);
  if (!normalized.ok) return normalized;
  // normalizeArgv has refused unknown options, missing values and stray words; what is left
  // is typed by yargs' own parser (yargs itself costs 20 ms and 8 MiB at each start).
  const p = parser([...normalized.tokens], {
    string: [...VALUES],
    boolean: [...BOOLEANS],
    configuration: {
      "short-option-groups": false,
      "camel-case-expansion": false,
      "parse-numbers": false,
      "duplicate-arguments-array": false,
    },
  }) as Record<string, unknown>;
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
      firewallRemove: b("firewall-remove"),
      logjson: b("logjson"),
      help: b("h") || b("help"),
      man: b("man"),
      version: b("version"),
    },
  };
}
