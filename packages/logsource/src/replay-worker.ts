/**
 * A worker thread of `createBlockReplay`: takes the next block not taken yet, parses it and
 * posts the result, until no block is left. It stays at most `window` blocks ahead of the
 * main thread's hand-on, so the results waiting there stay a few MiB. Its job comes as
 * `workerData`, or as the first message when the worker was started ahead of the replay
 * (`@portknock/logsource/replay-worker`: it loads while the caller starts up).
 */
import { closeSync, openSync } from "node:fs";
import {
  parentPort,
  receiveMessageOnPort,
  workerData,
} from "node:worker_threads";
import type { BlockResult } from "./read-block.ts";
import { columnBuffers, parseBlock, recycle } from "./read-block.ts";
import type { ReplayWorkerData } from "./replay-blocks.ts";

const port = parentPort!;
const data =
  (workerData as ReplayWorkerData | null) ??
  (await new Promise<ReplayWorkerData>((resolve) => {
    port.once("message", resolve);
  }));
const ctl = new Int32Array(data.control);
const fd = openSync(data.path, "r");
try {
  for (;;) {
    const b = Atomics.add(ctl, 0, 1);
    if (b >= data.blocks) break;
    for (let c = Atomics.load(ctl, 1); b - c > data.window;) {
      Atomics.wait(ctl, 1, c, 100);
      c = Atomics.load(ctl, 1);
    }
    // Columns the main thread is done with, for reuse.
    for (let m = receiveMessageOnPort(port); m !== undefined;) {
      recycle(m.message as BlockResult);
      m = receiveMessageOnPort(port);
    }
    const r = parseBlock(fd, data.size, b, data.blockBytes, data.format);
    port.postMessage(r, columnBuffers(r));
  }
} finally {
  closeSync(fd);
}
