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

/**
 * Format a diagnostic as `file:line:col: error CODE: message`. When `sourceText` is the text of
 * the file the diagnostic points into, the line is quoted below it with a caret under the column.
 */
export function formatDiagnostic(d: Diagnostic, sourceText?: string): string {
  const head = `${formatWhere(d.where)}: ${d.severity} ${d.code}: ${d.message}`;
  if (sourceText == null || d.where.kind !== "config") return head;
  const lineText = sourceText.split(/\r?\n/)[d.where.line - 1];
  if (lineText == null) return head;
  const col = d.where.column ?? 1;
  const caret = " ".repeat(Math.max(0, col - 1)) + "^";
  return `${head}\n  ${lineText}\n  ${caret}`;
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
