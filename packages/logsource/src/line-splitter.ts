/**
 * Bytes to lines for sources that receive chunks (a followed file, a command's stdout). Lines are
 * cut at byte 0x0A before decoding, so a chunk boundary inside a multi-byte UTF-8 character never
 * damages it (0x0A never occurs inside one); a `\r` before the `\n` is dropped. A partial last
 * line is held until its newline arrives (or until `flush`).
 */

/** Default longest line kept, in bytes. */
export const MAX_LINE_BYTES: number = 1024 * 1024;

/** Options of `createLineSplitter`. */
export interface LineSplitterOptions {
  /** Longest line kept, in bytes; the rest of a longer line is dropped. Default 1 MiB. */
  maxLineBytes?: number;
  /** Called once for each line that was cut, with its full length in bytes. */
  onOverlong?: (bytes: number) => void;
}

/** A stateful splitter. */
export interface LineSplitter {
  /** Feeds bytes; calls `onLine` for every line completed by them. */
  write(chunk: Uint8Array): void;
  /** Emits the held partial line, if any, as a line (the source ended or switched files). */
  flush(): void;
  /** Bytes held for the partial last line. */
  readonly pendingBytes: number;
}

/** Creates a line splitter that hands each line's text (UTF-8 decoded) to `onLine`. */
export function createLineSplitter(
  onLine: (text: string) => void,
  options: LineSplitterOptions = {},
): LineSplitter {
  const max = options.maxLineBytes ?? MAX_LINE_BYTES;
  let held: Buffer[] = [];
  let heldBytes = 0;
  let lineBytes = 0; // the whole partial line, including bytes dropped beyond `max`

  const emit = (bytes: Buffer): void => {
    const end =
      bytes.length > 0 && bytes[bytes.length - 1] === 13
        ? bytes.length - 1
        : bytes.length;
    onLine(bytes.toString("utf8", 0, end));
  };
  const hold = (part: Buffer): void => {
    lineBytes += part.length;
    const room = max - heldBytes;
    if (room <= 0) return;
    const kept = part.length > room ? part.subarray(0, room) : part;
    held.push(Buffer.from(kept)); // a copy: the caller may reuse its buffer
    heldBytes += kept.length;
  };
  const finish = (): void => {
    const total = lineBytes;
    emit(
      held.length === 1 && held[0] ? held[0] : Buffer.concat(held, heldBytes),
    );
    held = [];
    heldBytes = 0;
    lineBytes = 0;
    if (total > max) options.onOverlong?.(total);
  };

  return {
    write(chunk: Uint8Array): void {
      const buf = Buffer.isBuffer(chunk)
        ? chunk
        : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      let start = 0;
      for (
        let nl = buf.indexOf(10, start);
        nl >= 0;
        nl = buf.indexOf(10, start)
      ) {
        if (heldBytes === 0 && lineBytes === 0 && nl - start <= max) {
          emit(buf.subarray(start, nl));
        } else {
          hold(buf.subarray(start, nl));
          finish();
        }
        start = nl + 1;
      }
      if (start < buf.length) hold(buf.subarray(start));
    },
    flush(): void {
      if (lineBytes > 0) finish();
    },
    get pendingBytes(): number {
      return heldBytes;
    },
  };
}
