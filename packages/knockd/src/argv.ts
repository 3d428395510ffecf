/**
 * knockd's command line (daemon.md): `-conf FILE -debug -quiet -test -check -replay FILE
 * -logjson -h -man -version`, and `-init` with its own flags (init-plan.ts), with the prototype's Getopt::Long habits (`normalizeArgv`), typed by
 * yargs-parser (the parser of yargs).
 */
import parser from "yargs-parser";
import type { Diagnostic } from "@portknock/core";
import { normalizeArgv } from "@portknock/config";
import { DAEMON_ARGV_SPEC, INIT_VALUES } from "./argv-spec.ts";

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
  init: boolean;
  /** The values of `-init`'s flags (`INIT_VALUES`), every one given, in order. */
  initFlags: Map<string, string[]>;
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
    string: [...VALUES, ...INIT_VALUES],
    boolean: [...BOOLEANS],
    configuration: {
      "short-option-groups": false,
      "camel-case-expansion": false,
      "parse-numbers": false,
      "duplicate-arguments-array": false,
    },
  }) as Record<string, unknown>;
  const b = (k: string): boolean => p[k] === true;
  // -init's flags keep every value given (-protect repeats); yargs would keep the last only.
  const initFlags = new Map<string, string[]>();
  for (const t of normalized.tokens) {
    const m = /^--([a-z]+)=([\s\S]*)$/.exec(t);
    if (m && INIT_VALUES.includes(m[1]!)) {
      initFlags.set(m[1]!, [...(initFlags.get(m[1]!) ?? []), m[2]!]);
    }
  }
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
      init: b("init"),
      initFlags,
    },
  };
}
