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
  /** The statefile's directory is missing (and so is its parent) or cannot be written. */
  STATEFILE_DIR_UNUSABLE: "the statefile's directory cannot be used",
  /** The statefile could not be written at stop, after retries: the last state changes are lost. */
  STATEFILE_NOT_SAVED: "the statefile could not be saved at stop",
  /** The `metrics` endpoint cannot listen on its address (EADDRINUSE, EACCES, …). */
  METRICS_LISTEN_FAILED: "the metrics endpoint cannot listen on its address",
  // The environment (`-check`, and before the daemon opens anything; environment.ts).
  /** warning: `logfile` does not exist (yet): the follower waits for it. */
  ENV_LOGFILE_MISSING: "the log file does not exist yet",
  /** `logfile` cannot be read (EACCES, ENOTDIR, …). */
  ENV_LOGFILE_UNREADABLE: "the log file cannot be read",
  /** `logfile` is a FIFO, a device, a directory or a socket, not a regular file. */
  ENV_LOGFILE_NOT_REGULAR: "the log file is not a regular file",
  /** Network mode: an `interface` is not a device of this network namespace. */
  ENV_INTERFACE_MISSING: "a capture interface does not exist",
  /** The program of `logcommand` or of an action's `system` command is not found (ENOENT). */
  ENV_EXECUTABLE_MISSING: "an executable is not found",
  /** The program of `logcommand` or of a `system` command is not an executable file (EACCES). */
  ENV_EXECUTABLE_NOT_EXECUTABLE: "an executable is not an executable file",
  /** warning: a template writes `CLIENT/32` or runs iptables with an address that may be IPv6. */
  ENV_IPV6_CLIENT_IPV4_TEMPLATE:
    "an IPv4-only template may get an IPv6 address",
  /** `-replay FILE` could not be read to the end, for a reason without a code. */
  REPLAY_FAILED: "the replayed file could not be read",
  /** An unexpected exception: a bug, reported with its stack. */
  INTERNAL: "an internal error: please report it",
  // The security audit (`-check`, and logged at start).
  /** sealed: the key is the public one of the shipped example. */
  AUDIT_EXAMPLE_KEY: "the key is the public example key",
  /** sealed: a key is a passphrase (scrypt-derived) rather than a random `knock -genkey` key. */
  AUDIT_PASSPHRASE_KEY: "a key is a passphrase",
  /** sealed: `requiresource = no`, so a captured knock works from another source. */
  AUDIT_NO_REQUIRESOURCE: "CLIENT need not match the packet's source",
  /** sealed: actions use USER while a shared key (which gives no USER) is also set. */
  AUDIT_USER_WITH_SHARED_KEY: "actions use USER besides a shared key",
  /** sealed: the time window is wide. */
  AUDIT_WIDE_WINDOW: "the time window is wide",
  /** sealed: no statefile, so the replay cache does not survive a restart. */
  AUDIT_REPLAY_CACHE_MEMORY: "the replay cache is lost on restart",
  /** The prototype's compat format: forgeable, replayable, brute-forceable. */
  AUDIT_COMPAT_FORMAT: "format = compat",
  /** compat: knocks are not encrypted. */
  AUDIT_NO_ENCRYPTION: "encrypt = no",
  /** compat: DES. */
  AUDIT_WEAK_CIPHER: "cipher = DES",
  /** compat: no IV, so a knock repeats exactly. */
  AUDIT_NO_IV: "iv = no",
  /** compat: a fixed IV. */
  AUDIT_FIXED_IV: "ivvalue with iv = yes",
  /** compat: a short key, cheap to guess through MD5. */
  AUDIT_SHORT_KEY: "the key is short",
  /** compat: no TIME field, so a knock stays valid forever. */
  AUDIT_NO_TIME: "the knock has no TIME field",
  /** The knock has no CLIENT/IP field. */
  AUDIT_NO_CLIENT: "the knock has no CLIENT field",
  /** compat: neither CHECKSUM nor encryption. */
  AUDIT_NO_CHECKSUM: "no CHECKSUM and no encryption",
  /** No statefile: state and pending delayed actions are kept in memory only. */
  AUDIT_NO_STATEFILE: "no statefile",
  /** `knocktimeout` is long. */
  AUDIT_LONG_TIMEOUT: "knocktimeout is long",
  /** `metrics` listens on an address other hosts can reach. */
  AUDIT_METRICS_EXPOSED: "the metrics endpoint is reachable from other hosts",
  /** `logcommand` is `journalctl -o cat` without `-k`: other programs' text reads as records. */
  AUDIT_UNTAGGED_LOGCOMMAND:
    "logcommand prints every program's messages untagged",
} as const;

/** A code knockd emits. */
export type KnockdCode = keyof typeof KNOCKD_CODES;

/** The `code` of an error, if it has a string one, else `fallback`. */
export function codeOf(error: unknown, fallback: KnockdCode): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && code !== "" ? code : fallback;
}
