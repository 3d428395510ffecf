/**
 * Phase 1 of the Config::General dialect, for one file: physical lines → logical lines. A port of
 * `Config::General::_read` (2.65): here-documents, C comments, `#` comments, `\` continuation,
 * `<name/>` empty blocks and `<<include FILE>>` (handed to the caller). Pure.
 */
import { quoteValue } from "@portknock/core";
import type { GeneralCode } from "./codes.ts";
import type { ConfigWhere } from "./types.ts";
import type { Seg, SourceText } from "./source-text.ts";
import {
  WS,
  cut,
  joinSegs,
  isSpace,
  segWhere,
  slice,
  trimStartSeg,
  whereAt,
} from "./source-text.ts";

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

/** Where one file's logical lines, problems and includes go. */
export interface LineSink {
  chunks: Chunk[];
  report(
    code: GeneralCode,
    where: ConfigWhere,
    message: string,
    severity?: "error" | "warning",
  ): void;
  /** `<<include PATH>>` on the line at `where` (quotes around PATH removed). */
  include(path: string, where: ConfigWhere): void;
}

// The regexes of Config::General 2.65, with `.` written as [^\n] (Perl's `.` also takes \r).
const C_COMMENT_START = /^\s*\/\*/;
const C_COMMENT_END_AT_EOL = /\*\/\s*$/;
const C_COMMENT_END_PREFIX = /^[^\n]*\*\//;
const HASH_COMMENT = /(?<!\\)#[^\n]*$/;
const CONTINUATION = /(?<!\\)\\$/;
const EMPTY_BLOCK = /^\s*<([^/][^\n]*?)\/>\s*$/d;
// As /^\s*([^=]+?)\s*=\s*<<\s*(.+?)\s*$/ and /^\s*(\S+?)\s+<<\s*(.+?)\s*$/, written so that
// no two parts can match the same whitespace (which made long lines quadratic).
const HEREDOC_EQUALS =
  /^\s*([^=\s](?:[^=]*[^=\s])?)\s*=\s*<<\s*(\S(?:[^\n]*\S)?)\s*$/d;
const HEREDOC_SPACE = /^\s*(\S+?)\s+<<\s*(\S(?:[^\n]*\S)?)\s*$/d;
const INCLUDE = /^\s*<<include\s+([^\n]+?)>>\s*$/i;

interface HereDocState {
  key: Seg;
  end: RegExp;
  line: number;
  body: string[];
}

// One file's state, as in _read: the here-doc, C-comment and continuation states do not carry
// over into included files.
interface FileState {
  src: SourceText;
  sink: LineSink;
  hier?: HereDocState | undefined;
  /** The parts of a continued line so far, joined once it ends (joining each time was quadratic). */
  longline?: Seg[] | undefined;
  cComment?: ConfigWhere | undefined;
}

/** Read one file's lines into `sink`; includes are handed to `sink.include` where they occur. */
export function readLogicalLines(src: SourceText, sink: LineSink): void {
  const st: FileState = { src, sink };
  let start = 0;
  for (const [i, line] of src.text.split("\n").entries()) {
    const lineStart = start;
    start += line.length + 1;
    const raw = line.endsWith("\r") ? line.slice(0, -1) : line;
    readLine(st, raw, lineStart, i + 1);
  }
  finishFile(st);
}

function readLine(
  st: FileState,
  raw: string,
  lineStart: number,
  lineNo: number,
): void {
  const { src, sink } = st;
  if (st.hier) {
    const m = st.hier.end.exec(raw);
    if (!m) st.hier.body.push(raw);
    else {
      sink.chunks.push(finishHereDoc(src, st.hier, m[1] ?? ""));
      st.hier = undefined;
    }
    return;
  }
  const seg = stripComments(st, {
    s: raw,
    p: Array.from({ length: raw.length }, (_, k) => lineStart + k),
  });
  if (!seg) return;
  if (CONTINUATION.test(seg.s)) {
    const part = trimStartSeg(slice(seg, 0, seg.s.length - 1));
    (st.longline ??= []).push(part);
    return;
  }
  if (emptyBlock(st, seg) || hereDocStart(st, seg, lineNo)) return;
  if (st.longline) {
    const whole = joinSegs([...st.longline, trimStartSeg(seg)]);
    sink.chunks.push({ kind: "line", src, seg: whole });
    st.longline = undefined;
    return;
  }
  if (/^\s*$/.test(seg.s)) return;
  const inc = INCLUDE.exec(seg.s);
  if (inc) sink.include(unquotePath(inc[1] ?? ""), whereAt(src, lineStart));
  else sink.chunks.push({ kind: "line", src, seg });
}

/** C comments (on by default in Config::General), then `#` comments; `undefined`: skip the line. */
function stripComments(st: FileState, line: Seg): Seg | undefined {
  let seg = line;
  const one = oneLineComment(seg.s);
  if (one) {
    seg = cut(seg, one[0], one[1]);
  } else if (C_COMMENT_START.test(seg.s)) {
    if (C_COMMENT_END_AT_EOL.test(seg.s)) st.cComment = undefined;
    else st.cComment ??= segWhere(st.src, seg);
  } else if (seg.s.includes("*/")) {
    if (!st.cComment) {
      st.sink.report(
        "CONFIG_STRAY_COMMENT_END",
        segWhere(st.src, seg, seg.s.indexOf("*/")),
        "found */ without a previous /*; the line up to it is ignored",
        "warning",
      );
    }
    st.cComment = undefined;
    const m = C_COMMENT_END_PREFIX.exec(seg.s);
    if (m) seg = cut(seg, 0, m[0].length);
  }
  if (st.cComment) return undefined;
  const hash = HASH_COMMENT.exec(seg.s);
  return hash ? slice(seg, 0, hash.index) : seg;
}

/**
 * Where Config::General's one-line C-comment substitution cuts: from the whitespace before the
 * first comment start to the whitespace after the last comment end on the line (its `.*` is
 * greedy). Done by hand: the regex, with its leading whitespace, is quadratic on long lines.
 */
function oneLineComment(s: string): [number, number] | undefined {
  const open = s.indexOf("/*");
  const close = s.lastIndexOf("*/");
  if (open < 0 || close < open + 2) return undefined;
  let from = open;
  while (from > 0 && isSpace(s.charCodeAt(from - 1))) from--;
  let to = close + 2;
  while (to < s.length && isSpace(s.charCodeAt(to))) to++;
  return [from, to];
}

/** `<name X/>` is `<name X>` followed by `</name>`. */
function emptyBlock(st: FileState, seg: Seg): boolean {
  const empty = EMPTY_BLOCK.exec(seg.s);
  if (!empty?.indices?.[1]) return false;
  const slash = empty.indices[1][1];
  const type = (empty[1] ?? "").replace(/\s[\s\S]*$/, "");
  const closeText = `</${type}>`;
  const at = seg.p[slash] ?? 0;
  const close: Seg = {
    s: closeText,
    p: Array.from({ length: closeText.length }, () => at),
  };
  st.sink.chunks.push(
    { kind: "line", src: st.src, seg: cut(seg, slash, slash + 1) },
    { kind: "line", src: st.src, seg: close },
  );
  return true;
}

/** `name <<EOT` or `name = <<EOT` starts a here-document. */
function hereDocStart(st: FileState, seg: Seg, lineNo: number): boolean {
  const heredoc = HEREDOC_EQUALS.exec(seg.s) ?? HEREDOC_SPACE.exec(seg.s);
  if (!heredoc?.indices?.[1]) return false;
  const [from, to] = heredoc.indices[1];
  const marker = (heredoc[2] ?? "").replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  st.hier = {
    key: slice(seg, from, to),
    end: new RegExp(`^(${WS}*)${marker}${WS}*$`),
    line: lineNo,
    body: [],
  };
  return true;
}

function finishFile(st: FileState): void {
  const { src, sink } = st;
  if (st.hier) {
    sink.report(
      "CONFIG_UNTERMINATED_HEREDOC",
      whereAt(src, src.lineStarts[st.hier.line - 1] ?? 0),
      `here-document ${quoteValue(st.hier.key.s)} is not closed by its end marker`,
    );
  }
  if (st.longline) {
    // compat: Config::General silently drops a continued last line; we keep it and warn.
    const whole = joinSegs(st.longline);
    sink.report(
      "CONFIG_CONTINUATION_EOF",
      segWhere(src, whole),
      "the last line ends in \\ but no line follows",
      "warning",
    );
    sink.chunks.push({ kind: "line", src, seg: whole });
  }
  if (st.cComment) {
    sink.report(
      "CONFIG_UNTERMINATED_COMMENT",
      st.cComment,
      "/* comment is not closed; the rest of the file is ignored",
      "warning",
    );
  }
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
