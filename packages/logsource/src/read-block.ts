/**
 * One block of a replayed file, parsed (`replay-blocks.ts`): the lines that start in the block's
 * byte range (`block-result.ts`), through the WebAssembly scanner (`wasm-scanner.ts`) or the
 * JavaScript lane (texts, `readIptablesV4`), with the slow lane for the lines neither fast lane
 * takes. Reads the file (nothing else); runs on the main thread and in workers alike.
 */
import { isAscii } from "node:buffer";
import { readSync } from "node:fs";
import type { BlockResult } from "./block-result.ts";
import { add, newResult, slowLane } from "./block-result.ts";
import { readIptablesV4 } from "./hit-columns.ts";
import type { CompiledLogFormat } from "./log-format.ts";
import type { LineScanner } from "./wasm-scanner.ts";
import { LINE_ASCII, LINE_FAST, lineScanner } from "./wasm-scanner.ts";

/**
 * Text decoded at a time: small strings that die young (64 KiB pieces made V8 grow the main
 * thread's young generation to 16 MiB, 16 KiB ones to 8 MiB, at the same speed).
 */
const PIECE_BYTES = 16 * 1024;

/** Reads `length` bytes at `position` into `buf` from `at` (fewer at the end of the file). */
export function readAt(
  fd: number,
  buf: Uint8Array,
  length: number,
  position: number,
  at = 0,
): number {
  let got = 0;
  while (got < length) {
    const n = readSync(fd, buf, at + got, length - got, position + got);
    if (n === 0) break;
    got += n;
  }
  return got;
}

/** A growable scratch buffer per thread (the JavaScript lane's). */
let scratch = Buffer.allocUnsafe(0);

/** Which lane parses a block: the WebAssembly scanner (when it loads) or JavaScript alone. */
export type BlockLane = "wasm" | "js";

/**
 * Parses block `block` of the file open as `fd`, `size` bytes long, with blocks of
 * `blockBytes`: the lines that start in `[block * blockBytes, (block + 1) * blockBytes)`.
 * The built-in format goes through the WebAssembly scanner unless `lane` is "js" (the results
 * are the same: a test holds them equal).
 */
export function parseBlock(
  fd: number,
  size: number,
  block: number,
  blockBytes: number,
  format: CompiledLogFormat,
  lane: BlockLane = "wasm",
): BlockResult {
  const scanner =
    lane === "wasm" && format.builtin === "iptables"
      ? lineScanner()
      : undefined;
  if (scanner !== undefined) {
    try {
      return readBlock(fd, size, block, blockBytes, format, scanner);
    } catch {
      // The scanner out of memory (a line of hundreds of MiB) or failing: nothing is lost,
      // the JavaScript lane reads the block again.
    }
  }
  return readBlock(fd, size, block, blockBytes, format, undefined);
}

/** `parseBlock` through `scanner`, or the JavaScript lane when undefined. */
function readBlock(
  fd: number,
  size: number,
  block: number,
  blockBytes: number,
  format: CompiledLogFormat,
  scanner: LineScanner | undefined,
): BlockResult {
  const start = block * blockBytes;
  const limit = Math.min(start + blockBytes, size); // lines must start before it
  const from = Math.max(start - 1, 0);
  let want = Math.min(size, limit + PIECE_BYTES) - from;
  let buf: Uint8Array;
  if (scanner !== undefined) buf = scanner.input(want);
  else {
    if (scratch.length < want) scratch = Buffer.allocUnsafe(want);
    buf = scratch;
  }
  let got = readAt(fd, buf, want, from);
  // The first line: at 0, or after the first newline at or after start - 1.
  let first = 0;
  if (start > 0) {
    const nl = buf.indexOf(10, 0);
    first = nl < 0 || nl >= limit - from ? -1 : nl + 1;
  }
  const out = newResult(block);
  if (first < 0 || from + first >= limit) return out;
  // The end of the last line: the first newline at or after limit - 1 (or the end of file).
  // (Only in what was read: the buffer is reused, and what lies past `got` is an older read's.)
  let searched = Math.max(first, limit - 1 - from); // no newline before it after the margin
  let end = buf.subarray(0, got).indexOf(10, searched);
  while (end < 0 && from + got < size) {
    // A line running past the margin: read on, twice as far each time, and look for its
    // newline only in what is new (issue #16: growing by a piece and searching from the margin
    // again made a 32 MB line take 32 s).
    searched = Math.max(searched, got);
    want = Math.min(size - from, Math.max(got + PIECE_BYTES, got * 2));
    if (scanner !== undefined) buf = scanner.input(want);
    else {
      const bigger = Buffer.allocUnsafe(want);
      scratch.copy(bigger, 0, 0, got);
      scratch = bigger;
      buf = bigger;
    }
    got += readAt(fd, buf, want - got, from + got, got);
    end = buf.subarray(0, got).indexOf(10, searched);
  }
  if (end < 0) end = got; // the last line of the file, without a newline
  out.base = from;
  if (scanner !== undefined) scanRange(scanner, buf, first, end, format, out);
  else parseRange(scratch, first, end, format, out);
  return out;
}

/** The WebAssembly lane: `scanner`'s input[first, end) into `out`. */
function scanRange(
  scanner: LineScanner,
  input: Uint8Array,
  first: number,
  end: number,
  format: CompiledLogFormat,
  out: BlockResult,
): void {
  const listed = scanner.scan(first, end);
  const { kinds, ips, ports, lineNos, offsets, lengths, firstIns } = listed;
  let bytes: Buffer | undefined;
  for (let k = 0; k < listed.length; k++) {
    if (kinds[k] === LINE_FAST) {
      const i = add(out);
      const p = ports[k]!;
      out.v4[i] = ips[k]!;
      out.dstPort[i] = p & 0xffff;
      out.srcPort[i] = p >>> 16;
      out.lineNo[i] = lineNos[k]!;
      out.offset[i] = offsets[k]!;
      out.bytes[i] = lengths[k]!;
      continue;
    }
    bytes ??= Buffer.from(input.buffer, input.byteOffset, input.byteLength);
    const ascii = kinds[k] === LINE_ASCII;
    const text = bytes.toString(
      ascii ? "latin1" : "utf8",
      offsets[k],
      offsets[k]! + lengths[k]!,
    );
    // (In UTF-8 text, a character is not a byte: the slow lane finds `IN=` again.)
    slowLane(
      out,
      format,
      text,
      0,
      text.length,
      ascii ? firstIns[k]! : -2,
      lineNos[k]!,
    );
  }
  out.lines = listed.lines;
}

const fast = new Float64Array(3);

/** Parses the lines of `buf[first, end)` into `out` (offsets of the fast lane: in `buf`). */
function parseRange(
  buf: Buffer,
  first: number,
  end: number,
  format: CompiledLogFormat,
  out: BlockResult,
): void {
  const builtin = format.builtin === "iptables";
  const needle = builtin ? "IN=" : "";
  let lineNo = 1;
  let text = "";
  for (let p = first; p < end || (p === end && p === first);) {
    // A piece of at most PIECE_BYTES of whole lines (a longer line whole).
    let stop = end;
    if (end - p > PIECE_BYTES) {
      stop = buf.lastIndexOf(10, p + PIECE_BYTES - 1);
      if (stop < p) stop = buf.indexOf(10, p + PIECE_BYTES);
      if (stop < 0 || stop > end) stop = end;
    }
    const bytes = buf.subarray(p, stop);
    const ascii = isAscii(bytes);
    // The previous text is let go first: a collection during this allocation finds it dead,
    // so nothing survives it (surviving texts make V8 grow the young generation, and RSS).
    text = "";
    text = bytes.toString(ascii ? "latin1" : "utf8");
    const at = p; // where text[0] is in the buffer (ASCII: text[k] at at + k)
    let start = 0;
    let next = text.indexOf(needle);
    let colon = -1;
    for (let nl = text.indexOf("\n"); ; nl = text.indexOf("\n", start)) {
      const e = nl < 0 ? text.length : nl;
      if (next >= 0 && next < e) {
        if (colon < start) {
          colon = text.indexOf(": ", start);
          if (colon < 0) colon = text.length;
        }
        if (
          builtin &&
          ascii &&
          readIptablesV4(text, start, e, next, colon < e ? colon : -1, fast)
        ) {
          const i = add(out);
          out.v4[i] = fast[0]!;
          out.dstPort[i] = fast[1]!;
          out.srcPort[i] = fast[2]!;
          out.lineNo[i] = lineNo;
          out.offset[i] = at + start;
          out.bytes[i] = e - start;
        } else {
          slowLane(
            out,
            format,
            text,
            start,
            e,
            needle === "" ? -2 : next - start,
            lineNo,
          );
        }
        next = text.indexOf(needle, e + 1);
      }
      lineNo++;
      if (nl < 0) break;
      start = nl + 1;
    }
    p = stop + 1;
  }
  out.lines = lineNo - 1;
}
