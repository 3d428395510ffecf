/**
 * `logcommand` (spec: daemon.md §1): the lines a command prints, e.g.
 * `journalctl -k -f -n 0 -o short-iso`, run with an argv (no shell) and restarted with exponential
 * back-off whenever it exits. Each run starts at "now": lines stamped before it started (the
 * backlog `journalctl -f` or `tail -F` prints first) are dropped, so no restart re-runs an old
 * knock (issue #15).
 */
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { basename } from "node:path";
import type { Logger } from "@portknock/core";
import { noopLogger } from "@portknock/core";
import { createLineSplitter } from "./line-splitter.ts";
import { escapeInput } from "@portknock/core";
import type { BatchedLines } from "./batch-source.ts";
import { BATCHES } from "./batch-source.ts";
import type { PushQueue } from "./push-queue.ts";
import { batchIterator, createPushQueue } from "./push-queue.ts";
import { createRateLimiter } from "@portknock/core";
import type { Clock } from "@portknock/core";
import type { LogLine } from "./types.ts";
import { systemClock } from "@portknock/core";
import { lineStampEndMs } from "./line-stamp.ts";

/** Restart delays of `runLogCommand`. */
export interface Backoff {
  /** Delay before the first restart, in ms. */
  initialMs: number;
  /** Longest delay, in ms; a run that lasted this long resets the delay to `initialMs`. */
  maxMs: number;
}

/** Options of `runLogCommand`. */
export interface RunLogCommandOptions {
  /** Stops the command (SIGTERM, then SIGKILL after `killGraceMs`) and ends the iteration. */
  signal?: AbortSignal;
  logger?: Logger;
  /** Default `{ initialMs: 1000, maxMs: 60000 }`. */
  backoff?: Backoff;
  /** `LogLine.file` of the lines. Default: the command's base name (`journalctl`). */
  name?: string;
  /** Used for the stderr rate limit and run durations. Default `systemClock`. */
  clock?: Clock;
  /** Wait after SIGTERM before SIGKILL, in ms. Default 2000. */
  killGraceMs?: number;
  /** Longest line kept, in bytes. Default 1 MiB. */
  maxLineBytes?: number;
  /** Lines queued before reading pauses (back-pressure). Default 10,000. */
  highWater?: number;
  /**
   * `now` (default): at each (re)start, the lines the command prints stamped before that start
   * (by `clock`) are dropped, up to its first line stamped at or after it; a line without a
   * recognised stamp is kept, and a stamp in whole seconds counts as the end of its second (see
   * `lineStampEndMs`). `all`: every line is yielded.
   */
  startAt?: "now" | "all";
  /** Called for each line dropped as stamped before its run started. */
  onLineBeforeStart?: (line: LogLine) => void;
}

const STDERR_PER_MINUTE = 10;

interface RunResult {
  code: number | null;
  signal: string | null;
  error?: unknown;
}

/**
 * Runs `argv` and yields its stdout lines (`lineNo` counts across restarts). When the command
 * exits or cannot be started it is restarted after `initialMs`, doubling up to `maxMs` while it
 * keeps failing; each exit is logged (`source.exited`, warn). Its stderr lines are logged (warn,
 * at most 10 a minute). With `startAt: "now"` (the default) the lines of a run stamped before it
 * started are dropped, and logged once per run with their number (`source.rejected`, warn, code
 * `LOG_LINE_BEFORE_START`). Throws `TypeError` at once for an empty argv.
 */
export function runLogCommand(
  argv: readonly string[],
  options: RunLogCommandOptions = {},
): AsyncIterable<LogLine> {
  const command = argv[0];
  if (command === undefined || command === "") {
    throw new TypeError("runLogCommand needs an argv with a command, got []");
  }
  const lines: BatchedLines = {
    [Symbol.asyncIterator]: () => startCommand(command, argv.slice(1), options),
    [BATCHES]: () =>
      batchIterator(startCommand(command, argv.slice(1), options)),
  };
  return lines;
}

function startCommand(
  command: string,
  args: readonly string[],
  options: RunLogCommandOptions,
): PushQueue<LogLine> {
  const name = options.name ?? basename(command);
  const clock = options.clock ?? systemClock;
  const logger = (options.logger ?? noopLogger).child({ source: name });
  const { initialMs, maxMs } = options.backoff ?? {
    initialMs: 1000,
    maxMs: 60_000,
  };
  const { signal } = options;
  const stderrLimit = createRateLimiter({
    clock,
    intervalMs: 60_000,
    burst: STDERR_PER_MINUTE,
  });
  let child: ChildProcess | undefined;
  let childDone: Promise<unknown> = Promise.resolve();
  let stopped = false;
  let lineNo = 0;
  let wake: (() => void) | undefined;

  // Ends the iteration once the command is gone (SIGTERM, then SIGKILL after the grace time).
  const stop = async (): Promise<void> => {
    if (!stopped) {
      stopped = true;
      signal?.removeEventListener("abort", onAbort);
      wake?.();
      const c = child;
      if (c !== undefined) {
        c.kill("SIGTERM");
        const timer = setTimeout(
          () => c.kill("SIGKILL"),
          options.killGraceMs ?? 2000,
        );
        await childDone;
        clearTimeout(timer);
      }
    }
    queue.end();
  };
  const onAbort = (): void => void stop();
  const queue = createPushQueue<LogLine>({
    highWater: options.highWater,
    onPause: () => child?.stdout?.pause(),
    onResume: () => child?.stdout?.resume(),
    onReturn: stop,
  });

  /** Runs the command once; resolves when it has exited and its output is read. */
  const runOnce = (): Promise<RunResult> => {
    const done = new Promise<RunResult>((resolve) => {
      const backlog = createBacklogGuard(clock.now());
      const c = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
      child = c;
      const out = createLineSplitter(
        (text) => {
          const line = { text, file: name, lineNo: ++lineNo };
          if (!backlog.drops(line)) queue.push(line);
        },
        { maxLineBytes: options.maxLineBytes },
      );
      const err = createLineSplitter((text) => {
        const suppressed = stderrLimit.take("stderr");
        if (suppressed < 0) return;
        logger.warn(
          {
            event: "source.stderr",
            input: escapeInput(text),
            ...(suppressed > 0 && { suppressed }),
          },
          "log command wrote to stderr",
        );
      });
      c.stdout.on("data", (chunk: Buffer) => out.write(chunk));
      c.stderr.on("data", (chunk: Buffer) => err.write(chunk));
      let settled = false;
      const settle = (
        code: number | null,
        sig: string | null,
        error?: unknown,
      ): void => {
        if (settled) return;
        settled = true;
        out.flush(); // the command is gone: its last line is complete
        err.flush();
        backlog.report();
        child = undefined;
        resolve({ code, signal: sig, error });
      };
      c.once("error", (error) => settle(null, null, error));
      c.once("close", (code, sig) => settle(code, sig));
    });
    childDone = done;
    return done;
  };

  /**
   * One run's filter of the lines stamped before `startedMs`, until its first line stamped at
   * or after it; `report` logs how many it dropped (once).
   */
  const createBacklogGuard = (
    startedMs: number,
  ): { drops(line: LogLine): boolean; report(): void } => {
    let active = options.startAt !== "all";
    let count = 0;
    let first: LogLine | undefined;
    const report = (): void => {
      if (first === undefined) return;
      logger.warn(
        {
          event: "source.rejected",
          code: "LOG_LINE_BEFORE_START",
          count,
          source: `${first.file}:${first.lineNo}`,
          input: escapeInput(first.text),
          startedAt: new Date(startedMs).toISOString(),
        },
        `${count} line(s) stamped before the log command started were dropped (it printed old entries: for journalctl, add -n 0)`,
      );
      first = undefined;
    };
    return {
      drops(line): boolean {
        if (!active) return false;
        const endMs = lineStampEndMs(line.text, startedMs);
        if (endMs === undefined) return false;
        if (endMs > startedMs) {
          active = false; // the backlog is over: no line is checked any more
          report();
          return false;
        }
        count++;
        first ??= line;
        options.onLineBeforeStart?.(line);
        return true;
      },
      report,
    };
  };

  const run = async (): Promise<void> => {
    let failures = 0;
    while (!stopped) {
      const started = clock.now();
      const result = await runOnce();
      if (stopped) break;
      if (clock.now() - started >= maxMs) failures = 0;
      const delayMs = Math.min(maxMs, initialMs * 2 ** failures);
      failures++;
      const fields = {
        event: "source.exited",
        command: escapeInput(command),
        code: result.code,
        signal: result.signal,
        restartInMs: delayMs,
        ...(result.error !== undefined && { err: result.error }),
      };
      if (result.error !== undefined)
        logger.error(fields, "log command could not start");
      else logger.warn(fields, "log command exited");
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => resolve(), delayMs);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = undefined;
    }
    queue.end();
  };

  if (signal?.aborted) void stop();
  else {
    signal?.addEventListener("abort", onAbort, { once: true });
    run().catch((error: unknown) => queue.fail(error));
  }
  return queue;
}
