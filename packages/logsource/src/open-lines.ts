/**
 * The lines of a log hit source's input: a followed file, a replayed file, a command's output, or
 * lines from anywhere else.
 */
import { statSync } from "node:fs";
import type { Logger } from "@portknock/core";
import { followLog } from "./follow-log.ts";
import type { LogHitSourceOptions, LogInput } from "./log-hit-source-types.ts";
import { readLogFile } from "./read-log-file.ts";
import { runLogCommand } from "./run-log-command.ts";
import type { LogLine } from "./types.ts";

/** Whether `path` is a regular file, or gives an error (which opening it reports). */
export function isRegularOrMissing(path: string): boolean {
  try {
    // bigint: Node's own sync stats share one array with `realpathSync`, which then takes a
    // later `require` for a FIFO's and resolves it wrongly (seen: pino not found, issue #16).
    return statSync(path, { bigint: true }).isFile();
  } catch {
    return true;
  }
}

/**
 * Opens the input the options name, stopping on `signal`; a command's lines stamped before its
 * run started go to `onLineBeforeStart` instead; a followed path found not to be a regular file
 * calls `onNotRegular`.
 */
export function openLines(
  options: LogInput & LogHitSourceOptions,
  signal: AbortSignal,
  logger: Logger,
  onLineBeforeStart?: (line: LogLine) => void,
  onNotRegular?: (kind: string) => void,
): AsyncIterable<LogLine> {
  if ("lines" in options) return options.lines;
  if ("argv" in options) {
    return runLogCommand(options.argv, {
      signal,
      logger,
      backoff: options.backoff,
      clock: options.clock,
      onLineBeforeStart,
    });
  }
  if (options.replay === true) {
    return readLogFile(options.path, {
      signal,
      chunkBytes: options.replayChunkBytes ?? 1024 * 1024,
    });
  }
  return followLog(options.path, {
    signal,
    logger,
    pollIntervalMs: options.pollIntervalMs,
    onReady: options.onReady,
    onNotRegular,
  });
}
