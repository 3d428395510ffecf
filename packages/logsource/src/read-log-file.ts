/**
 * `knockd -replay FILE` in file mode: a whole log from its first line to its last, read directly
 * in large chunks (no follower, no polling), as fast as the consumer takes the lines.
 */
import { isAscii } from "node:buffer";
import { open } from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";
import type { BatchedLines, TextBatch } from "./batch-source.ts";
import { BATCHES, linesOf } from "./batch-source.ts";
import type { LogLine } from "./types.ts";

/** Options of `readLogFile`. */
export interface ReadLogFileOptions {
  /** Stops reading: the iteration ends after the lines already read. */
  signal?: AbortSignal;
  /** Bytes read at a time. Default 1 MiB. */
  chunkBytes?: number;
}

/**
 * The lines of the file at `path`, from the first, with `lineNo` their number in the file. A last
 * line without a newline is still a line; `\r\n` endings lose the `\r`; bytes are decoded as UTF-8
 * per chunk of whole lines (so multi-byte characters are never split). Opening or reading errors
 * reject the iteration (the Node `ENOENT`/`EACCES` error). Each iteration reads the file anew.
 */
export function readLogFile(
  path: string,
  options: ReadLogFileOptions = {},
): AsyncIterable<LogLine> {
  const lines: BatchedLines = {
    [Symbol.asyncIterator]: () => linesOf(readBatches(path, options)),
    [BATCHES]: () => readBatches(path, options),
  };
  return lines;
}

/** The file's lines, one array per chunk read. */
function readBatches(
  path: string,
  options: ReadLogFileOptions,
): AsyncIterator<TextBatch> {
  const { signal } = options;
  let buf = Buffer.allocUnsafe(options.chunkBytes ?? 1024 * 1024);
  let carry = 0; // bytes of an unfinished line at the start of `buf`
  let handle: FileHandle | undefined;
  let eof = false;
  let closed = false;
  const done: IteratorResult<TextBatch> = { value: undefined, done: true };

  const close = async (): Promise<void> => {
    closed = true;
    const h = handle;
    handle = undefined;
    await h?.close();
  };

  /** The lines in `buf[0, end)` (separated by `\n`) as a batch. */
  const batchOf = (end: number): TextBatch => {
    const bytes = buf.subarray(0, end);
    // Pure ASCII (most logs) decodes ~10× faster as latin1, with the same result.
    return {
      file: path,
      text: bytes.toString(isAscii(bytes) ? "latin1" : "utf8"),
    };
  };

  /** Reads until at least one line is complete or the file ends. */
  const fill = async (): Promise<TextBatch | undefined> => {
    handle ??= await open(path, "r");
    let batch: TextBatch | undefined;
    while (batch === undefined && !eof && !closed) {
      if (carry === buf.length) {
        const bigger = Buffer.allocUnsafe(buf.length * 2); // a line longer than the buffer
        buf.copy(bigger, 0, 0, carry);
        buf = bigger;
      }
      const { bytesRead } = await handle.read(
        buf,
        carry,
        buf.length - carry,
        null,
      );
      const filled = carry + bytesRead;
      if (bytesRead === 0) {
        eof = true;
        if (carry > 0) batch = batchOf(carry); // a last line without a newline
        carry = 0;
        break;
      }
      const last = buf.lastIndexOf(10, filled - 1);
      if (last < 0) {
        carry = filled;
        continue;
      }
      batch = batchOf(last);
      carry = filled - last - 1;
      buf.copy(buf, 0, last + 1, filled);
    }
    if (eof) await close();
    return batch;
  };

  return {
    async next(): Promise<IteratorResult<TextBatch>> {
      if (closed || signal?.aborted) {
        await close();
        return done;
      }
      try {
        const batch = await fill();
        return batch === undefined ? done : { value: batch, done: false };
      } catch (error) {
        await close().catch(() => undefined);
        throw error;
      }
    },
    async return(): Promise<IteratorResult<TextBatch>> {
      await close();
      return done;
    },
  };
}
