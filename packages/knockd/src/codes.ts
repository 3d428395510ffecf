/**
 * The codes knockd itself emits (STYLE.md §5, §7), on stderr as `knockd: CODE: message` or in a
 * log event's `code` field. Codes of the libraries (`CONFIG_*`, `KNOCK_*`, `LOG_*`, `PCAP_*`,
 * `ENGINE_*`, `STORE_*`) and operating-system error codes (`ENOENT`, `EACCES`, …) pass through
 * with their own meaning.
 */
export const KNOCKD_CODES = {
  /** No `-conf` and no configuration file in the search path. */
  CONFIG_NOT_FOUND: "no configuration file was found",
  /** The log file, log command or capture could not be opened, for a reason without a code. */
  SOURCE_OPEN_FAILED: "the source of hits could not be opened",
  /** The source of hits failed while it was read, for a reason without a code. */
  SOURCE_FAILED: "the source of hits failed; it is reopened with back-off",
  /** `-replay FILE` could not be read to the end, for a reason without a code. */
  REPLAY_FAILED: "the replayed file could not be read",
  /** An unexpected exception: a bug, reported with its stack. */
  INTERNAL: "an internal error: please report it",
} as const;

/** A code knockd emits. */
export type KnockdCode = keyof typeof KNOCKD_CODES;

/** The `code` of an error, if it has a string one, else `fallback`. */
export function codeOf(error: unknown, fallback: KnockdCode): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && code !== "" ? code : fallback;
}
