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
  /** warning: a compat `grant` to CLIENT (IPv4 only) while knocks may come over IPv6 (issue #17). */
  ENV_IPV6_GRANT_IPV4_CLIENT:
    "a grant to CLIENT (IPv4 only) while knocks may come over IPv6",
  /** `-firewall-remove` without a `<firewall>` block, or the firewall could not be set up or removed (issue #17). */
  FIREWALL_NOT_MANAGED: "the configuration manages no firewall",
  /** `-replay FILE` could not be read to the end, for a reason without a code. */
  REPLAY_FAILED: "the replayed file could not be read",
  // The cluster (issue #19).
  /** warning (`-check`): the `<cluster>` block's Redis does not answer; knockd would start degraded. */
  CLUSTER_UNREACHABLE: "the cluster's Redis does not answer",
  /** warning at start: no knock key to seal pending delayed actions in Redis with; they are never loaded from it. */
  CLUSTER_PENDING_UNSEALED:
    "pending delayed actions are not loaded from Redis (no knock key)",
  /** A valid sealed knock another gateway of the cluster accepted first (its name is logged). */
  KNOCK_REPLAY: "a sealed knock the cluster's replay cache already holds",
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
  // `knockd -init` (init-plan.ts, commands/init.ts): its flags, and the files it writes.
  /** -init without a flag it needs (`-protect`, `-remote`, `-dir`; `-interface` in network mode). */
  INIT_MISSING_FLAG: "knockd -init needs a flag that is missing",
  /** An -init flag without -init, a flag -init does not take, or a one-value flag given twice. */
  INIT_FLAG_MISUSE: "a flag that does not go with (or without) -init",
  /** `-protect` that is not `tcp/PORT` or `udp/PORT` (1–65535), or a port given twice. */
  INIT_BAD_PROTECT: "-protect is not tcp/PORT or udp/PORT",
  /** `-interface` that is not a Linux interface name (1–15 of A-Z a-z 0-9 _ . -), or twice. */
  INIT_BAD_INTERFACE: "-interface is not an interface name",
  /** `-remote` that is not a host name or an IP address a knock can go to. */
  INIT_BAD_REMOTE: "-remote is not a host name or a usable IP address",
  /** `-grant` that is not a lifetime from 1 s to 2,147,483 s (`30s`, `5m`, `2h`). */
  INIT_BAD_GRANT: "-grant is not a lifetime",
  /** `-runmode` that is not `network` or `file`. */
  INIT_BAD_RUNMODE: "-runmode is not network or file",
  /** `-statefile` that is not an absolute path of plain characters. */
  INIT_BAD_STATEFILE: "-statefile is not an absolute path",
  /** `-portspan` that is not `FROM-TO` the codec takes, or that holds a protected port. */
  INIT_BAD_PORTSPAN: "-portspan is not a usable span",
  /** `-dir` does not exist or is not a directory. */
  INIT_DIR_UNUSABLE: "the -init directory does not exist or is not a directory",
  /** A file -init would write exists already: nothing is overwritten. */
  INIT_FILE_EXISTS: "a file knockd -init would write exists already",
  /** A file -init writes could not be written (EACCES, ENOSPC, …): nothing is left behind. */
  INIT_WRITE_FAILED: "a file knockd -init writes could not be written",
} as const;

/** A code knockd emits. */
export type KnockdCode = keyof typeof KNOCKD_CODES;

/** The `code` of an error, if it has a string one, else `fallback`. */
export function codeOf(error: unknown, fallback: KnockdCode): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && code !== "" ? code : fallback;
}
