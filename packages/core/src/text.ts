/**
 * Untrusted text made safe to show: quoted in a message (STYLE.md §5) or escaped in a log field
 * (STYLE.md §8). Pure.
 */

/** Longest untrusted text logged, in characters (before escaping). */
export const MAX_LOG_INPUT: number = 200;

// eslint-disable-next-line no-control-regex -- control characters are what we escape
const CONTROL = /[\\\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

/**
 * Quote an untrusted value for a message: JSON-quoted (control characters escaped), at most `max`
 * characters of the original (then `…`).
 */
export function quoteValue(value: string, max = 80): string {
  const cut = value.length > max ? value.slice(0, max) + "…" : value;
  return JSON.stringify(cut);
}

/**
 * `text` made safe for a log field: at most `max` characters (then `…`), with control and line
 * separator characters written as `\n`, `\t`, `\xNN` or `\uNNNN`, and backslashes doubled.
 */
export function escapeInput(text: string, max: number = MAX_LOG_INPUT): string {
  const cut = text.length > max ? text.slice(0, max) : text;
  const escaped = cut.replace(CONTROL, (c) => {
    if (c === "\\") return "\\\\";
    if (c === "\n") return "\\n";
    if (c === "\t") return "\\t";
    if (c === "\r") return "\\r";
    const code = c.charCodeAt(0);
    return code < 0x100
      ? `\\x${code.toString(16).padStart(2, "0")}`
      : `\\u${code.toString(16).padStart(4, "0")}`;
  });
  return text.length > max ? `${escaped}…` : escaped;
}

/** An argv made safe for a log field (each word escaped, at most 32 words). */
export function escapeArgv(argv: readonly string[]): string[] {
  const words = argv.slice(0, 32).map((w) => escapeInput(w));
  if (argv.length > 32) words.push(`… ${argv.length - 32} more`);
  return words;
}
