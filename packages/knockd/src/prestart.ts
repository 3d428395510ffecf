/**
 * `knockd -replay`: the replay's worker threads are started before the daemon's own modules
 * load (bin/knockd.js imports this small module first), so they boot on the other cores while
 * this one loads and checks the config — instead of after, while the replay waits.
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";

const started = new Set<Worker>();

/** Whether `argv` asks for a replay (`-replay FILE`, `--replay=FILE`). */
function asksReplay(argv: readonly string[]): boolean {
  return argv.some((a) => /^--?replay(=|$)/.test(a));
}

/**
 * Starts one replay worker per other core (at most 3) when `argv` asks for a replay. They wait
 * for their job and do not keep the process alive; a worker that exits is forgotten.
 */
export function prestartReplayWorkers(argv: readonly string[]): void {
  if (!asksReplay(argv)) return;
  const n = Math.min(availableParallelism() - 1, 3);
  for (let k = 0; k < n; k++) {
    let w: Worker;
    try {
      w = new Worker(
        new URL(import.meta.resolve("@portknock/logsource/replay-worker")),
        { resourceLimits: { maxYoungGenerationSizeMb: 2 } },
      );
    } catch {
      return; // the replay starts its own, or parses alone
    }
    w.unref();
    started.add(w);
    const forget = (): void => void started.delete(w);
    w.once("exit", forget);
    w.once("error", forget);
  }
}

/** The workers started and still running, handed over once (the caller owns them). */
export function takeReplayWorkers(): Worker[] {
  const ws = [...started];
  started.clear();
  return ws;
}

/** Stops the workers nobody took (a replay of a .pcap file, an error before the replay). */
export async function stopReplayWorkers(): Promise<void> {
  await Promise.all(takeReplayWorkers().map((w) => w.terminate()));
}
