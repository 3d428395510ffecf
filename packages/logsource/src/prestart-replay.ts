/**
 * Replay workers started ahead: a program that will replay a file (`knockd -replay FILE`) starts
 * them before it loads the rest of itself and its config, so they boot on the other cores
 * meanwhile and start on the file at once with the built-in format (the usual config). The
 * replay (`createLogHitSource({ replay: true, replayWorkers: prestarted })`) takes them over, and
 * the blocks they did when it replays that file with that format; otherwise it starts them over.
 */
import { statSync } from "node:fs";
import { resolve } from "node:path";
import type { Worker } from "node:worker_threads";
import type {
  ReplaySpeculation,
  StartedReplayWorkers,
} from "./replay-protocol.ts";
import {
  BLOCK_BYTES,
  SPECULATION_WINDOW,
  controlFor,
  replayWorkerCount,
  startReplayWorker,
  workerScript,
} from "./replay-protocol.ts";

/** Options of `prestartReplay`. */
export interface PrestartReplayOptions {
  /** Worker threads to start. Default: one per other core, at most 3 (as the replay's "auto"). */
  workers?: number;
  /** Bytes per block; the replay must use the same to take the blocks over. Default 1 MiB. */
  blockBytes?: number;
}

/** Workers started ahead on one file (`prestartReplay`), until a replay takes them. */
export interface PrestartedReplay {
  /** The file, resolved. */
  readonly path: string;
  /** Bytes per block (the replay's default when it is given these workers). */
  readonly blockBytes: number;
  /** Worker threads started: 0 for a file of one block, not a regular file, or one core. */
  readonly workers: number;
  /** Blocks the workers have claimed so far (parsed, or being parsed). */
  blocksClaimed(): number;
  /**
   * Hands the running workers over, once; undefined after that or when none is running.
   * `createLogHitSource` calls it (internal: the protocol is this package's).
   */
  take(): StartedReplayWorkers | undefined;
  /** Stops the workers nobody took over (idempotent; after `take` it does nothing). */
  close(): Promise<void>;
}

/**
 * Starts worker threads on `path` ahead of its replay (see `PrestartedReplay`); they do not keep
 * the process alive, and a worker that exits is forgotten. Starts none (`workers: 0`) when the
 * file cannot be read (the replay reports it), is not a regular file or is one block long, or
 * when the worker script is not built. Never throws.
 */
export function prestartReplay(
  path: string,
  options: PrestartReplayOptions = {},
): PrestartedReplay {
  const blockBytes = options.blockBytes ?? BLOCK_BYTES;
  const file = resolve(path);
  let size = 0;
  try {
    const st = statSync(file, { bigint: true }); // bigint: see isRegularOrMissing
    if (st.isFile()) size = Number(st.size);
  } catch {
    // not a file we can read: the replay reports it
  }
  const blocks = Math.ceil(size / blockBytes);
  const n = blocks > 1 ? (options.workers ?? replayWorkerCount(blocks)) : 0;
  const script = n > 0 ? workerScript() : undefined;
  const speculation: Omit<ReplaySpeculation, "slot"> = {
    path: file,
    size,
    blockBytes,
    control: controlFor(n),
    window: SPECULATION_WINDOW,
  };
  let started: (Worker | undefined)[] = [];
  for (let slot = 0; script !== undefined && slot < n; slot++) {
    let w: Worker;
    try {
      w = startReplayWorker(script, { speculate: { ...speculation, slot } });
    } catch {
      break; // the replay starts its own, or parses alone
    }
    w.unref();
    const list = started;
    list[slot] = w;
    const forget = (): void => {
      if (list[slot] === w) list[slot] = undefined;
    };
    w.once("exit", forget);
    w.once("error", forget);
  }
  const ctl = new Int32Array(speculation.control);
  return {
    path: file,
    blockBytes,
    workers: started.length,
    blocksClaimed: (): number => Math.min(Atomics.load(ctl, 0), blocks),
    take(): StartedReplayWorkers | undefined {
      const workers = started;
      started = [];
      if (!workers.some((w) => w !== undefined)) return undefined;
      return { workers, speculation };
    },
    async close(): Promise<void> {
      const workers = started;
      started = [];
      await Promise.all(
        workers.filter((w) => w !== undefined).map((w) => w.terminate()),
      );
    },
  };
}
