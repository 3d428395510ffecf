/**
 * `knockd -replay` of a log file on every core: the file is cut into blocks of whole lines
 * (`read-block.ts`), which the main thread and worker threads parse — whoever is free takes the
 * next block — and the main thread hands on in file order, where block line numbers become file
 * line numbers.
 */
import { closeSync, fstatSync } from "node:fs";
import { resolve } from "node:path";
import type { Worker } from "node:worker_threads";
import type { CompiledLogFormat } from "./log-format.ts";
import type { BlockResult } from "./block-result.ts";
import { columnBuffers, recycle } from "./block-result.ts";
import { openRegularSync } from "./open-regular.ts";
import { parseBlock } from "./read-block.ts";
import type {
  ReplayWorkerData,
  StartedReplayWorkers,
} from "./replay-protocol.ts";
import {
  BLOCK_BYTES,
  REPLAY_WINDOW,
  controlFor,
  replayWorkerCount,
  startReplayWorker,
  workerScript,
} from "./replay-protocol.ts";

/** Who parsed the blocks handed on so far. */
export interface BlockReplayCounts {
  /** Blocks handed on. */
  blocks: number;
  /** Of those, parsed by a worker thread. */
  byWorkers: number;
  /** Of those, parsed by a prestarted worker before the replay took it over. */
  takenOver: number;
  /** Prestarted workers taken over with their speculation (this file, this format). */
  workersTakenOver: number;
}

/** The blocks of a file, in order, parsed by this thread and `workers` worker threads. */
export interface BlockReplay {
  /** The next block in file order, or undefined after the last. */
  next(): Promise<BlockResult | undefined>;
  /** The open file (to read a hit's line again). */
  readonly fd: number;
  /** Live counters. */
  readonly counts: BlockReplayCounts;
  close(): Promise<void>;
}

/**
 * Starts replaying `path` (opened now: `ENOENT` and the like throw; anything but a regular file
 * is a `LogSourceError` `LOG_NOT_REGULAR`, never a blocked open or an endless read) with `workers` worker
 * threads: a number to start, "auto" (`replayWorkerCount`), or workers already started (the
 * replay owns them from now on). `blockBytes`: default the speculation's, else 1 MiB.
 * Their speculation is taken over when it is this replay: the same file (same size, same
 * blocks) with the built-in format.
 */
export function createBlockReplay(
  path: string,
  format: CompiledLogFormat,
  workers: number | "auto" | StartedReplayWorkers,
  blockBytes?: number,
): BlockReplay {
  const fd = openRegularSync(path);
  const size = fstatSync(fd).size;
  const slots = typeof workers === "object" ? workers.workers : [];
  const spec = typeof workers === "object" ? workers.speculation : undefined;
  const bytes = blockBytes ?? spec?.blockBytes ?? BLOCK_BYTES;
  const blocks = Math.ceil(size / bytes);
  const takeOver =
    spec !== undefined &&
    resolve(spec.path) === resolve(path) &&
    spec.size === size &&
    spec.blockBytes === bytes &&
    format.builtin === "iptables";
  // Workers that speculated on this replay keep their blocks (and all of them are kept);
  // otherwise their blocks are void, and a fresh control array starts from block 0.
  const epoch = takeOver ? 0 : 1;
  // Taken over: each worker keeps its slot. Otherwise the running ones, renumbered.
  const given = takeOver
    ? [...slots]
    : slots.filter((w): w is Worker => w !== undefined);
  const wantedWorkers = takeOver
    ? given.length
    : Math.min(
        workers === "auto"
          ? replayWorkerCount(blocks)
          : typeof workers === "number"
            ? workers
            : given.length,
        blocks - 1,
      );
  for (const w of given.splice(wantedWorkers)) void w?.terminate();
  const control = takeOver ? spec.control : controlFor(wantedWorkers);
  const ctl = new Int32Array(control);
  const results = new Map<number, BlockResult>();
  // Once a worker has died (or a speculating one is missing), the blocks it had taken may never
  // come: a block not here and that no live worker is on is parsed here (a copy that still
  // comes is ignored).
  let degraded = false;
  const slotOf = new Map<Worker, number>();
  const someoneOn = (b: number): boolean => {
    for (const slot of slotOf.values()) {
      if (Atomics.load(ctl, 2 + slot) === b) return true;
    }
    return false;
  };
  let wanted = 0; // the next block to hand on
  let wake: (() => void) | undefined;
  const live = new Set<Worker>();
  const from = new Map<number, Worker>(); // the worker that parsed a block, if one did
  const counts: BlockReplayCounts = {
    blocks: 0,
    byWorkers: 0,
    takenOver: 0,
    workersTakenOver: 0,
  };
  const script = wantedWorkers > given.length ? workerScript() : undefined;
  for (let k = 0; k < wantedWorkers; k++) {
    const data: ReplayWorkerData = {
      path,
      size,
      blocks,
      blockBytes: bytes,
      format,
      control,
      slot: k,
      window: REPLAY_WINDOW,
      epoch,
    };
    let w: Worker;
    try {
      if (k < given.length) {
        const g = given[k];
        if (g === undefined) {
          degraded = true; // a speculating worker that exited, with whatever it had done
          continue;
        }
        w = g;
        w.postMessage(data);
        w.ref();
        if (takeOver) counts.workersTakenOver++;
      } else if (script !== undefined) {
        w = startReplayWorker(script, { job: data });
      } else break;
    } catch {
      // A format that cannot be cloned, no threads left: this thread parses alone.
      for (const rest of given.slice(k)) void rest?.terminate();
      break;
    }
    live.add(w);
    slotOf.set(w, k);
    w.on("message", (r: BlockResult) => {
      if (r.epoch !== epoch) return; // a speculation not taken over
      if (r.block >= wanted && !results.has(r.block)) {
        results.set(r.block, r);
        from.set(r.block, w);
      }
      wake?.();
    });
    // A worker that fails loses nothing: what it had taken is parsed here.
    const gone = (): void => {
      if (!live.delete(w)) return;
      slotOf.delete(w);
      degraded = true;
      wake?.();
    };
    w.on("error", gone);
    w.on("exit", gone);
  }
  let closed = false;
  let last: BlockResult | undefined; // handed on by the previous call
  const handOn = (r: BlockResult): BlockResult => {
    last = r;
    counts.blocks++;
    if (from.has(r.block)) counts.byWorkers++;
    if (r.ahead) counts.takenOver++;
    results.delete(wanted);
    wanted++;
    Atomics.store(ctl, 1, wanted);
    Atomics.notify(ctl, 1);
    return r;
  };
  return {
    fd,
    counts,
    async next(): Promise<BlockResult | undefined> {
      if (last !== undefined) {
        // The caller is done with it: its columns go back to the thread that filled them.
        const w = from.get(last.block);
        from.delete(last.block);
        if (w === undefined) recycle(last);
        else if (live.has(w)) w.postMessage(last, columnBuffers(last));
        last = undefined;
      }
      for (;;) {
        if (closed || wanted >= blocks) return undefined;
        const ready = results.get(wanted);
        if (ready !== undefined) return handOn(ready);
        if (live.size === 0 || (degraded && !someoneOn(wanted))) {
          // No worker (left), or a worker died and no live one is on it: parse it here.
          return handOn(parseBlock(fd, size, wanted, bytes, format));
        }
        const b = Atomics.add(ctl, 0, 1);
        if (b < blocks) {
          results.set(b, parseBlock(fd, size, b, bytes, format));
          // Let the workers' finished blocks in before looking again.
          await new Promise<void>((r) => setImmediate(r));
          continue;
        }
        await new Promise<void>((r) => {
          wake = r;
        });
        wake = undefined;
      }
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      results.clear();
      await Promise.all([...live].map((w) => w.terminate()));
      closeSync(fd);
    },
  };
}
