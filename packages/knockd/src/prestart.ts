/**
 * `knockd -replay FILE`: bin/knockd.js starts the replay's worker threads (logsource's
 * `prestartReplay`) before it loads the daemon, so they boot on the other cores while it loads
 * and checks the config; `main` gives them to the replay, which takes them over. Built on its
 * own into `dist/cli-prestart.js` (`pnpm build`), which holds only this and `prestartReplay`.
 */
import type { PrestartedReplay } from "@portknock/logsource";
import { prestartReplay } from "@portknock/logsource";
import { normalizeArgv } from "@portknock/config";
import { DAEMON_ARGV_SPEC } from "./argv-spec.ts";
import { capYoungGeneration } from "./young-generation.ts";

/**
 * The file `argv` asks to replay, read by the rules `main` uses (`-rep FILE`, `--REPLAY=FILE`, …),
 * if any; undefined too when the command line is not valid (then `main` says why).
 */
export function replayFile(argv: readonly string[]): string | undefined {
  const n = normalizeArgv(argv, DAEMON_ARGV_SPEC);
  if (!n.ok) return undefined;
  const token = n.tokens.find((t) => t.startsWith("--replay="));
  return token?.slice("--replay=".length);
}

/**
 * The replay's workers, started ahead when `argv` asks for a replay (none for a file of one
 * block or on one core); undefined otherwise. Never throws: a bad file is the replay's to report.
 * Any other run starts with V8's young generation capped (`young-generation.ts`, #20).
 */
export function prestartFromArgv(
  argv: readonly string[],
): PrestartedReplay | undefined {
  const file = replayFile(argv);
  if (file === undefined) capYoungGeneration();
  return file === undefined ? undefined : prestartReplay(file);
}
