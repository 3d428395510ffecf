/**
 * Source text with positions: every character of a logical line remembers its offset in the file,
 * so that values keep their line and column through comment removal and line continuation.
 */
import type { ConfigWhere } from "./types.ts";

/** A file being read: its text without BOM, and where each line starts. */
export interface SourceText {
  file: string;
  text: string;
  lineStarts: number[];
}

/** A piece of text and, for each character, its offset in the source text. */
export interface Seg {
  s: string;
  p: number[];
}

/** Make a `SourceText` (the BOM is dropped; lines may end in `\n` or `\r\n`). */
export function makeSource(file: string, text: string): SourceText {
  const clean = text.startsWith("\uFEFF") ? text.slice(1) : text;
  const lineStarts = [0];
  for (let i = 0; i < clean.length; i++) {
    if (clean.charCodeAt(i) === 10) lineStarts.push(i + 1);
  }
  return { file, text: clean, lineStarts };
}

/** The config location of a source offset (1-based line and column). */
export function whereAt(src: SourceText, offset: number): ConfigWhere {
  let lo = 0;
  let hi = src.lineStarts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((src.lineStarts[mid] ?? 0) <= offset) lo = mid;
    else hi = mid - 1;
  }
  const column = offset - (src.lineStarts[lo] ?? 0) + 1;
  return { kind: "config", file: src.file, line: lo + 1, column };
}

/** The location of a segment's first character (or just past its end when it is empty). */
export function segWhere(
  src: SourceText,
  seg: Seg,
  at = 0,
  end = 0,
): ConfigWhere {
  const offset =
    seg.p[at] ?? (seg.p.length > 0 ? (seg.p.at(-1) ?? 0) + 1 : end);
  return whereAt(src, offset);
}

/** Remove `[from, to)` from a segment. */
export function cut(seg: Seg, from: number, to: number): Seg {
  return {
    s: seg.s.slice(0, from) + seg.s.slice(to),
    p: [...seg.p.slice(0, from), ...seg.p.slice(to)],
  };
}

/** The part `[from, to)` of a segment. */
export function slice(seg: Seg, from: number, to?: number): Seg {
  return { s: seg.s.slice(from, to), p: seg.p.slice(from, to) };
}

// Perl's \s (ASCII whitespace): JavaScript's \s would also take Unicode spaces.
/** Perl's `\s` as a regex source: ASCII whitespace only. */
export const WS = "[ \\t\\n\\r\\f\\v]";

// Trimming is done by hand: a regex like /\s+$/ tries every start position inside a long run of
// whitespace and is quadratic in its length.
/** Whether a UTF-16 code is Perl's ASCII whitespace. */
export function isSpace(code: number): boolean {
  return code === 32 || (code >= 9 && code <= 13);
}

function leadingSpaces(s: string): number {
  let i = 0;
  while (i < s.length && isSpace(s.charCodeAt(i))) i++;
  return i;
}

function trailingSpacesFrom(s: string, start: number): number {
  let end = s.length;
  while (end > start && isSpace(s.charCodeAt(end - 1))) end--;
  return end;
}

/** Trim Perl's whitespace (`s/^\s+//; s/\s+$//`) from a string. */
export function trimText(s: string): string {
  const start = leadingSpaces(s);
  return s.slice(start, trailingSpacesFrom(s, start));
}

/** Trim leading and trailing whitespace (Perl's `s/^\s+//; s/\s+$//`). */
export function trimSeg(seg: Seg): Seg {
  const start = leadingSpaces(seg.s);
  return slice(seg, start, trailingSpacesFrom(seg.s, start));
}

/** Trim leading whitespace. */
export function trimStartSeg(seg: Seg): Seg {
  return slice(seg, leadingSpaces(seg.s));
}

/** Joins segments, in one pass over their characters. */
export function joinSegs(segs: readonly Seg[]): Seg {
  const p: number[] = [];
  for (const seg of segs) for (const offset of seg.p) p.push(offset);
  return { s: segs.map((seg) => seg.s).join(""), p };
}
