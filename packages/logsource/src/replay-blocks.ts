/**
 * `knockd -replay` of a log file on every core: the file is cut into blocks of whole lines
 * (`read-block.ts`), which the main thread and worker threads parse — whoever is free takes the
 * next block — and the main thread hands on in file order, where block line numbers become file
 * line numbers.
 */
import { closeSync, existsSync, fstatSync, openSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import type { HitColumns } from "./hit-columns.ts";
import type { CompiledLogFormat } from "./log-format.ts";
import type { BlockResult, PlainHit } from "./read-block.ts";
import {
  BLOCK_BYTES,
  columnBuffers,
  parseBlock,
  readAt,
  recycle,
} from "./read-block.ts";
import { decodeLogLine } from "./parse-log-line.ts";
import type { KnockHit } from "./types.ts";

/** The dotted quad of an IPv4 number. */
function dotted(ip: number): string {
  return `${Math.floor(ip / 16777216)}.${(ip >>> 16) & 255}.${(ip >>> 8) & 255}.${ip & 255}`;
}

/** One parsed block as `HitColumns`: fast-lane hits are built by reading their line again. */
export class BlockColumns implements HitColumns {
  readonly length: number;
  readonly v4: Float64Array;
  readonly dstPort: Int32Array;
  readonly srcPort: Int32Array;
  readonly timeMs: number;
  readonly #r: BlockResult;
  readonly #lineBase: number;
  readonly #fd: number;
  readonly #prefix: string;
  readonly #format: CompiledLogFormat;
  #finished: Map<number, PlainHit> | undefined;

  /** `lineBase`: the lines of the file before the block; `prefix`: `file:`. */
  constructor(
    r: BlockResult,
    lineBase: number,
    timeMs: number,
    fd: number,
    prefix: string,
    format: CompiledLogFormat,
  ) {
    this.#r = r;
    this.length = r.length;
    this.v4 = r.v4;
    this.dstPort = r.dstPort;
    this.srcPort = r.srcPort;
    this.timeMs = timeMs;
    this.#lineBase = lineBase;
    this.#fd = fd;
    this.#prefix = prefix;
    this.#format = format;
  }

  hit(i: number): KnockHit {
    if (!(Number.isInteger(i) && i >= 0 && i < this.length)) {
      throw new RangeError(`hit ${i} of a batch of ${this.length}`);
    }
    const r = this.#r;
    const lineNo = this.#lineBase + r.lineNo[i]!;
    const origin = `${this.#prefix}${lineNo}`;
    if (r.v4[i]! < 0) {
      this.#finished ??= new Map(
        r.finishedAt.map((at, k) => [at, r.finished[k]!]),
      );
      const h = this.#finished.get(i)!;
      return { ...h, timeMs: this.timeMs, origin };
    }
    const n = r.bytes[i]!;
    const buf = Buffer.allocUnsafe(n);
    const got = readAt(this.#fd, buf, n, r.base + r.offset[i]!);
    const d = decodeLogLine(
      buf.toString("latin1", 0, got),
      this.#format,
      this.#prefix,
      lineNo,
      this.timeMs,
      undefined,
    );
    if (d !== undefined && !("code" in d)) return d;
    // The file changed under the replay: what the columns know.
    return {
      srcIp: dotted(r.v4[i]!),
      dstPort: r.dstPort[i]!,
      protocol: undefined,
      iface: undefined,
      dstIp: undefined,
      srcPort: r.srcPort[i]!,
      timeMs: this.timeMs,
      origin,
    };
  }
}

/** The worker script, when built (tests that run the sources use the built one). */
function workerScript(): string | undefined {
  const here = fileURLToPath(import.meta.url);
  const script = here.endsWith(".ts")
    ? fileURLToPath(new URL("../dist/replay-worker.js", import.meta.url))
    : fileURLToPath(new URL("./replay-worker.js", import.meta.url));
  return existsSync(script) ? script : undefined;
}

/**
 * A replay worker on `script`, with its job, or without one (then it waits for it as a message).
 * A small young generation: a worker's garbage is texts that die at once.
 */
export function startReplayWorker(
  script: string | URL,
  data?: ReplayWorkerData,
): Worker {
  return new Worker(script, {
    ...(data !== undefined ? { workerData: data } : {}),
    resourceLimits: { maxYoungGenerationSizeMb: 2 },
  });
}

/** Blocks a worker may parse ahead of the main thread (memory: a few MiB of columns each). */
const WINDOW = 8;

/** What a worker is given. */
export interface ReplayWorkerData {
  path: string;
  size: number;
  blocks: number;
  blockBytes: number;
  format: CompiledLogFormat;
  /** Int32 [next block to claim, blocks handed on by the main thread]. */
  control: SharedArrayBuffer;
  window: number;
}

/** The blocks of a file, in order, parsed by this thread and `workers` worker threads. */
export interface BlockReplay {
  /** The next block in file order, or undefined after the last. */
  next(): Promise<BlockResult | undefined>;
  /** The open file (to read a hit's line again). */
  readonly fd: number;
  close(): Promise<void>;
}

/**
 * Starts replaying `path` (opened now: `ENOENT` and the like throw) with `workers` worker
 * threads: a number to start, or workers already started on `@portknock/logsource/replay-worker`
 * without `workerData` (they get their job as a message; the replay owns them from now on).
 */
export function createBlockReplay(
  path: string,
  format: CompiledLogFormat,
  workers: number | readonly Worker[],
  blockBytes: number = BLOCK_BYTES,
): BlockReplay {
  const fd = openSync(path, "r");
  const size = fstatSync(fd).size;
  const blocks = Math.ceil(size / blockBytes);
  const control = new SharedArrayBuffer(8);
  const ctl = new Int32Array(control);
  const results = new Map<number, BlockResult>();
  let wanted = 0; // the next block to hand on
  let wake: (() => void) | undefined;
  const live = new Set<Worker>();
  const given = typeof workers === "number" ? [] : [...workers];
  const wantedWorkers = Math.min(
    typeof workers === "number" ? workers : given.length,
    blocks - 1,
  );
  for (const w of given.splice(wantedWorkers)) void w.terminate();
  const script = wantedWorkers > given.length ? workerScript() : undefined;
  for (let k = 0; k < wantedWorkers; k++) {
    const data: ReplayWorkerData = {
      path,
      size,
      blocks,
      blockBytes,
      format,
      control,
      window: WINDOW,
    };
    let w: Worker;
    try {
      if (k < given.length) {
        w = given[k]!;
        w.postMessage(data);
        w.ref();
      } else if (script !== undefined) {
        w = startReplayWorker(script, data);
      } else break;
    } catch {
      // A format that cannot be cloned, no threads left: this thread parses alone.
      for (const rest of given.slice(k)) void rest.terminate();
      break;
    }
    live.add(w);
    w.on("message", (r: BlockResult) => {
      if (r.block >= wanted && !results.has(r.block)) {
        results.set(r.block, r);
        from.set(r.block, w);
      }
      wake?.();
    });
    // A worker that fails loses nothing: the blocks it took are parsed here.
    const gone = (): void => {
      live.delete(w);
      wake?.();
    };
    w.on("error", gone);
    w.on("exit", gone);
  }
  let closed = false;
  const from = new Map<number, Worker>(); // the worker that parsed a block, if one did
  let last: BlockResult | undefined; // handed on by the previous call
  const handOn = (r: BlockResult): BlockResult => {
    last = r;
    results.delete(wanted);
    wanted++;
    Atomics.store(ctl, 1, wanted);
    Atomics.notify(ctl, 1);
    return r;
  };
  return {
    fd,
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
        if (live.size === 0) {
          // No worker (left): parse the blocks in order here, whoever had claimed them.
          return handOn(parseBlock(fd, size, wanted, blockBytes, format));
        }
        const b = Atomics.add(ctl, 0, 1);
        if (b < blocks) {
          results.set(b, parseBlock(fd, size, b, blockBytes, format));
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
