/**
 * `knockd -replay`: the replay's worker threads are started before the daemon's own modules
 * load (bin/knockd.js imports this small module first), so they boot on the other cores while
 * this one loads and checks the config — and start on the file right away, with the built-in
 * format (the usual config). When the config turns out to replay that file with that format,
 * the blocks they did count; otherwise the replay starts them over (`createBlockReplay`).
 */
import { statSync } from "node:fs";
import { availableParallelism } from "node:os";
import { resolve } from "node:path";
import { Worker } from "node:worker_threads";
import type {
  ReplaySpeculation,
  StartedReplayWorkers,
} from "@portknock/logsource";

/** Bytes per replay block (given to the replay too, so the speculation matches). */
export const REPLAY_BLOCK_BYTES: number = 1024 * 1024;
/**
 * Blocks a worker parses before the replay starts (held cut to size: ~1.5 MiB for 16 blocks of
 * a log of hits only; at 48, 1,000,000 spoofed sources peaked at 100 MiB).
 */
const WINDOW = 16;

/** The workers started, by slot (undefined once exited). */
let started: (Worker | undefined)[] = [];
let speculation: Omit<ReplaySpeculation, "slot"> | undefined;

/** The file `argv` asks to replay (`-replay FILE`, `--replay=FILE`), if any. */
function replayFile(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const m = /^--?replay(?:=(.*))?$/.exec(argv[i]!);
    if (m !== null) return m[1] ?? argv[i + 1];
  }
  return undefined;
}

/**
 * Starts one replay worker per other core (at most 3) when `argv` asks for a replay. They do
 * not keep the process alive; a worker that exits is forgotten.
 */
export function prestartReplayWorkers(argv: readonly string[]): void {
  const file = replayFile(argv);
  if (file === undefined) return;
  const n = Math.min(availableParallelism() - 1, 3);
  if (n < 1) return;
  try {
    const size = statSync(file).size;
    if (size > REPLAY_BLOCK_BYTES) {
      const control = new SharedArrayBuffer(4 * (2 + n));
      new Int32Array(control).fill(-1, 2);
      speculation = {
        path: resolve(file),
        size,
        blockBytes: REPLAY_BLOCK_BYTES,
        control,
        window: WINDOW,
      };
    }
  } catch {
    // not a file we can read: the replay reports it
  }
  for (let slot = 0; slot < n; slot++) {
    let w: Worker;
    try {
      w = new Worker(
        new URL(import.meta.resolve("@portknock/logsource/replay-worker")),
        {
          ...(speculation !== undefined
            ? { workerData: { speculate: { ...speculation, slot } } }
            : {}),
          resourceLimits: { maxYoungGenerationSizeMb: 2 },
        },
      );
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
}

/**
 * The workers started, by slot, handed over once (the caller owns them), or undefined when
 * none is running. A worker that exited leaves its slot empty (the block it was on, if any,
 * is parsed by the replay).
 */
export function takeReplayWorkers(): StartedReplayWorkers | undefined {
  const workers = started;
  started = [];
  if (!workers.some((w) => w !== undefined)) return undefined;
  const s = speculation;
  speculation = undefined;
  return s !== undefined ? { workers, speculation: s } : { workers };
}

/** Stops the workers nobody took (a replay of a .pcap file, an error before the replay). */
export async function stopReplayWorkers(): Promise<void> {
  const ws = started;
  started = [];
  await Promise.all(
    ws.filter((w) => w !== undefined).map((w) => w.terminate()),
  );
}
