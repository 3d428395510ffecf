/**
 * A parsed block's results (`read-block.ts`): the hits in columns, the slow lane's finished hits
 * and the rejected lines; the column sets reused per thread, and the slow lane that fills them
 * through `decodeLogLine`. No I/O.
 */
import { lineText } from "./batch-source.ts";
import type { RejectCode } from "./errors.ts";
import type { CompiledLogFormat } from "./log-format.ts";
import { decodeLogLine } from "./parse-log-line.ts";
import type { KnockHit } from "@portknock/core";

/** A slow-lane hit as it crosses threads: all but its time and origin. */
export type PlainHit = Omit<KnockHit, "timeMs" | "origin">;

/** A rejected line of a block. */
export interface BlockRejection {
  /** In the block, from 1. */
  lineNo: number;
  code: RejectCode;
  message: string;
  text: string;
}

/** What one block holds. */
export interface BlockResult {
  block: number;
  /** Which job of the thread it was parsed for (`replay-blocks.ts`: a speculation is 0). */
  epoch: number;
  /** Parsed by a prestarted worker before its job came (`prestart-replay.ts`). */
  ahead: boolean;
  /** Lines that start in the block. */
  lines: number;
  /** Hits. */
  length: number;
  /** As in `HitColumns`: -1 for a slow-lane hit (in `finished`). */
  v4: Float64Array;
  dstPort: Int32Array;
  srcPort: Int32Array;
  /** The hit's line, from 1 at the block's first line. */
  lineNo: Int32Array;
  /**
   * Where the hit's line is in the file, from `base` (fast lane), to decode it again on demand.
   */
  offset: Int32Array;
  base: number;
  bytes: Int32Array;
  /** Slow-lane hits: their index and the hit. */
  finishedAt: number[];
  finished: PlainHit[];
  rejections: BlockRejection[];
}

// Column sets for reuse: a block's columns come back once the block has been handed on (to the
// thread that filled them), so a replay allocates a few sets in all. (Fresh arrays per block
// left ~30 MiB of dead array buffers waiting for a full collection.)
const pool: BlockResult[] = [];

/** Gives `r`'s columns back for reuse by this thread. */
export function recycle(r: BlockResult): void {
  if (pool.length < 4) pool.push(r);
}

export function newResult(block: number): BlockResult {
  const n = 8192;
  const r = pool.pop() ?? {
    block,
    epoch: 0,
    ahead: false,
    lines: 0,
    length: 0,
    v4: new Float64Array(n),
    dstPort: new Int32Array(n),
    srcPort: new Int32Array(n),
    lineNo: new Int32Array(n),
    offset: new Int32Array(n),
    base: 0,
    bytes: new Int32Array(n),
    finishedAt: [],
    finished: [],
    rejections: [],
  };
  r.block = block;
  r.epoch = 0;
  r.ahead = false;
  r.lines = 0;
  r.length = 0;
  r.finishedAt = [];
  r.finished = [];
  r.rejections = [];
  return r;
}

/** The array buffers of `r`'s columns (moved, not copied, between threads). */
export function columnBuffers(r: BlockResult): ArrayBuffer[] {
  return [r.v4, r.dstPort, r.srcPort, r.lineNo, r.offset, r.bytes].map(
    (a) => a.buffer as ArrayBuffer,
  );
}

function grown<T extends Float64Array | Int32Array>(a: T, n: number): T {
  const b = new (a.constructor as new (n: number) => T)(n);
  b.set(a);
  return b;
}

/** Index of a new hit in `r` (the columns grown as needed). */
export function add(r: BlockResult): number {
  const i = r.length++;
  if (i === r.v4.length) {
    const n = Math.max(2 * i, 1024); // (a recycled set may have been cut to 0)
    r.v4 = grown(r.v4, n);
    r.dstPort = grown(r.dstPort, n);
    r.srcPort = grown(r.srcPort, n);
    r.lineNo = grown(r.lineNo, n);
    r.offset = grown(r.offset, n);
    r.bytes = grown(r.bytes, n);
  }
  return i;
}

/**
 * The slow lane: line [start, e) of `text` (its first `IN=` at `firstIn` from the line's
 * start; -2: not looked for) through `decodeLogLine`, into `out`.
 */
export function slowLane(
  out: BlockResult,
  format: CompiledLogFormat,
  text: string,
  start: number,
  e: number,
  firstIn: number,
  no: number,
): void {
  const line = lineText(text, start, e);
  const r = decodeLogLine(line, format, "", no, 0, undefined, firstIn);
  if (r === undefined) return;
  if ("code" in r) {
    out.rejections.push({
      lineNo: no,
      code: r.code,
      message: r.message,
      text: line,
    });
    return;
  }
  const i = add(out);
  out.v4[i] = -1;
  out.lineNo[i] = no;
  out.offset[i] = -1;
  out.finishedAt.push(i);
  out.finished.push({
    srcIp: r.srcIp,
    dstPort: r.dstPort,
    protocol: r.protocol,
    iface: r.iface,
    dstIp: r.dstIp,
    srcPort: r.srcPort,
  });
}
