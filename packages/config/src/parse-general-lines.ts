/**
 * Phase 1 of the Config::General dialect: physical lines → logical lines. A port of
 * `Config::General::_read` (2.65): here-documents, C comments, `#` comments, `\` continuation,
 * `<name/>` empty blocks and `<<include FILE>>`. Pure: files are read through a callback.
 */
import type { Diagnostic } from "./diagnostics.ts";
import { quoteValue } from "./diagnostics.ts";
import type { GeneralCode } from "./codes.ts";
import type { ConfigWhere } from "./types.ts";

/** What the include callback returns: the included text and the path to report it under. */
export interface IncludedFile {
  text: string;
  /** The resolved path; also the identity used to detect cycles. */
  file: string;
}

/** Resolves `<<include PATH>>` written in `fromFile`; an `Error` becomes a diagnostic. */
export type IncludeFn = (
  path: string,
  fromFile: string,
) => IncludedFile | Error;

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

/** A logical line, or a here-document (`key <<EOT` … `EOT`). */
export type Chunk =
  | { kind: "line"; src: SourceText; seg: Seg }
  | {
      kind: "heredoc";
      src: SourceText;
      key: Seg;
      body: string;
      bodyLine: number;
    };

/** The logical lines of a file and its includes, in reading order. */
export interface ReadResult {
  chunks: Chunk[];
  diagnostics: Diagnostic<GeneralCode>[];
  /** Every file read, the main file first. */
  files: string[];
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
const WS = "[ \\t\\n\\r\\f\\v]";
const LEADING_WS = new RegExp(`^${WS}+`);
const TRAILING_WS = new RegExp(`${WS}+$`);

/** Trim leading and trailing whitespace (Perl's `s/^\s+//; s/\s+$//`). */
export function trimSeg(seg: Seg): Seg {
  const start = LEADING_WS.exec(seg.s)?.[0].length ?? 0;
  const rest = seg.s.slice(start);
  const endCut = TRAILING_WS.exec(rest)?.[0].length ?? 0;
  return slice(seg, start, seg.s.length - endCut);
}

function trimStartSeg(seg: Seg): Seg {
  return slice(seg, LEADING_WS.exec(seg.s)?.[0].length ?? 0);
}

// The regexes of Config::General 2.65, with `.` written as [^\n] (Perl's `.` also takes \r).
const C_COMMENT_ONE_LINE = /\s*\/\*[^\n]*\*\/\s*/;
const C_COMMENT_START = /^\s*\/\*/;
const C_COMMENT_END_AT_EOL = /\*\/\s*$/;
const C_COMMENT_END_PREFIX = /^[^\n]*\*\//;
const HASH_COMMENT = /(?<!\\)#[^\n]*$/;
const CONTINUATION = /(?<!\\)\\$/;
const EMPTY_BLOCK = /^\s*<([^/][^\n]*?)\/>\s*$/d;
const HEREDOC_EQUALS = /^\s*([^=]+?)\s*=\s*<<\s*([^\n]+?)\s*$/d;
const HEREDOC_SPACE = /^\s*(\S+?)\s+<<\s*([^\n]+?)\s*$/d;
const INCLUDE = /^\s*<<include\s+([^\n]+?)>>\s*$/i;

interface Reader {
  include: IncludeFn | undefined;
  chunks: Chunk[];
  diagnostics: Diagnostic<GeneralCode>[];
  seen: Set<string>;
  files: string[];
}

/**
 * Read `text` (named `file`) and everything it includes into logical lines. Never throws: every
 * problem is a diagnostic naming file and line.
 */
export function readChunks(
  text: string,
  file: string,
  include?: IncludeFn,
): ReadResult {
  const reader: Reader = {
    include,
    chunks: [],
    diagnostics: [],
    seen: new Set([file]),
    files: [file],
  };
  readFile(reader, makeSource(file, text), [file]);
  return {
    chunks: reader.chunks,
    diagnostics: reader.diagnostics,
    files: reader.files,
  };
}

function report(
  r: Reader,
  code: GeneralCode,
  where: ConfigWhere,
  message: string,
  severity: "error" | "warning" = "error",
): void {
  r.diagnostics.push({ code, severity, message, where });
}

interface HereDocState {
  key: Seg;
  end: RegExp;
  line: number;
  body: string[];
}

// One file's state machine, as in _read: the here-doc, C-comment and continuation states do not
// carry over into included files.
function readFile(r: Reader, src: SourceText, stack: readonly string[]): void {
  const lines = src.text.split("\n");
  let hier: HereDocState | undefined;
  let longline: Seg | undefined;
  let cComment: ConfigWhere | undefined;
  let start = 0;
  for (let i = 0; i < lines.length; i++) {
    let raw = lines[i] ?? "";
    const lineStart = start;
    start += raw.length + 1;
    if (raw.endsWith("\r")) raw = raw.slice(0, -1);
    const lineNo = i + 1;

    if (hier) {
      const m = hier.end.exec(raw);
      if (m) {
        r.chunks.push(finishHereDoc(src, hier, m[1] ?? ""));
        hier = undefined;
      } else {
        hier.body.push(raw);
      }
      continue;
    }

    let seg: Seg = {
      s: raw,
      p: Array.from({ length: raw.length }, (_, k) => lineStart + k),
    };

    // C comments (CComments is on by default in Config::General).
    const one = C_COMMENT_ONE_LINE.exec(seg.s);
    if (one) {
      seg = cut(seg, one.index, one.index + one[0].length);
    } else if (C_COMMENT_START.test(seg.s)) {
      if (C_COMMENT_END_AT_EOL.test(seg.s)) cComment = undefined;
      else cComment ??= whereAt(src, lineStart);
    } else if (seg.s.includes("*/")) {
      if (!cComment) {
        report(
          r,
          "CONFIG_STRAY_COMMENT_END",
          whereAt(src, lineStart + seg.s.indexOf("*/")),
          "found */ without a previous /*; the line up to it is ignored",
          "warning",
        );
      }
      cComment = undefined;
      const m = C_COMMENT_END_PREFIX.exec(seg.s);
      if (m) seg = cut(seg, 0, m[0].length);
    }
    if (cComment) continue;

    const hash = HASH_COMMENT.exec(seg.s);
    if (hash) seg = slice(seg, 0, hash.index);

    if (CONTINUATION.test(seg.s)) {
      const part = trimStartSeg(slice(seg, 0, seg.s.length - 1));
      longline = longline ? concat(longline, part) : part;
      continue;
    }

    const empty = EMPTY_BLOCK.exec(seg.s);
    if (empty?.indices?.[1]) {
      // `<name X/>` is `<name X>` followed by `</name>`.
      const slash = empty.indices[1][1];
      const open = cut(seg, slash, slash + 1);
      const type = (empty[1] ?? "").replace(/\s[\s\S]*$/, "");
      const closeText = `</${type}>`;
      const close: Seg = {
        s: closeText,
        p: Array.from(
          { length: closeText.length },
          () => seg.p[slash] ?? lineStart,
        ),
      };
      r.chunks.push(
        { kind: "line", src, seg: open },
        { kind: "line", src, seg: close },
      );
      continue;
    }

    const heredoc = HEREDOC_EQUALS.exec(seg.s) ?? HEREDOC_SPACE.exec(seg.s);
    if (heredoc?.indices?.[1]) {
      const [from, to] = heredoc.indices[1];
      const marker = (heredoc[2] ?? "").replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      hier = {
        key: slice(seg, from, to),
        end: new RegExp(`^(${WS}*)${marker}${WS}*$`),
        line: lineNo,
        body: [],
      };
      continue;
    }

    if (longline) {
      r.chunks.push({
        kind: "line",
        src,
        seg: concat(longline, trimStartSeg(seg)),
      });
      longline = undefined;
      continue;
    }

    if (/^\s*$/.test(seg.s)) continue;

    const inc = INCLUDE.exec(seg.s);
    if (inc) {
      includeFile(
        r,
        src,
        stack,
        unquotePath(inc[1] ?? ""),
        whereAt(src, lineStart),
      );
      continue;
    }

    r.chunks.push({ kind: "line", src, seg });
  }

  if (hier) {
    report(
      r,
      "CONFIG_UNTERMINATED_HEREDOC",
      whereAt(src, src.lineStarts[hier.line - 1] ?? 0),
      `here-document ${quoteValue(hier.key.s)} is not closed by its end marker`,
    );
  }
  if (longline) {
    // compat: Config::General silently drops a continued last line; we keep it and warn.
    report(
      r,
      "CONFIG_CONTINUATION_EOF",
      segWhere(src, longline),
      "the last line ends in \\ but no line follows",
      "warning",
    );
    r.chunks.push({ kind: "line", src, seg: longline });
  }
  if (cComment) {
    report(
      r,
      "CONFIG_UNTERMINATED_COMMENT",
      cComment,
      "/* comment is not closed; the rest of the file is ignored",
      "warning",
    );
  }
}

function concat(a: Seg, b: Seg): Seg {
  return { s: a.s + b.s, p: [...a.p, ...b.p] };
}

function unquotePath(path: string): string {
  const m = /^(["'])(.*)\1$/.exec(path.trim());
  return m ? (m[2] ?? "") : path.trim();
}

function finishHereDoc(
  src: SourceText,
  hier: HereDocState,
  indent: string,
): Chunk {
  // As _read: an indented end marker removes that indentation from every line; the value is
  // trimmed later (so without an indented marker, only the first line loses its indentation).
  const body = indent
    ? hier.body
        .map((l) => (l.startsWith(indent) ? l.slice(indent.length) : l) + "\n")
        .join("")
    : hier.body.join("\n");
  return { kind: "heredoc", src, key: hier.key, body, bodyLine: hier.line + 1 };
}

function includeFile(
  r: Reader,
  src: SourceText,
  stack: readonly string[],
  path: string,
  where: ConfigWhere,
): void {
  if (!r.include) {
    report(
      r,
      "CONFIG_INCLUDE_FAILED",
      where,
      `cannot include ${quoteValue(path)}: includes are not available here`,
    );
    return;
  }
  let result: IncludedFile | Error;
  try {
    result = r.include(path, src.file);
  } catch (cause) {
    result = cause instanceof Error ? cause : new Error(String(cause));
  }
  if (result instanceof Error) {
    report(
      r,
      "CONFIG_INCLUDE_FAILED",
      where,
      `cannot include ${quoteValue(path)}: ${result.message}`,
    );
    return;
  }
  if (stack.includes(result.file)) {
    const chain = [...stack, result.file].join(" → ");
    report(r, "CONFIG_INCLUDE_CYCLE", where, `include cycle: ${chain}`);
    return;
  }
  if (r.seen.has(result.file)) {
    report(
      r,
      "CONFIG_INCLUDE_REPEATED",
      where,
      `${quoteValue(result.file)} was already included; it is not read again`,
      "warning",
    );
    return;
  }
  r.seen.add(result.file);
  r.files.push(result.file);
  readFile(r, makeSource(result.file, result.text), [...stack, result.file]);
}
