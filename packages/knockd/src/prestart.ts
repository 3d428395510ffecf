/**
 * `knockd -replay FILE`: bin/knockd.js starts the replay's worker threads (logsource's
 * `prestartReplay`) before it loads the daemon, so they boot on the other cores while it loads
 * and checks the config; `main` gives them to the replay, which takes them over. Built on its
 * own into `dist/cli-prestart.js` (`pnpm build`), which holds only this and `prestartReplay`.
 */
import type { PrestartedReplay } from "@portknock/logsource";
import { prestartReplay } from "@portknock/logsource";

/** The file `argv` asks to replay (`-replay FILE`, `--replay=FILE`), if any. */
function replayFile(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const m = /^--?replay(?:=(.*))?$/.exec(argv[i]!);
    if (m !== null) return m[1] ?? argv[i + 1];
  }
  return undefined;
}

/**
 * The replay's workers, started ahead when `argv` asks for a replay (none for a file of one
 * block or on one core); undefined otherwise. Never throws: a bad file is the replay's to report.
 */
export function prestartFromArgv(
  argv: readonly string[],
): PrestartedReplay | undefined {
  const file = replayFile(argv);
  return file === undefined ? undefined : prestartReplay(file);
}
