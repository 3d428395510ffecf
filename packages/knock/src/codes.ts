/**
 * The codes `knock` reports itself (STYLE.md §5: `AREA_WHAT`). Tests assert these codes, never the
 * wording of messages; a test also checks that every code-shaped literal in `src/` is declared here
 * and that every code declared here is used.
 *
 * Diagnostics from the libraries keep their own codes, declared where they are made:
 * `ArgvCode` and `ConfigCode` (`@portknock/config`), `CodecIssueCode` (`@portknock/codec`). A
 * runtime failure of the operating system prints its errno code (`ENOENT`, `EACCES`, …).
 */
import type { ArgvCode, ConfigCode } from "@portknock/config";
import type { CodecIssueCode } from "@portknock/codec";

/**
 * Every code `knock` makes, with its class: `usage` (a diagnostic, exit 2), `warning` (a
 * diagnostic, exit unchanged), `runtime` (exit 1) or `internal` (a bug, exit 1).
 */
export const KNOCK_CODES = {
  /** The command line does not parse (yargs: an unknown or mistyped option). */
  ARGV_UNKNOWN: "usage",
  /** A value the knock or the mode needs is missing: `-remote`, `-logfile`, `-port`, `-flagN`, `-mask`, `-client`. */
  ARGV_MISSING_VALUE: "usage",
  /** A value that is valid alone but not here: an unknown `{placeholder}` in `-fileformat`, `-method raw` with `-protocol udp`. */
  ARGV_BAD_VALUE: "usage",
  /** A value that does not fit its knock field: `-client` not an address of the format's family, or a value the codec refuses. */
  KNOCK_BAD_VALUE: "usage",
  /** `-remote` names a host that does not resolve (only when sending: `-test` and `-logtofile` never resolve). */
  REMOTE_UNRESOLVED: "usage",
  /** `-remote` is no address a knock can go to: unspecified, multicast, broadcast, or inet_aton shorthand (`0`, `127.1`). */
  REMOTE_BAD_ADDRESS: "usage",
  /** Warning (#14): a value option (`-time`, `-mask`, `-flag1`, …) for a field the knock does not have; it is ignored. */
  KNOCK_FIELD_UNUSED: "warning",
  /** `-method raw` without root or CAP_NET_RAW. */
  RAW_SOCKET_DENIED: "runtime",
  /** `-method raw` without the optional package `raw-socket` (not installed, or its addon not built). */
  RAW_SOCKET_UNAVAILABLE: "runtime",
  /** Sending to a port failed locally with an error that has no errno code. */
  SEND_FAILED: "runtime",
  /** A broken invariant or an unexpected exception: a bug, printed with its stack and "please report". */
  INTERNAL: "internal",
} as const;

/** A code `knock` makes (the keys of `KNOCK_CODES`). */
export type KnockCode = keyof typeof KNOCK_CODES;

/** Every code a `knock` diagnostic can carry: its own and those of the libraries it uses. */
export type KnockDiagnosticCode =
  KnockCode | ArgvCode | ConfigCode | CodecIssueCode;
