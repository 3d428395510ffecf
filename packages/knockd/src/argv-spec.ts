/**
 * knockd's options (daemon.md), apart from their parser: `prestart.ts`, bundled on its own and
 * kept small, reads `-replay` with the same rules (abbreviations, case, `--replay=FILE`).
 */
import type { ArgvSpec } from "@portknock/config";

/** The options of `knockd -init` that take a value (`-protect` and `-interface` repeat). */
export const INIT_VALUES: readonly string[] = [
  "protect",
  "interface",
  "remote",
  "grant",
  "runmode",
  "portspan",
  "statefile",
  "dir",
];
/** Options that take a value and may be abbreviated (`-c`, `-rep`), as the prototype's were. */
const VALUES: readonly string[] = ["conf", "replay"];
const BOOLEANS: readonly string[] = [
  "init",
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
  // -init's flags are spelled in full: never abbreviated, so they do not make the prototype's
  // abbreviations (-d for -debug, -r for -replay) ambiguous.
  valuePattern: new RegExp(`^(?:${INIT_VALUES.join("|")})$`),
};
