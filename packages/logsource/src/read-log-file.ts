/**
 * `knockd -replay FILE` in file mode: a whole log from its first line to its last, read directly
 * in large chunks (no follower, no polling), as fast as the consumer takes the lines.
 */
import { isAscii } from "node:buffer";
import type { FileHandle } from "node:fs/promises";
import type { BatchedLines, TextBatch } from "./batch-source.ts";
import { BATCHES, linesOf } from "./batch-source.ts";
import { openRegular } from "./open-regular.ts";
import type { LogLine } from "./types.ts";

/** Options of `readLogFile`. */
export interface ReadLogFileOptions {
  /** Stops reading: the iteration ends after the lines already read. */
  signal?: AbortSignal;
  /** Bytes read at a time (lines are handed out in texts of at most ~64 KiB). Default 1 MiB. */
  chunkBytes?: number;
}

/**
 * The lines of the file at `path`, from the first, with `lineNo` their number in the file. A last
 * line without a newline is still a line; `\r\n` endings lose the `\r`; bytes are decoded as UTF-8
 * per chunk of whole lines (so multi-byte characters are never split). Opening or reading errors
 * reject the iteration (the Node `ENOENT`/`EACCES` error); a path that is not a regular file (a
 * FIFO, a device, a directory) rejects it with `LogSourceError` `LOG_NOT_REGULAR`, without
 * blocking on the FIFO or reading the device (issue #16). Each iteration reads the file anew.
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

/**
 * Most bytes per text batch. V8 keeps a string of up to 128 KiB in the young generation, where it
 * dies cheaply; a bigger one goes to the large-object space (old generation, freed only by a full
 * collection) or, past about 1 MiB, becomes an external string that Node frees only when V8 feels
 * memory pressure (measured on a 250 MB log: 64 KiB texts 79 ms and 49 MiB peak RSS; 256 KiB 293 ms;
 * 2 MiB 152 ms and 128 MiB).
 */
const BATCH_BYTES = 64 * 1024;

/**
 * The file's lines: read `chunkBytes` at a time, handed out in texts of at most `chunkBytes` and
 * 64 KiB (longer lines whole). The next chunk is read while the consumer works on this one (two
 * buffers; the unfinished line is copied in front of the new chunk, into room kept for it).
 */
function readBatches(
  path: string,
  options: ReadLogFileOptions,
): AsyncIterator<TextBatch> {
  const { signal } = options;
  const chunk = Math.max(options.chunkBytes ?? 1024 * 1024, 1);
  const batchBytes = Math.min(chunk, BATCH_BYTES);
  const room = batchBytes; // kept in front of each chunk for an unfinished line
  let buf = Buffer.allocUnsafe(room + chunk);
  let spare = Buffer.allocUnsafe(room + chunk);
  let start = room; // the first byte of `buf` not handed out yet
  let filled = room; // the end of what `buf` holds
  let clear = 0; // bytes from `start` known to hold no newline (a long line's, searched)
  let joined = false; // `buf` is a long line's own buffer, not one of the two chunk buffers
  let ahead: Promise<number> | undefined; // the read into `spare`
  let handle: FileHandle | undefined;
  let eof = false;
  let closed = false;
  const done: IteratorResult<TextBatch> = { value: undefined, done: true };

  const close = async (): Promise<void> => {
    closed = true;
    const h = handle;
    handle = undefined;
    await ahead?.catch(() => 0); // never close under a read in flight
    ahead = undefined;
    await h?.close();
  };

  /** The lines in `buf[start, end)` (separated by `\n`) as a batch; `start` moves past `skip`. */
  const batchOf = (end: number, skip: number): TextBatch => {
    const bytes = buf.subarray(start, end);
    start = end + skip;
    clear = 0;
    return {
      file: path,
      text: bytes.toString(isAscii(bytes) ? "latin1" : "utf8"),
    };
  };

  /** The next batch of whole lines already read, if any. */
  const cut = (): TextBatch | undefined => {
    if (start >= filled) return undefined;
    const limit = Math.min(start + batchBytes, filled);
    let nl = buf.lastIndexOf(10, limit - 1);
    // A line longer than a batch: its newline is looked for only in bytes not searched yet
    // (issue #16: searching it all again at every chunk was quadratic in its length).
    if (nl < start) nl = buf.indexOf(10, Math.max(limit, start + clear));
    if (nl < 0 || nl >= filled) {
      clear = filled - start;
      return undefined;
    }
    return batchOf(nl, 1);
  };

  const readAhead = (h: FileHandle): void => {
    const target = spare;
    ahead = h.read(target, room, chunk, null).then((r) => r.bytesRead);
  };

  /** Takes the chunk read ahead (starting the next read): false at the end of the file. */
  const advance = async (): Promise<boolean> => {
    handle ??= await openRegular(path);
    if (ahead === undefined) readAhead(handle);
    const bytesRead = await ahead!;
    ahead = undefined;
    if (bytesRead === 0) return false;
    const carry = filled - start;
    if (carry <= room) {
      buf.copy(spare, room - carry, start, filled);
      const old = buf;
      buf = spare;
      spare =
        old.length >= room + chunk ? old : Buffer.allocUnsafe(room + chunk);
      joined = false;
      start = room - carry;
      filled = room + bytesRead;
    } else if (joined && filled + bytesRead <= buf.length) {
      // The long line's buffer has room left: the chunk goes on its end.
      spare.copy(buf, filled, room, room + bytesRead);
      filled += bytesRead;
    } else {
      // An unfinished line longer than the room: one buffer with both (rare), twice as big as
      // needed so that a line of many chunks is copied a bounded number of times (linear).
      const need = room + carry + bytesRead;
      const bigger = Buffer.allocUnsafe(
        Math.max(need, 2 * (carry + bytesRead)),
      );
      buf.copy(bigger, room, start, filled);
      spare.copy(bigger, room + carry, room, room + bytesRead);
      if (!joined) spare = buf; // keep a chunk-sized spare
      buf = bigger;
      joined = true;
      start = room;
      filled = need;
    }
    if (!closed) readAhead(handle);
    return true;
  };

  /** Reads until at least one line is complete or the file ends. */
  const fill = async (): Promise<TextBatch | undefined> => {
    let batch = cut();
    while (batch === undefined && !eof && !closed) {
      if (!(await advance())) {
        eof = true;
        if (filled > start) batch = batchOf(filled, 0); // a last line without a newline
        break;
      }
      batch = cut();
    }
    if (eof) await close();
    return batch;
  };

  return {
    async next(): Promise<IteratorResult<TextBatch>> {
      if (signal?.aborted) {
        await close();
        return done;
      }
      const ready = cut(); // lines already read need no await on the file
      if (ready !== undefined) return { value: ready, done: false };
      if (closed) return done;
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
