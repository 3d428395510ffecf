/**
 * The lines a log source reads (spec: daemon.md §1); the hits decoded from them are
 * `@portknock/core`'s `KnockHit`.
 */

/** One line of a log, without its line terminator (`\n` or `\r\n`). */
export interface LogLine {
  /** The line's text, decoded as UTF-8 (invalid bytes become U+FFFD). */
  text: string;
  /** The file it came from, or the command's name (`journalctl`) for `runLogCommand`. */
  file: string;
  /**
   * 1-based line number. `followLog`: lines since the follower started on this file (it starts at
   * the end, so the first new line is 1) and restarted at 1 after each rotation, truncation or
   * re-creation, when reading starts again at byte 0 (so from then on it is the line's number in
   * the file). `readLogFile`: the line's number in the file. `runLogCommand`: lines since the
   * source started, across restarts of the command.
   */
  lineNo: number;
}
