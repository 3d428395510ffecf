/**
 * Log-source codes (STYLE.md §5). Bad log lines are counted rejections (`RejectCode`), bad
 * `<logformat>` blocks and `logcommand` lines are `Diagnostic`s (`FormatCode`, `CommandCode`);
 * exceptions (`LogSourceError`) are for misuse and environment failures only.
 */
import { PortknockError } from "@portknock/core";

/** Why a log line that looked like a hit was not one (spec: daemon.md §1). */
export type RejectCode =
  /** The client or server address captured is not a valid IPv4 or IPv6 address. */
  | "LOG_BAD_IP"
  /** The destination or source port captured is not an integer 0–65535. */
  | "LOG_BAD_PORT"
  /** `required` matched, but the `ipclient` or `port` regex did not. */
  | "LOG_NO_MATCH"
  /**
   * A `logcommand` line stamped before the command's run started (its backlog, e.g. the last
   * entries `journalctl -f` prints first): an old line, never a knock (issue #15).
   */
  | "LOG_LINE_BEFORE_START"
  /**
   * A line over 4,096 characters that looks like a record (an `IN=` for the built-in format,
   * `required` in its first 4,096 characters for a `<logformat>`): not parsed, but never dropped
   * silently (issue #16).
   */
  | "LOG_LINE_TOO_LONG"
  /**
   * The followed path is not a regular file (a FIFO, a device, a directory, a socket): not
   * opened, checked again every `fileinterval` (issue #16).
   */
  | "LOG_NOT_REGULAR";

/** Codes of `<logformat>` diagnostics produced by `compileLogFormat`. */
export type FormatCode =
  /**
   * JavaScript cannot compile the regex, it uses a Perl-only escape, or a construct the
   * linear-time engine cannot run (a back-reference, a lookaround, a count over 1000).
   */
  | "LOG_FORMAT_BAD_REGEX"
  /** A value regex (all but `required`) has no capture group. */
  | "LOG_FORMAT_NO_CAPTURE"
  /** `ipclient` or `port` is missing. */
  | "LOG_FORMAT_MISSING_KEY";

/** Codes of `logcommand` diagnostics produced by `parseLogCommand`. */
export type CommandCode =
  /** A shell metacharacter outside quotes: no shell runs, so it cannot mean what it says. */
  | "LOG_COMMAND_METACHAR"
  /** A quote is opened and never closed. */
  | "LOG_COMMAND_QUOTE"
  /** The command line has no words. */
  | "LOG_COMMAND_EMPTY";

/** Codes of `LogSourceError`. */
export type LogSourceErrorCode =
  /** The followed file could not be read (other than not existing), e.g. EACCES. */
  | "LOG_READ_FAILED"
  /** An unknown built-in log format name. */
  | "LOG_UNKNOWN_FORMAT"
  /** `setFormat` on a replay in blocks, whose format is fixed when it starts. */
  | "LOG_FORMAT_FIXED"
  /** The replayed path is not a regular file (a FIFO, a device, a directory): refused. */
  | "LOG_NOT_REGULAR";

/** Thrown by log sources on misuse or on I/O failure. */
export class LogSourceError extends PortknockError<LogSourceErrorCode> {
  override name = "LogSourceError";
}
