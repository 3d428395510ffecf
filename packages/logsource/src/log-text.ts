/**
 * Untrusted text in log fields (STYLE.md §8): truncated, control characters escaped.
 */

/** Longest untrusted text logged, in characters (before escaping). */
export const MAX_LOG_INPUT: number = 200;

// eslint-disable-next-line no-control-regex -- control characters are what we escape
const CONTROL = /[\\\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

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

/**
 * A value quoted for a rejection message: JSON-quoted (control characters escaped), at most 80
 * characters of the original (then `…`). The same as `quoteValue` of `@portknock/config`
 * (a test holds them equal), here so that a replay worker, which needs only the line parser,
 * does not load the config package (5 MiB and 8 ms per worker).
 */
export function quoteLogValue(value: string): string {
  return JSON.stringify(value.length > 80 ? value.slice(0, 80) + "…" : value);
}
