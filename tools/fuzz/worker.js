// One fuzz target in a worker thread: runs cases from `start` until the deadline, publishing the
// case it is on in shared memory (a hang is seen by the main thread, which ends this thread).
import { parentPort, workerData } from "node:worker_threads";
import { Finding, TARGETS } from "./targets.js";

const { target, seed, start, deadline, progress } = workerData;
const t = TARGETS[target];
const state = await t.setup();
const cell = new Int32Array(progress);
parentPort.postMessage({ kind: "ready" }); // the watchdog starts now: loading is no hang
let i = start;
for (; Date.now() < deadline; i++) {
  Atomics.store(cell, 0, i);
  const input = t.input(state, seed, i);
  try {
    await t.run(input, state);
  } catch (e) {
    parentPort.postMessage({
      kind: e instanceof Finding ? "finding" : "crash",
      i,
      error: e instanceof Error ? (e.stack ?? e.message) : String(e),
    });
  }
  Atomics.store(cell, 1, i - start + 1);
}
await t.cleanup?.(state);
parentPort.postMessage({ kind: "done", next: i });
