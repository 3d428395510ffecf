/**
 * The file-backed `StateStore` (spec: daemon.md §6–7; STYLE.md §6). State, pending delayed
 * actions and extras live in memory and are written to `statefile` atomically after each change,
 * at most once per `coalesceMs` (100 ms). `flush()` resolves once everything changed so far is on
 * disk: a change acknowledged after `flush()` survives `kill -9` at any later moment.
 */
import { readFile, rename, stat } from "node:fs/promises";
import type { Diagnostic, Logger } from "@portknock/core";
import { noopLogger } from "@portknock/core";
import { removeStaleTempFiles, writeFileAtomic } from "./atomic-write.ts";
import type { Clock, TimerHandle, Timers } from "@portknock/core";
import { systemClock, systemTimers } from "@portknock/core";
import { StoreError } from "./errors.ts";
import type { StateData } from "./state-data.ts";
import { createStateData } from "./state-data.ts";
import { decodeStateFile, encodeStateFile } from "./state-file-format.ts";
import type { StateStore } from "./state-store.ts";
import { createStoreOver } from "./state-store.ts";
import { lockStateFile } from "./state-lock.ts";

/** Options of `createFileStore`. */
export interface FileStoreOptions {
  /** Time source for coalescing and the corrupt-file name. Default `systemClock`. */
  clock?: Clock;
  /** Timers for coalesced writes. Default `systemTimers`. */
  timers?: Timers;
  logger?: Logger;
  /** Least time between two writes, in ms. Default 100. */
  coalesceMs?: number;
  /** Wait after a failed write before retrying in the background, in ms. Default 1000. */
  retryMs?: number;
  /**
   * Hold the statefile's lock (`lockStateFile`) while open, so that a second process on the
   * same file fails with `STORE_LOCKED` instead of sharing it. Default true.
   */
  lock?: boolean;
}

/** Write counters of a file store. */
export interface FileStoreStats {
  writes: number;
  writeFailures: number;
}

/** A `StateStore` persisted to a file. */
export interface FileStateStore extends StateStore {
  readonly path: string;
  /** Findings from loading: a corrupt file moved aside (error), dropped entries (warnings). */
  readonly diagnostics: readonly Diagnostic[];
  readonly stats: Readonly<FileStoreStats>;
}

/**
 * Opens (or creates on first write) the statefile at `path`. A missing file is an empty store.
 * A corrupt file is renamed to `path.corrupt-<ISO time>`, reported as a `STORE_CORRUPT` error
 * diagnostic and logged, and the store starts empty. Temp files left by a crashed writer are
 * removed. Rejects with `StoreError` `STORE_READ_FAILED` when the file exists but cannot be read.
 */
export async function createFileStore(
  path: string,
  options: FileStoreOptions = {},
): Promise<FileStateStore> {
  const clock = options.clock ?? systemClock;
  const timers = options.timers ?? systemTimers;
  const logger = options.logger ?? noopLogger;
  const coalesceMs = options.coalesceMs ?? 100;
  const retryMs = options.retryMs ?? 1000;
  if (!(coalesceMs >= 0) || !(retryMs >= 0)) {
    throw new RangeError(
      `coalesceMs and retryMs must be ≥ 0, got ${coalesceMs} and ${retryMs}`,
    );
  }
  // First the lock: a second process must not even remove the first one's temp files.
  const lock = options.lock === false ? undefined : await lockStateFile(path);
  let data: StateData;
  const diagnostics: Diagnostic[] = [];
  try {
    await removeStaleTempFiles(path);
    data = await loadData(path, clock, logger, diagnostics);
  } catch (error) {
    await lock?.release();
    throw error;
  }

  const stats: FileStoreStats = { writes: 0, writeFailures: 0 };
  let seq = 0;
  let durableSeq = 0;
  let timer: TimerHandle = undefined;
  let writing: Promise<boolean> | undefined;
  let lastWriteMs = -Infinity;
  let lastFailureMs = -Infinity;
  let lastError: unknown;
  let failuresInARow = 0;
  let finished = false;

  const cancelTimer = (): void => {
    if (timer !== undefined) timers.clearTimeout(timer);
    timer = undefined;
  };
  const schedule = (): void => {
    if (timer !== undefined || writing || finished || durableSeq >= seq) return;
    const now = clock.now();
    const delay = Math.max(
      0,
      lastWriteMs + coalesceMs - now,
      lastFailureMs + retryMs - now,
    );
    timer = timers.setTimeout(() => {
      timer = undefined;
      void writeNow();
    }, delay);
  };
  const writeNow = (): Promise<boolean> => {
    if (writing) return writing;
    const target = seq;
    lastWriteMs = clock.now();
    const text = encodeStateFile(data, lastWriteMs);
    writing = writeFileAtomic(path, text).then(
      () => {
        stats.writes++;
        durableSeq = Math.max(durableSeq, target);
        if (failuresInARow > 0) {
          logger.info(
            {
              event: "store.write_resumed",
              file: path,
              failed: failuresInARow,
            },
            `statefile ${path} written again after ${failuresInARow} failed writes`,
          );
          failuresInARow = 0;
        }
        return true;
      },
      (error: unknown) => {
        stats.writeFailures++;
        lastError = error;
        lastFailureMs = clock.now();
        // One line when writes start failing (a full disk retries every retryMs), one when
        // they work again.
        if (failuresInARow++ === 0) {
          logger.error(
            {
              event: "store.write_failed",
              code: "STORE_WRITE_FAILED",
              file: path,
              reason: reasonOf(error),
            },
            `cannot write statefile ${path}: ${reasonOf(error)} (retrying every ${retryMs} ms)`,
          );
        }
        return false;
      },
    );
    void writing.then(() => {
      writing = undefined;
      schedule();
    });
    return writing;
  };
  const flush = async (): Promise<void> => {
    const target = seq;
    while (durableSeq < target) {
      if (writing) {
        await writing;
        continue;
      }
      cancelTimer();
      if (!(await writeNow())) {
        throw new StoreError(
          "STORE_WRITE_FAILED",
          `cannot write statefile ${path}`,
          {
            cause: lastError,
          },
        );
      }
    }
  };

  const store = createStoreOver(data, {
    changed(): void {
      seq++;
      schedule();
    },
    flush,
    async close(): Promise<void> {
      finished = true;
      cancelTimer();
      await lock?.release();
    },
  });
  return Object.assign(store, { path, diagnostics, stats });
}

async function loadData(
  path: string,
  clock: Clock,
  logger: Logger,
  diagnostics: Diagnostic[],
): Promise<StateData> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT")
      return createStateData();
    throw new StoreError("STORE_READ_FAILED", `cannot read statefile ${path}`, {
      cause: error,
    });
  }
  const where = { kind: "config" as const, file: path, line: 1 };
  const decoded = decodeStateFile(text);
  if (decoded.ok) {
    for (const problem of decoded.dropped) {
      diagnostics.push({
        code: "STORE_CORRUPT",
        severity: "warning",
        message: `statefile ${problem}: entry dropped`,
        where,
      });
    }
    return decoded.data;
  }
  const aside = await moveAside(path, clock.now());
  const message = `statefile is corrupt (${decoded.reason}); moved aside to ${aside}; starting with empty state`;
  diagnostics.push({
    code: "STORE_CORRUPT",
    severity: "error",
    message,
    where,
  });
  logger.error(
    { event: "store.corrupt", code: "STORE_CORRUPT", file: path, aside },
    message,
  );
  return createStateData();
}

async function moveAside(path: string, nowMs: number): Promise<string> {
  const stamp = new Date(nowMs).toISOString().replace(/[:.]/g, "-");
  for (let n = 0; ; n++) {
    const target = `${path}.corrupt-${stamp}${n === 0 ? "" : `-${n}`}`;
    const exists = await stat(target).then(
      () => true,
      () => false,
    );
    if (exists) continue;
    try {
      await rename(path, target);
      return target;
    } catch (error) {
      throw new StoreError(
        "STORE_CORRUPT",
        `cannot move corrupt statefile ${path} aside`,
        {
          cause: error,
        },
      );
    }
  }
}

/** An I/O error as one phrase: `ENOSPC: no space left on device, write`. */
function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
