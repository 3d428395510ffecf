/** Options of `textToRoff` (man-roff.js). */
export interface RoffOptions {
  /** The page's name in the package, e.g. "portknockd". */
  name: string;
  /** "8" or "1". */
  section: string;
  /** Shown in the footer ("portknock 0.1.0"). */
  version: string;
  /** YYYY-MM-DD, shown in the footer. */
  date: string;
  /** Applied to every text line before escaping. */
  rename?: (line: string) => string;
}

/** The roff text of a manual page; throws an Error naming the line on a malformed text. */
export function textToRoff(text: string, options: RoffOptions): string;

/** The Debian package's command names: knockd → portknockd, the knock command → portknock. */
export function renameCommands(line: string): string;
