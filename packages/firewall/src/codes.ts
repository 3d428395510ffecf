/**
 * The codes `@portknock/firewall` makes (STYLE.md §5: `AREA_WHAT`). Tests assert these codes,
 * never the wording of messages; a test also checks that every code-shaped literal in `src/` is
 * declared here and that every code declared here is used.
 */

/**
 * Every code, with its class: `rejected` (a grant or a base ruleset refused before any command
 * ran: bad input, counted in `rejections`), `failed` (a firewall command did not succeed: counted in
 * `failures`, logged at error with the tool's own message) or `misuse` (a call the API does not
 * allow).
 */
export const FIREWALL_CODES = {
  /** A grant's address is not a strict IPv4 or IPv6 address (core's `normalizeIp`). */
  FIREWALL_BAD_ADDRESS: "rejected",
  /** A protocol other than `tcp` or `udp`. */
  FIREWALL_BAD_PROTOCOL: "rejected",
  /** A port that is not an integer 0–65535 (1–65535 in a base ruleset). */
  FIREWALL_BAD_PORT: "rejected",
  /** A lifetime that is not a whole number of ms, greater than 0 and at most `MAX_LIFETIME_MS`. */
  FIREWALL_BAD_LIFETIME: "rejected",
  /** A grant for a (protocol, port) the installed base ruleset does not protect: it would change nothing. */
  FIREWALL_NOT_PROTECTED: "rejected",
  /** A base ruleset that cannot be installed: a repeated protected port, a knock span that overlaps one, a bad NFLOG group or prefix. */
  FIREWALL_BAD_RULESET: "rejected",
  /** `grant` before `install` in this process: the protected ports are not known yet. */
  FIREWALL_NOT_INSTALLED: "misuse",
  /** The firewall was used after `close()`. */
  FIREWALL_CLOSED: "misuse",
  /** A firewall command (`nft`, `iptables-restore`, `ipset`, …) exited non-zero or was killed; the message carries its stderr. */
  FIREWALL_COMMAND_FAILED: "failed",
  /** A firewall command ran longer than `commandTimeoutMs` and was killed. */
  FIREWALL_COMMAND_TIMEOUT: "failed",
  /** A firewall command could not be started (`ENOENT`: the tool is not installed; `EACCES`). */
  FIREWALL_COMMAND_SPAWN: "failed",
  /** A listing (`nft -j list set`, `iptables -S`, `ipset save`) that does not read as expected. */
  FIREWALL_BAD_OUTPUT: "failed",
} as const;

/** A code `@portknock/firewall` makes (the keys of `FIREWALL_CODES`). */
export type FirewallCode = keyof typeof FIREWALL_CODES;
