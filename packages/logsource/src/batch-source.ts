/**
 * An internal fast lane for the sources of this package: besides `AsyncIterable<LogLine>`, their
 * iterables offer the same lines in batches (one per file chunk, or whatever a push source has
 * queued), so the hit pipeline pays one promise per batch instead of one per line, and a file
 * chunk needs no `LogLine` object per line.
 */
import type { LogLine } from "./types.ts";

/**
 * Consecutive lines of one file as one text, separated by `\n` (each may end in a `\r`, which
 * is not part of it). The text batches of one iterator follow each other from line 1 of the
 * file: consumers number the lines as they find them (so the reader never counts them) and cut
 * out only the lines they need (the hit source skips most without making a string of them).
 */
export interface TextBatch {
  readonly file: string;
  readonly text: string;
}

/** The line of `text` from `start` to `end` (excluded), without a final `\r`. */
export function lineText(text: string, start: number, end: number): string {
  return text.slice(
    start,
    end > start && text.charCodeAt(end - 1) === 13 ? end - 1 : end,
  );
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

/** Whether `batch` is a `TextBatch`. */
export function isTextBatch(batch: LineBatch): batch is TextBatch {
  return !Array.isArray(batch);
}

/** The lines of a batch iterator, one at a time (resolved promises while a batch lasts). */
export function linesOf(
  batches: AsyncIterator<LineBatch>,
): AsyncIterator<LogLine> {
  let lines: readonly LogLine[] = [];
  let index = 0;
  let text: TextBatch | undefined;
  let pos = 0; // in `text`: the start of its next line
  let lineNo = 1; // of the next line of a text batch

  /** The next line of the current batch, if any. */
  const take = (): LogLine | undefined => {
    if (text === undefined) return lines[index++];
    if (pos > text.text.length) return undefined;
    const nl = text.text.indexOf("\n", pos);
    const end = nl < 0 ? text.text.length : nl;
    const line = {
      text: lineText(text.text, pos, end),
      file: text.file,
      lineNo: lineNo++,
    };
    pos = end + 1;
    return line;
  };
  const load = (
    r: IteratorResult<LineBatch>,
  ): Promise<IteratorResult<LogLine>> | IteratorResult<LogLine> => {
    if (r.done === true) return DONE;
    if (isTextBatch(r.value)) {
      text = r.value;
      pos = 0;
    } else {
      text = undefined;
      lines = r.value;
      index = 0;
    }
    const line = take();
    return line === undefined
      ? batches.next().then(load)
      : { value: line, done: false };
  };
  return {
    next(): Promise<IteratorResult<LogLine>> {
      const line = take();
      if (line !== undefined)
        return Promise.resolve({ value: line, done: false });
      return batches.next().then(load);
    },
    async return(): Promise<IteratorResult<LogLine>> {
      text = undefined;
      lines = [];
      await batches.return?.();
      return DONE;
    },
  };
}
