/**
 * One block of a replayed file as `HitColumns` (`replay-blocks.ts`): a fast-lane hit is built,
 * when asked for, by reading its line again from the file.
 */
import type { HitColumns } from "@portknock/core";
import type { CompiledLogFormat } from "./log-format.ts";
import type { BlockResult, PlainHit } from "./block-result.ts";
import { readAt } from "./read-block.ts";
import { decodeLogLine } from "./parse-log-line.ts";
import type { KnockHit } from "@portknock/core";

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
