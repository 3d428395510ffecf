/**
 * `logfile` followed like `tail -F` (spec: daemon.md §1), with `@logdna/tail-file` (a maintained
 * polling follower; see the README for why not `tail`). It starts at the end of the file and
 * survives rename rotation (it reads what is left in the renamed file, then the new one from its
 * start), copytruncate, deletion and re-creation; it never skips or repeats a line, and holds a
 * partial last line until its newline. inotify (`fs.watch`, `watch-log.ts`) makes it check the
 * file as soon as it changes (issue #15: a knock's last line reaches the detector within
 * milliseconds); the poll every `fileinterval` stays, for file systems without inotify (NFS) and
 * as the fallback when watching fails.
 */
import type TailFile from "@logdna/tail-file";
import type { Logger } from "@portknock/core";
import { createRateLimiter, noopLogger, systemClock } from "@portknock/core";
import { LogSourceError } from "./errors.ts";
import { createLineSplitter } from "./line-splitter.ts";
import type { BatchedLines } from "./batch-source.ts";
import { BATCHES } from "./batch-source.ts";
import type { PushQueue } from "./push-queue.ts";
import { batchIterator, createPushQueue } from "./push-queue.ts";
import type { LogLine } from "./types.ts";
import type { LogWatch } from "./watch-log.ts";
import { watchLog } from "./watch-log.ts";
import { addPollNow } from "./poll-now.ts";
import { guardRegular, readStreamFs } from "./tail-guard.ts";

/** Options of `followLog`. */
export interface FollowLogOptions {
  /** Stops following: the iteration ends. */
  signal?: AbortSignal;
  /**
   * Longest time between two checks of the file, in ms (`fileinterval`). Default 500. With
   * inotify the file is also checked as soon as it changes.
   */
  pollIntervalMs?: number;
  logger?: Logger;
  /** `end` (default): only lines written after the start; `start`: the whole file first. */
  startAt?: "end" | "start";
  /** Longest line kept, in bytes (the rest is dropped, with a warning). Default 1 MiB. */
  maxLineBytes?: number;
  /** Called once the start position is fixed: lines written from now on will be read. */
  onReady?: () => void;
  /** Lines queued before reading pauses (back-pressure). Default 10,000. */
  highWater?: number;
  /**
   * Called each time the path is found not to be a regular file (a FIFO, a device, a
   * directory): it is not opened, and is checked again every `pollIntervalMs` (issue #16).
   */
  onNotRegular?: (kind: string) => void;
}

/** Resolves after `ms`, at once when `signal` aborts, or when `wake` is called (given to it). */
function delay(
  ms: number,
  signal: AbortSignal | undefined,
  setWake: (wake: (() => void) | undefined) => void,
): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      setWake(undefined);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
    setWake(done);
  });
}

function readFailed(path: string, error: unknown): LogSourceError {
  // The OS's reason in the message (EACCES, ENOTDIR, …): the admin reads the log line, not the
  // cause chain.
  const code = errorCode(error);
  const why =
    error instanceof Error && typeof code === "string"
      ? `: ${error.message.startsWith(code) ? "" : `${code}: `}${error.message}`
      : "";
  return new LogSourceError("LOG_READ_FAILED", `cannot follow ${path}${why}`, {
    cause: error,
  });
}

function errorCode(error: unknown): unknown {
  return typeof error === "object" && error !== null && "code" in error
    ? error.code
    : undefined;
}

/**
 * Follows the file at `path` and yields its new lines (see `LogLine.lineNo` for numbering). A
 * file that does not exist yet is waited for (and then read from its start). After a rename the
 * rest of the old file is read first; a partial line left at its end is yielded as a line; after
 * a truncation a partial line is kept and completed by what follows. An I/O error other than the
 * file missing (e.g. EACCES) ends the iteration with a `LogSourceError` `LOG_READ_FAILED`. The
 * file is checked when inotify reports a change, and every `pollIntervalMs`; when it cannot be
 * watched (no inotify, its directory missing, the inotify limit reached) one warning is logged
 * (`source.watch_failed`) and it is only polled. A path that is (or becomes) anything but a
 * regular file (a FIFO, a device) is never opened: each check refuses it (`onNotRegular`, an
 * error `source.not_regular` logged once a minute) and following resumes when a regular file is
 * back, as after a rotation (issue #16).
 * Limit (shared with `tail -F`): a truncation followed, within one poll, by writing more than the
 * old size is seen as an append, and the start of the new content is lost.
 */
export function followLog(
  path: string,
  options: FollowLogOptions = {},
): AsyncIterable<LogLine> {
  const lines: BatchedLines = {
    [Symbol.asyncIterator]: () => startFollowing(path, options),
    [BATCHES]: () => batchIterator(startFollowing(path, options)),
  };
  return lines;
}

function startFollowing(
  path: string,
  options: FollowLogOptions,
): PushQueue<LogLine> {
  const pollMs = options.pollIntervalMs ?? 500;
  const logger = (options.logger ?? noopLogger).child({ source: path });
  const { signal } = options;
  let tail: TailFile | undefined;
  let pollNow: (() => void) | undefined; // checks the current tail's file at once
  let wakeWait: (() => void) | undefined; // ends the wait for a missing file
  let watcher: LogWatch | undefined;
  let stopped = false;
  let lineNo = 0;
  let delivered = 0; // bytes handed to the splitter so far
  // Byte counts at which the stream switches files: bytes before them came from the old file.
  const switches: { at: number; how: "renamed" | "truncated" }[] = [];

  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    signal?.removeEventListener("abort", onAbort);
    watcher?.close();
    watcher = undefined;
    pollNow = undefined;
    queue.end();
    const t = tail;
    tail = undefined;
    // quit() waits for one last poll, which never settles while the file is missing.
    if (t) void t.quit().catch(() => undefined);
    await Promise.resolve();
  };
  const onAbort = (): void => void stop();
  const queue = createPushQueue<LogLine>({
    highWater: options.highWater,
    onPause: () => tail?.pause(),
    onResume: () => tail?.resume(),
    onReturn: stop,
  });
  const splitter = createLineSplitter(
    (text) => queue.push({ text, file: path, lineNo: ++lineNo }),
    {
      maxLineBytes: options.maxLineBytes,
      onOverlong: (bytes) =>
        logger.warn({ event: "source.line_too_long", bytes }, "line cut"),
    },
  );
  // After a rename the old file's partial last line is complete (yielded); after a truncation
  // the writer goes on with it. Either way the new content is numbered from 1.
  const switchFile = (how: "renamed" | "truncated"): void => {
    if (how === "renamed") splitter.flush();
    lineNo = 0;
  };
  const onData = (chunk: Buffer): void => {
    const base = delivered;
    delivered += chunk.length;
    let off = 0;
    for (
      let s = switches[0];
      s !== undefined && s.at <= delivered;
      s = switches[0]
    ) {
      switches.shift();
      const cut = s.at - base;
      if (cut > off) splitter.write(chunk.subarray(off, cut));
      off = Math.max(off, cut);
      switchFile(s.how);
    }
    if (off < chunk.length)
      splitter.write(off === 0 ? chunk : chunk.subarray(off));
  };

  const wire = (t: TailFile): void => {
    t.on("data", onData);
    for (const how of ["renamed", "truncated"] as const) {
      t.on(how, () => {
        logger.info({ event: "source.rotated", how }, `log file ${how}`);
        if (how === "renamed") watcher?.rewatchFile(); // another file now
        // The event comes after the old file's last bytes were pushed; some may still wait in
        // the stream's buffer (paused by back-pressure).
        if (t.readableLength === 0) switchFile(how);
        else switches.push({ at: delivered + t.readableLength, how });
      });
    }
    t.on("retry", () =>
      logger.debug({ event: "source.missing" }, "log file missing, waiting"),
    );
    t.on("tail_error", (error: unknown) =>
      logger.warn(
        { event: "source.error", err: error },
        "log read failed, retrying",
      ),
    );
    t.on("error", (error: unknown) => queue.fail(readFailed(path, error)));
    t.on("end", () => queue.end());
  };

  // Not a regular file at the path: refused at every check, logged once a minute (issue #16).
  const limiter = createRateLimiter({
    clock: systemClock,
    intervalMs: 60_000,
  });
  const refuse = (kind: string): void => {
    options.onNotRegular?.(kind);
    const suppressed = limiter.take("LOG_NOT_REGULAR");
    if (suppressed < 0) return;
    logger.error(
      {
        event: "source.not_regular",
        code: "LOG_NOT_REGULAR",
        kind,
        ...(suppressed > 0 && { suppressed }),
      },
      `the log file is ${kind}, not a regular file: not read, checked again every ${pollMs} ms`,
    );
  };

  let watchFailed = false;
  const onWatchFailed = (error: unknown): void => {
    if (watchFailed) return; // one warning: from now on the file is only polled
    watchFailed = true;
    logger.warn(
      { event: "source.watch_failed", code: errorCode(error), err: error },
      `cannot watch the log file (inotify): it is read every ${pollMs} ms`,
    );
  };

  const run = async (): Promise<void> => {
    // Loaded when a follower starts: a replay or a command source never needs it (7 ms).
    const { default: Tail } = await import("@logdna/tail-file");
    if (stopped) return;
    // Before the start position is fixed: no change after it goes unnoticed.
    watcher = watchLog(
      path,
      () => {
        pollNow?.();
        wakeWait?.();
      },
      onWatchFailed,
    );
    let startPos = options.startAt === "start" ? 0 : undefined;
    let ready = false;
    while (!stopped) {
      const t = new Tail(path, {
        pollFileIntervalMs: pollMs,
        pollFailureRetryMs: pollMs,
        maxPollFailures: Infinity, // a deleted log may come back at any time
        startPos,
        readStreamOpts: { fs: readStreamFs(path, refuse) },
      });
      guardRegular(t, path, pollMs, refuse); // before addPollNow: it wraps the guarded check
      pollNow = addPollNow(t);
      if (pollNow === undefined) {
        watcher?.close();
        onWatchFailed(new Error("@logdna/tail-file cannot check at once"));
      }
      wire(t);
      tail = t;
      try {
        await t.start();
      } catch (error) {
        t.removeAllListeners();
        t.destroy();
        tail = undefined;
        pollNow = undefined;
        // Missing, or refused as not a regular file (tail-guard.ts): waited for.
        if (errorCode(error) !== "ENOENT") throw error;
        if (!ready) options.onReady?.();
        ready = true;
        startPos = 0; // when it appears, all of it is new
        await delay(pollMs, signal, (wake) => (wakeWait = wake));
        continue;
      }
      if (startPos === 0) watcher?.rewatchFile(); // it was missing until now
      if (!ready) options.onReady?.();
      return;
    }
  };

  if (signal?.aborted) void stop();
  else {
    signal?.addEventListener("abort", onAbort, { once: true });
    run().catch((error: unknown) => queue.fail(readFailed(path, error)));
  }
  return queue;
}
