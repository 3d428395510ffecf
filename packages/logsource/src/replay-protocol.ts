/**
 * What the replay's threads share (`replay-blocks.ts` on the main thread, `replay-worker.ts` in
 * each worker, `prestart-replay.ts` before the replay): the worker script and how a worker is
 * started, the control array, the block size, how far ahead a worker may go and how many
 * workers a replay runs. Nothing outside this package knows any of it.
 */
import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import type { CompiledLogFormat } from "./log-format.ts";
import { packageFile } from "./package-file.ts";

/** Bytes per block. */
export const BLOCK_BYTES: number = 1024 * 1024;

/** Blocks a worker may parse ahead of the main thread (memory: a few MiB of columns each). */
export const REPLAY_WINDOW = 8;

/**
 * Blocks a prestarted worker parses before the replay starts (held cut to size: ~1.5 MiB for 16
 * blocks of a log of hits only; at 48, 1,000,000 spoofed sources peaked at 100 MiB).
 */
export const SPECULATION_WINDOW = 16;

/**
 * Worker threads for a replay of `blocks` blocks: one per other core, at most 3, and never more
 * than the blocks besides one for the main thread.
 */
export function replayWorkerCount(blocks: number): number {
  return Math.max(0, Math.min(availableParallelism() - 1, 3, blocks - 1));
}

/**
 * The worker script, `dist/replay-worker.js`, or undefined when it is not built (tests run the
 * sources, with the built worker; CI builds first, and a test holds that it is found).
 */
export function workerScript(): string | undefined {
  try {
    const script = packageFile("replay-worker.js");
    return existsSync(script) ? script : undefined;
  } catch {
    return undefined;
  }
}

/** What a worker is given. */
export interface ReplayWorkerData {
  path: string;
  size: number;
  blocks: number;
  blockBytes: number;
  format: CompiledLogFormat;
  /** See `controlFor`. */
  control: SharedArrayBuffer;
  /** This worker's index among the per-worker entries of `control`. */
  slot: number;
  window: number;
  /** 0 when the job takes over the worker's speculation, else 1. */
  epoch: number;
}

/** A worker's speculation: the replay it starts on before its job comes (replay-worker.ts). */
export interface ReplaySpeculation {
  path: string;
  size: number;
  blockBytes: number;
  control: SharedArrayBuffer;
  slot: number;
  window: number;
}

/**
 * Workers started ahead (`prestartReplay`), each with `workerData: { speculate }` (all the same
 * but `slot`: 0, 1, …) or none.
 */
export interface StartedReplayWorkers {
  /** By slot; a worker that exited leaves its slot undefined. */
  readonly workers: readonly (Worker | undefined)[];
  readonly speculation?: Omit<ReplaySpeculation, "slot">;
}

/**
 * A control array for `n` workers: Int32 [next block to claim, blocks handed on by the main
 * thread, then per worker the block it is on or -1].
 */
export function controlFor(n: number): SharedArrayBuffer {
  const control = new SharedArrayBuffer(4 * (2 + n));
  new Int32Array(control).fill(-1, 2);
  return control;
}

/**
 * A replay worker on `script`, with its job, or a speculation, or neither (then it waits for its
 * job as a message). A small young generation: a worker's garbage is texts that die at once.
 */
export function startReplayWorker(
  script: string | URL,
  data?: { job: ReplayWorkerData } | { speculate: ReplaySpeculation },
): Worker {
  return new Worker(script, {
    ...(data !== undefined ? { workerData: data } : {}),
    resourceLimits: { maxYoungGenerationSizeMb: 2 },
  });
}
