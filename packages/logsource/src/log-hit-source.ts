/**
 * File mode's hit source (spec: daemon.md §1, §8): reading (`followLog`, `readLogFile` or
 * `runLogCommand`) → `parseLogLine`; kernel retransmits are the detector's business. A bad line
 * is counted and logged (rate-limited, once per reason per minute, with its origin), never
 * thrown.
 */
import type { HitColumns, KnockHit } from "@portknock/core";
import {
  createRateLimiter,
  escapeInput,
  noopLogger,
  systemClock,
} from "@portknock/core";
import type { RejectCode } from "./errors.ts";
import { LogSourceError } from "./errors.ts";
import type { CompiledLogFormat } from "./log-format.ts";
import { FinishedColumns } from "./hit-columns.ts";
import type { BlockReplay } from "./replay-blocks.ts";
import { BlockColumns } from "./block-columns.ts";
import { createBlockReplay } from "./replay-blocks.ts";
import { decodeLogLine } from "./parse-log-line.ts";
import type { LineBatch } from "./batch-source.ts";
import { batchesOf, isTextBatch, lineText } from "./batch-source.ts";
import type {
  LogHitSource,
  LogHitSourceOptions,
  LogSourceStats,
} from "./log-hit-source-types.ts";
import { isRegularOrMissing, openLines } from "./open-lines.ts";
import type { LogLine } from "./types.ts";

export type {
  LogHitSource,
  LogHitSourceOptions,
  LogInput,
  LogSourceStats,
} from "./log-hit-source-types.ts";

const REJECT_LOG_INTERVAL_MS = 60_000;

/**
 * Wires a line source and a format into hits. Lines that are not firewall
 * records are skipped; rejected lines are counted in `stats.rejections`, passed to `onReject` and
 * logged (`source.rejected`, warn, once per code per minute with the number suppressed).
 */
export function createLogHitSource(options: LogHitSourceOptions): LogHitSource {
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? noopLogger;
  const { onReject } = options;
  let format = options.format;
  const controller = new AbortController();
  const signal = options.signal
    ? AbortSignal.any([options.signal, controller.signal])
    : controller.signal;
  const lines = openLines(
    options,
    signal,
    logger,
    (line) => {
      // Logged by the command source, once per run with the number dropped.
      stats.rejections.LOG_LINE_BEFORE_START++;
      onReject?.(
        {
          code: "LOG_LINE_BEFORE_START",
          severity: "warning",
          message: "stamped before the log command started: an old line",
          where: { kind: "log", file: line.file, line: line.lineNo },
        },
        line.text,
      );
    },
    () => {
      // Logged by the follower, once a minute (issue #16).
      stats.rejections.LOG_NOT_REGULAR++;
    },
  );
  const limiter = createRateLimiter({
    clock,
    intervalMs: REJECT_LOG_INTERVAL_MS,
  });
  const stats: LogSourceStats = {
    lines: 0,
    hits: 0,
    rejections: {
      LOG_BAD_IP: 0,
      LOG_BAD_PORT: 0,
      LOG_NO_MATCH: 0,
      LOG_LINE_BEFORE_START: 0,
      LOG_LINE_TOO_LONG: 0,
      LOG_NOT_REGULAR: 0,
    },
    blocks: 0,
    blocksByWorkers: 0,
    blocksTakenOver: 0,
    workersTakenOver: 0,
  };

  const rejectLine = (
    line: LogLine,
    code: RejectCode,
    message: string,
  ): void => {
    stats.rejections[code]++;
    const origin = `${line.file}:${line.lineNo}`;
    onReject?.(
      {
        code,
        severity: "warning",
        message,
        where: { kind: "log", file: line.file, line: line.lineNo },
      },
      line.text,
    );
    const suppressed = limiter.take(code);
    if (suppressed < 0) return;
    logger.warn(
      {
        event: "source.rejected",
        code,
        source: origin,
        input: escapeInput(line.text),
        ...(suppressed > 0 && { suppressed }),
      },
      message,
    );
  };

  // Lines come in batches and hits leave one resolved promise at a time: no promise per line.
  const done: IteratorResult<KnockHit> = { value: undefined, done: true };
  let batches: AsyncIterator<LineBatch> | undefined;
  const out: KnockHit[] = [];
  let index = 0;
  let finished = false;

  let prefixFile = "";
  let prefix = ":"; // `${prefixFile}:`, rebuilt only when the file changes
  // The lines of one batch were read at the same time: one clock reading per batch.
  let batchMs = 0;
  /** The hit of one line, if any (rejections counted and logged). */
  const decode = (
    text: string,
    file: string,
    lineNo: number,
    firstIn = -2,
  ): KnockHit | undefined => {
    if (file !== prefixFile) {
      prefixFile = file;
      prefix = `${file}:`;
    }
    const r = decodeLogLine(
      text,
      format,
      prefix,
      lineNo,
      batchMs,
      undefined,
      firstIn,
    );
    if (r === undefined) return undefined;
    if ("code" in r) {
      rejectLine({ text, file, lineNo }, r.code, r.message);
      return undefined;
    }
    stats.hits++;
    return r;
  };
  let textLineNo = 1; // text batches follow each other from line 1
  const take = (batch: LineBatch): void => {
    out.length = 0; // the previous batch's hits were all handed out
    index = 0;
    batchMs = clock.now();
    if (!isTextBatch(batch)) {
      stats.lines += batch.length;
      for (const line of batch) {
        const hit = decode(line.text, line.file, line.lineNo);
        if (hit !== undefined) out.push(hit);
      }
      return;
    }
    const { text, file } = batch;
    // The built-in format skips any line without `IN=`: look for it in the whole chunk and cut
    // out only the lines that hold one; the others are only counted.
    const needle = format.builtin === "iptables" ? "IN=" : "";
    let start = 0;
    let next = text.indexOf(needle);
    for (let nl = text.indexOf("\n"); ; nl = text.indexOf("\n", start)) {
      const end = nl < 0 ? text.length : nl;
      if (next >= 0 && next < end) {
        const hit = decode(
          lineText(text, start, end),
          file,
          textLineNo,
          needle === "" ? -2 : next - start,
        );
        if (hit !== undefined) out.push(hit);
        next = text.indexOf(needle, end + 1);
      }
      textLineNo++;
      stats.lines++;
      if (nl < 0) return;
      start = nl + 1;
    }
  };
  // nextColumns: a replayed file in blocks (on every core), any other source as finished hits.
  let finishedColumns: FinishedColumns | undefined;
  let blockReplay: BlockReplay | undefined;
  let linesBefore = 0; // lines of the blocks already handed on
  const nextBlockColumns = async (
    path: string,
  ): Promise<HitColumns | undefined> => {
    if (finished || signal.aborted) {
      await finish();
      return undefined;
    }
    if (blockReplay === undefined) {
      const workers = options.replayWorkers ?? 0;
      blockReplay = createBlockReplay(
        path,
        format,
        typeof workers === "object" ? (workers.take() ?? "auto") : workers,
        options.replayBlockBytes ??
          (typeof workers === "object" ? workers.blockBytes : undefined),
      );
    }
    const r = await blockReplay.next();
    if (r === undefined) {
      await finish();
      return undefined;
    }
    const { counts } = blockReplay;
    stats.blocks = counts.blocks;
    stats.blocksByWorkers = counts.byWorkers;
    stats.blocksTakenOver = counts.takenOver;
    stats.workersTakenOver = counts.workersTakenOver;
    const base = linesBefore;
    linesBefore += r.lines;
    stats.lines += r.lines;
    batchMs = clock.now();
    for (const j of r.rejections) {
      rejectLine(
        { text: j.text, file: path, lineNo: base + j.lineNo },
        j.code,
        j.message,
      );
    }
    stats.hits += r.length;
    return new BlockColumns(
      r,
      base,
      batchMs,
      blockReplay.fd,
      `${path}:`,
      format,
    );
  };
  const finish = async (): Promise<IteratorResult<KnockHit>> => {
    finished = true;
    await blockReplay?.close();
    out.length = 0;
    index = 0;
    await batches?.return?.();
    return done;
  };
  const refill = async (): Promise<IteratorResult<KnockHit>> => {
    batches ??= batchesOf(lines);
    while (index >= out.length) {
      if (finished || signal.aborted) return finish();
      let r: IteratorResult<LineBatch>;
      try {
        r = await batches.next();
      } catch (error) {
        if (finished || signal.aborted) return finish();
        throw error;
      }
      if (r.done === true) return finish();
      take(r.value);
    }
    return { value: out[index++] as KnockHit, done: false };
  };
  const iterator: AsyncIterator<KnockHit> = {
    next(): Promise<IteratorResult<KnockHit>> {
      if (index < out.length && !signal.aborted) {
        return Promise.resolve({
          value: out[index++] as KnockHit,
          done: false,
        });
      }
      return refill();
    },
    return: finish,
  };

  /** The next batch of lines, or undefined at the end (or once closed). */
  const nextLineBatch = async (): Promise<LineBatch | undefined> => {
    batches ??= batchesOf(lines);
    if (finished || signal.aborted) {
      await finish();
      return undefined;
    }
    let r: IteratorResult<LineBatch>;
    try {
      r = await batches.next();
    } catch (error) {
      if (finished || signal.aborted) {
        await finish();
        return undefined;
      }
      throw error;
    }
    if (r.done === true) {
      await finish();
      return undefined;
    }
    return r.value;
  };

  const nextBatch = async (): Promise<readonly KnockHit[] | undefined> => {
    if (index < out.length) {
      // Hand out what the iterator left of the current batch first.
      const rest = out.slice(index);
      index = out.length;
      return rest;
    }
    const batch = await nextLineBatch();
    if (batch === undefined) return undefined;
    take(batch);
    index = out.length;
    return out;
  };

  // Blocks need a regular file (its size, reads at offsets): a pipe or a device is read in order.
  let inBlocks: boolean | undefined;
  const nextColumns = async (): Promise<HitColumns | undefined> => {
    if ("path" in options && options.replay === true && index >= out.length) {
      inBlocks ??= isRegularOrMissing(options.path);
      if (inBlocks) return nextBlockColumns(options.path);
    }
    const hits = await nextBatch();
    if (hits === undefined) return undefined;
    finishedColumns ??= new FinishedColumns();
    finishedColumns.reset(hits, batchMs);
    return finishedColumns;
  };

  return {
    stats,
    setFormat(next: CompiledLogFormat): void {
      if (blockReplay !== undefined) {
        throw new LogSourceError(
          "LOG_FORMAT_FIXED",
          "a replay in blocks cannot change its format",
        );
      }
      format = next;
    },
    nextBatch,
    nextColumns,
    [Symbol.asyncIterator]: (): AsyncIterator<KnockHit> => iterator,
    async close(): Promise<void> {
      controller.abort();
      await finish();
    },
  };
}
