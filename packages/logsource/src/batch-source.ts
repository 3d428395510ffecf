/**
 * An internal fast lane for the sources of this package: besides `AsyncIterable<LogLine>`, their
 * iterables offer the same lines in batches (one per file chunk, or whatever a push source has
 * queued), so the hit pipeline pays one promise per batch instead of one per line, and a file
 * chunk needs no `LogLine` object per line.
 */
import type { LogLine } from "./types.ts";

/** Consecutive lines of one file: `texts[i]` is line `firstLineNo + i`. */
export interface TextBatch {
  readonly file: string;
  readonly firstLineNo: number;
  readonly texts: readonly string[];
}

/** A batch of lines. */
export type LineBatch = readonly LogLine[] | TextBatch;

/** The method under which this package's sources offer batches. */
export const BATCHES: unique symbol = Symbol("portknock.logsource.batches");

/** A line source that can also give its lines in batches. */
export interface BatchedLines extends AsyncIterable<LogLine> {
  [BATCHES](): AsyncIterator<LineBatch>;
}

const DONE = { value: undefined, done: true } as const;

/** `lines` as batches: its own when it offers them, else one line per batch. */
export function batchesOf(
  lines: AsyncIterable<LogLine>,
): AsyncIterator<LineBatch> {
  if (BATCHES in lines) return (lines as BatchedLines)[BATCHES]();
  const it = lines[Symbol.asyncIterator]();
  return {
    next: async (): Promise<IteratorResult<LineBatch>> => {
      const r = await it.next();
      return r.done === true ? DONE : { value: [r.value], done: false };
    },
    return: async (): Promise<IteratorResult<LineBatch>> => {
      await it.return?.();
      return DONE;
    },
  };
}

/** Line `i` of a batch. */
function lineAt(batch: LineBatch, i: number): LogLine {
  if (isTextBatch(batch)) {
    return {
      text: batch.texts[i] ?? "",
      file: batch.file,
      lineNo: batch.firstLineNo + i,
    };
  }
  return batch[i] as LogLine;
}

/** Whether `batch` is a `TextBatch`. */
export function isTextBatch(batch: LineBatch): batch is TextBatch {
  return !Array.isArray(batch);
}

/** Lines in a batch. */
export function batchLength(batch: LineBatch): number {
  return isTextBatch(batch) ? batch.texts.length : batch.length;
}

/** The lines of a batch iterator, one at a time (resolved promises while a batch lasts). */
export function linesOf(
  batches: AsyncIterator<LineBatch>,
): AsyncIterator<LogLine> {
  let batch: LineBatch = [];
  let index = 0;
  let length = 0;
  const take = (
    r: IteratorResult<LineBatch>,
  ): Promise<IteratorResult<LogLine>> | IteratorResult<LogLine> => {
    if (r.done === true) return DONE;
    batch = r.value;
    index = 0;
    length = batchLength(batch);
    return index < length
      ? { value: lineAt(batch, index++), done: false }
      : batches.next().then(take);
  };
  return {
    next(): Promise<IteratorResult<LogLine>> {
      if (index < length) {
        return Promise.resolve({ value: lineAt(batch, index++), done: false });
      }
      return batches.next().then(take);
    },
    async return(): Promise<IteratorResult<LogLine>> {
      length = 0;
      await batches.return?.();
      return DONE;
    },
  };
}
