/**
 * A worker thread of `createBlockReplay`: takes the next block not taken yet, parses it and
 * posts the result, until no block is left. It stays at most `window` blocks ahead of the main
 * thread's hand-on, so the results waiting there stay a few MiB, and keeps the block it is on in
 * its slot of the control array (a worker that dies loses nothing: the main thread parses it).
 *
 * Its job comes as `workerData.job`, or as a message when the worker was started ahead of the
 * replay (`prestart-replay.ts`, loading while the caller starts up). Started
 * with `workerData.speculate`, it parses that file with the built-in format until the job comes:
 * if the job is that replay (same file and size, the built-in format), the blocks done count;
 * otherwise the job brings its own control array and they are dropped.
 */
import { closeSync } from "node:fs";
import { openRegularSync } from "./open-regular.ts";
import {
  parentPort,
  receiveMessageOnPort,
  workerData,
} from "node:worker_threads";
import { compiledIptablesFormat } from "./builtin-iptables.ts";
import type { BlockResult } from "./block-result.ts";
import { columnBuffers, recycle } from "./block-result.ts";
import { parseBlock } from "./read-block.ts";
import type { ReplaySpeculation, ReplayWorkerData } from "./replay-protocol.ts";

const port = parentPort!;
const init = workerData as {
  job?: ReplayWorkerData;
  speculate?: ReplaySpeculation;
} | null;
let job = init?.job;

/** Takes the messages waiting: columns to reuse, or the job. */
function drain(): void {
  for (let m = receiveMessageOnPort(port); m !== undefined;) {
    const msg = m.message as ReplayWorkerData | BlockResult;
    if ("control" in msg) job = msg;
    else recycle(msg);
    m = receiveMessageOnPort(port);
  }
}

interface Run {
  ctl: Int32Array;
  slot: number;
  window: number;
  /** Returns true to stop before the next block. */
  stop(): boolean;
}

/**
 * Claims, parses and posts blocks until none is left or `run.stop()`; `first` is a block
 * already claimed. Returns a block claimed but not parsed (when stopped), or -1.
 */
function work(
  run: Run,
  fd: number,
  size: number,
  blockBytes: number,
  format: ReplayWorkerData["format"],
  post: (r: BlockResult) => void,
  first = -1,
): number {
  const { ctl, slot, window } = run;
  const blocks = Math.ceil(size / blockBytes);
  for (let b = first; ; b = -1) {
    if (b < 0) {
      if (run.stop()) return -1;
      b = Atomics.add(ctl, 0, 1);
      if (b >= blocks) return -1;
    }
    Atomics.store(ctl, 2 + slot, b);
    for (let c = Atomics.load(ctl, 1); b - c > window;) {
      if (run.stop()) return b;
      Atomics.wait(ctl, 1, c, 20);
      c = Atomics.load(ctl, 1);
    }
    drain();
    post(parseBlock(fd, size, b, blockBytes, format));
    Atomics.store(ctl, 2 + slot, -1);
  }
}

/** A copy of `r` with columns of its length. */
function trimmed(r: BlockResult): BlockResult {
  const n = r.length;
  return {
    ...r,
    v4: r.v4.slice(0, n),
    dstPort: r.dstPort.slice(0, n),
    srcPort: r.srcPort.slice(0, n),
    lineNo: r.lineNo.slice(0, n),
    offset: r.offset.slice(0, n),
    bytes: r.bytes.slice(0, n),
  };
}

let pending = -1; // claimed while speculating, not parsed
// Blocks parsed while speculating, held until the job says whether they count (a message
// posted before the main thread listens would be lost).
const held: BlockResult[] = [];
const spec = init?.speculate;
if (job === undefined && spec !== undefined) {
  // Not a regular file (replaced since the stat): the worker fails, the replay goes on without it.
  const fd = openRegularSync(spec.path);
  try {
    pending = work(
      {
        ctl: new Int32Array(spec.control),
        slot: spec.slot,
        window: spec.window,
        stop: (): boolean => {
          drain();
          return job !== undefined;
        },
      },
      fd,
      spec.size,
      spec.blockBytes,
      compiledIptablesFormat(),
      (r) => {
        // Held a while: cut to their length, the full-size columns back to the pool.
        held.push({ ...trimmed(r), ahead: true });
        recycle(r);
      },
    );
  } finally {
    closeSync(fd);
  }
}
while (job === undefined) {
  await new Promise<void>((resolve) => {
    port.once("message", (msg: ReplayWorkerData | BlockResult) => {
      if ("control" in msg) job = msg;
      else recycle(msg);
      resolve();
    });
  });
}
const data: ReplayWorkerData = job;
// A `<logformat>` block's regexes come as their sources (the linear-time engine's compiled form
// is not cloned): compiled again here, the engine loaded only then.
if (data.format.builtin === undefined) {
  const { reviveLogFormat } = await import("./revive-format.ts");
  data.format = reviveLogFormat(data.format);
}
const post = (r: BlockResult): void => {
  r.epoch = data.epoch;
  port.postMessage(r, columnBuffers(r));
};
for (const r of held) {
  if (data.epoch === 0) post(r);
  else recycle(r);
}
held.length = 0;
const fd = openRegularSync(data.path);
try {
  work(
    {
      ctl: new Int32Array(data.control),
      slot: data.slot,
      window: data.window,
      stop: (): boolean => false,
    },
    fd,
    data.size,
    data.blockBytes,
    data.format,
    post,
    // A block claimed while speculating is this job's when the job took the speculation over.
    data.epoch === 0 ? pending : -1,
  );
} finally {
  closeSync(fd);
}
