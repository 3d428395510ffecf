/**
 * knockd's options (daemon.md), apart from their parser: `prestart.ts`, bundled on its own and
 * kept small, reads `-replay` with the same rules (abbreviations, case, `--replay=FILE`).
 */
import type { ArgvSpec } from "@portknock/config";

const VALUES: readonly string[] = ["conf", "replay"];
const BOOLEANS: readonly string[] = [
  "debug",
  "quiet",
  "test",
  "check",
  "firewall-remove",
  "logjson",
  "h",
  "help",
  "man",
  "version",
];

/** knockd's options, for `normalizeArgv` (also used by `prestart.ts`, which must agree). */
export const DAEMON_ARGV_SPEC: ArgvSpec = {
  program: "knockd",
  values: VALUES,
  booleans: BOOLEANS,
};
