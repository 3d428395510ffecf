/**
 * Diagnostics: bad input from outside (a config line, a log line, a packet, a knock, a CLI flag)
 * described as plain data. Parsers collect these instead of throwing (STYLE.md §5).
 */

/** Where a piece of bad input came from. */
export type Where =
  | { kind: "config"; file: string; line: number; column?: number }
  | { kind: "log"; file: string; line: number }
  | { kind: "packet"; iface: string; srcIp: string }
  | { kind: "argv"; flag: string };

/** One finding about bad input: a code, a severity, one sentence, and where it came from. */
export interface Diagnostic<C extends string = string> {
  code: C;
  severity: "error" | "warning";
  message: string;
  where: Where;
}

/**
 * Format a `Where` as `file:line[:col]`, `argv -flag`, `packet iface from ip`. A config line 0
 * means the file as a whole (a missing key) and is formatted as `file`.
 */
export function formatWhere(where: Where): string {
  switch (where.kind) {
    case "config":
    case "log":
      if (where.kind === "config" && where.line === 0) return where.file;
      return `${where.file}:${where.line}${
        where.kind === "config" && where.column != null
          ? `:${where.column}`
          : ""
      }`;
    case "packet":
      return `${where.iface} from ${where.srcIp}`;
    case "argv":
      return `option ${where.flag}`;
  }
}

/** Widest excerpt of a source line quoted under a diagnostic, in characters. */
export const EXCERPT_WIDTH: number = 120;

// The line starts of the last text quoted: a file with many diagnostics is indexed once, not
// split again for each of them.
let indexedText: string | undefined;
let lineStarts: number[] = [];

function sourceLine(text: string, line: number): string | undefined {
  if (text !== indexedText) {
    lineStarts = [0];
    for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) {
      lineStarts.push(i + 1);
    }
    indexedText = text;
  }
  const start = lineStarts[line - 1];
  if (start === undefined) return undefined;
  const next = lineStarts[line];
  let end = next === undefined ? text.length : next - 1;
  if (end > start && text.charCodeAt(end - 1) === 13) end--;
  return text.slice(start, end);
}

/**
 * Format a diagnostic as `file:line:col: error CODE: message`. When `sourceText` is the text of
 * the file the diagnostic points into, the line is quoted below it with a caret under the column;
 * a line longer than `EXCERPT_WIDTH` is cut around the column, with `…` where it was cut.
 */
export function formatDiagnostic(d: Diagnostic, sourceText?: string): string {
  const head = `${formatWhere(d.where)}: ${d.severity} ${d.code}: ${d.message}`;
  if (sourceText == null || d.where.kind !== "config") return head;
  const lineText = sourceLine(sourceText, d.where.line);
  if (lineText == null) return head;
  const col = Math.max(1, Math.min(d.where.column ?? 1, lineText.length + 1));
  let from = 0;
  let to = lineText.length;
  if (to > EXCERPT_WIDTH) {
    from = Math.max(
      0,
      Math.min(col - 1 - EXCERPT_WIDTH / 2, to - EXCERPT_WIDTH),
    );
    to = Math.min(to, from + EXCERPT_WIDTH);
  }
  const before = from > 0 ? "…" : "";
  const after = to < lineText.length ? "…" : "";
  const excerpt = `${before}${lineText.slice(from, to)}${after}`;
  const caret = " ".repeat(before.length + col - 1 - from) + "^";
  return `${head}\n  ${excerpt}\n  ${caret}`;
}

/** Diagnostics shown per code before the rest are summed up (`capDiagnostics`). */
export const DIAGNOSTICS_PER_CODE: number = 20;

/**
 * The first `perCode` diagnostics of each code, in order; the rest of a code are replaced by one
 * diagnostic after them, at the first one left out: `… and N more CODE findings`, an error if
 * any of them was. A broken 44 KB file then prints a screenful, not megabytes.
 */
export function capDiagnostics<C extends string>(
  diagnostics: readonly Diagnostic<C>[],
  perCode: number = DIAGNOSTICS_PER_CODE,
): Diagnostic<C>[] {
  const shown = new Map<C, number>();
  const hidden = new Map<
    C,
    { first: Diagnostic<C>; n: number; error: boolean }
  >();
  const out: Diagnostic<C>[] = [];
  for (const d of diagnostics) {
    const n = shown.get(d.code) ?? 0;
    if (n < perCode) {
      shown.set(d.code, n + 1);
      out.push(d);
      continue;
    }
    const h = hidden.get(d.code);
    if (h) {
      h.n++;
      h.error ||= d.severity === "error";
    } else {
      hidden.set(d.code, { first: d, n: 1, error: d.severity === "error" });
    }
  }
  for (const [code, h] of hidden) {
    out.push({
      code,
      severity: h.error ? "error" : "warning",
      message: `… and ${h.n} more ${code} finding${h.n === 1 ? "" : "s"}, not shown`,
      where: h.first.where,
    });
  }
  return out;
}

/** Whether any diagnostic in the list is an error (warnings do not make input invalid). */
export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === "error");
}

/**
 * Sort diagnostics by place: files in `files` order (others after, by name), then line and column;
 * command-line and other non-file diagnostics last. Stable: equal places keep their order.
 */
export function sortDiagnostics<D extends Diagnostic>(
  diagnostics: readonly D[],
  files: readonly string[] = [],
): D[] {
  const fileRank = (w: Where): number => {
    if (w.kind !== "config" && w.kind !== "log") return Number.MAX_SAFE_INTEGER;
    const i = files.indexOf(w.file);
    return i >= 0 ? i : files.length;
  };
  return [...diagnostics].sort((a, b) => {
    const ra = fileRank(a.where);
    const rb = fileRank(b.where);
    if (ra !== rb) return ra - rb;
    const wa = a.where;
    const wb = b.where;
    if (wa.kind === "config" && wb.kind === "config") {
      if (wa.file !== wb.file) return wa.file < wb.file ? -1 : 1;
      if (wa.line !== wb.line) return wa.line - wb.line;
      return (wa.column ?? 0) - (wb.column ?? 0);
    }
    return 0;
  });
}
