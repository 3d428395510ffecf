/**
 * The diagnostic codes of `@portknock/config` (STYLE.md §5: `AREA_WHAT`). Tests assert these codes,
 * never the wording of messages.
 */

/** Codes reported by `parseGeneral` (the Config::General dialect, spec: config.md "Syntax"). */
export type GeneralCode =
  /** A line that cannot be read as `name value`, `<block>` or `</block>` (e.g. no key name). */
  | "CONFIG_SYNTAX"
  /** `<name>` without its `</name>` by the end of the file. */
  | "CONFIG_UNCLOSED_BLOCK"
  /** `</name>` with no open block. */
  | "CONFIG_STRAY_CLOSE"
  /** `</other>` closing `<name>`. */
  | "CONFIG_MISMATCHED_CLOSE"
  /** `name <<EOT` without its `EOT` line by the end of the file. */
  | "CONFIG_UNTERMINATED_HEREDOC"
  /** Warning: a `/*` comment still open at the end of the file (the rest was ignored). */
  | "CONFIG_UNTERMINATED_COMMENT"
  /** Warning: a C-comment end without a start; the line up to it was dropped, as Config::General does. */
  | "CONFIG_STRAY_COMMENT_END"
  /** Warning: the last line ends in `\`. */
  | "CONFIG_CONTINUATION_EOF"
  /** `<<include FILE>>` that cannot be read (missing file, no include support). */
  | "CONFIG_INCLUDE_FAILED"
  /** `<<include FILE>>` that includes a file already being read. */
  | "CONFIG_INCLUDE_CYCLE"
  /** Includes nested too deep, too many files, or too many bytes in all (limits in the README). */
  | "CONFIG_INCLUDE_LIMIT"
  /** Warning: a file included a second time (not a cycle) is skipped, as Config::General does. */
  | "CONFIG_INCLUDE_REPEATED"
  /** `<name X>` twice with the same `X` in one block. */
  | "CONFIG_DUPLICATE_BLOCK"
  /** One name used as a key and as a block, or as a named and an anonymous block. */
  | "CONFIG_KEY_CONFLICT"
  /** The main file could not be read (`loadConfig`, `loadDaemonConfig`, `loadClientConfig`). */
  | "CONFIG_READ_FAILED"
  /** The main file does not exist. */
  | "CONFIG_NOT_FOUND";

/** Codes reported by `parseDaemonConfig` / `parseClientConfig` on top of the `GeneralCode`s. */
export type SchemaCode =
  /** A key that the schema does not know (a typo must not be silently ignored). */
  | "CONFIG_UNKNOWN_KEY"
  /** A block that the schema does not know. */
  | "CONFIG_UNKNOWN_BLOCK"
  /** A value where a block is expected (`actions = x`). */
  | "CONFIG_EXPECTED_BLOCK"
  /** A block where a value is expected (`<knock>`). */
  | "CONFIG_EXPECTED_VALUE"
  /** `<template>` without a name, or `<action NAME>` with one. */
  | "CONFIG_BLOCK_NAME"
  /** A block that may appear only once appears again. */
  | "CONFIG_REPEATED_BLOCK"
  /** A key that may not repeat appears twice (the message names both lines). */
  | "CONFIG_REPEATED_KEY"
  /** A required key is missing (`knock`, `portspan`, `key` with `encrypt`, …). */
  | "CONFIG_MISSING_KEY"
  /** A boolean key whose value is not yes/no, on/off, true/false or 1/0. */
  | "CONFIG_BAD_BOOLEAN"
  /** An integer key whose value is not an integer, or out of range. */
  | "CONFIG_BAD_INTEGER"
  /** A duration (`delay`, `fileinterval`, …) that is not a number or `30s`/`5m`/`2h`. */
  | "CONFIG_BAD_DURATION"
  /** A value outside a fixed set (`cipher`, `padding`, `format`, `runmode`, …). */
  | "CONFIG_BAD_ENUM"
  /** An empty value where text is required. */
  | "CONFIG_EMPTY_VALUE"
  /** `<action>` naming a `<template>` that does not exist. */
  | "CONFIG_UNKNOWN_TEMPLATE"
  /** `uselogformat` naming a `<logformat>` that does not exist (and is not built in). */
  | "CONFIG_UNKNOWN_LOGFORMAT"
  /** `useethfilter` naming an `<ethfilter>` that does not exist. */
  | "CONFIG_UNKNOWN_ETHFILTER"
  /** A listen address (`metrics`) that is not `PORT`, `IPv4:PORT` or `[IPv6]:PORT` (port 1–65535). */
  | "CONFIG_BAD_ADDRESS"
  /** `protect` in `<firewall>` that is not `tcp/PORT` or `udp/PORT` (1–65535), or a port given twice. */
  | "CONFIG_BAD_PROTECT"
  /** A template's `grant` that is not `PROTO/PORT [LIFETIME] [to CLIENT|SOURCE]`. */
  | "CONFIG_BAD_GRANT"
  /** A template's `grant` with no `<firewall>` block, or with `backend = none`. */
  | "CONFIG_GRANT_NO_FIREWALL"
  /** A template's `grant` for a numeric port that `<firewall>` does not `protect` (it would open nothing). */
  | "CONFIG_GRANT_NOT_PROTECTED"
  /** Warning: a `<firewall>` setting the chosen backend or run mode does not use (`ipset` with nftables, `nflog` in network mode). */
  | "CONFIG_FIREWALL_IGNORED"
  /** Warning: `runmode = file` with a managed `<firewall>` but no `nflog`: the span is dropped before any LOG rule sees it. */
  | "CONFIG_FIREWALL_HIDES_KNOCKS"
  /** `<cluster>`'s `redis` is not a redis:// or rediss:// URL of a host, port 1–65535 and database 0–15, or holds a password, query or fragment. */
  | "CONFIG_CLUSTER_BAD_URL"
  /** `<cluster>`'s `name` is not 1–64 of A-Z a-z 0-9 _ . - */
  | "CONFIG_CLUSTER_BAD_NAME"
  /** `<cluster>`'s `prefix` is not 1–64 of A-Z a-z 0-9 _ . : - */
  | "CONFIG_CLUSTER_BAD_PREFIX"
  /** `<cluster>`'s `passwordfile` cannot be read (missing, not a regular file, no permission, no file access). */
  | "CONFIG_CLUSTER_PASSWORD_UNREADABLE"
  /** `<cluster>`'s `passwordfile` is readable by every user (mode o+r). */
  | "CONFIG_CLUSTER_PASSWORD_EXPOSED"
  /** `<cluster>`'s `passwordfile` is empty or has more than one line. */
  | "CONFIG_CLUSTER_BAD_PASSWORD"
  /** `<cluster>`'s `tlsca` with a `redis://` (not `rediss://`) URL. */
  | "CONFIG_CLUSTER_TLSCA_NO_TLS"
  /** `<cluster>`'s `tlsca` cannot be read or holds no PEM certificate. */
  | "CONFIG_CLUSTER_BAD_TLSCA"
  /** A template's `scope` that is not `local` or `cluster`. */
  | "CONFIG_BAD_SCOPE"
  /** A template's `scope = cluster` without a `<cluster>` block. */
  | "CONFIG_SCOPE_NO_CLUSTER"
  /** A template's `scope = cluster` without a `grant` (only grants are published; commands never are). */
  | "CONFIG_SCOPE_NO_GRANT"
  /** A delayed `<action>` using a template with `scope = cluster`. */
  | "CONFIG_SCOPE_DELAYED"
  /** Warning (compat): `key = on|yes|true|off|no|false` was turned into `1`/`0`, as the prototype did. */
  | "CONFIG_KEY_AUTOTRUE"
  /** Warning: `ivvalue` together with `iv = yes` replaces the random IV (tests and vectors only). */
  /** Warning: the daemon has no `<actions>`, so an accepted knock does nothing. */
  | "CONFIG_NO_ACTIONS";

/** Every diagnostic code this package reports. */
export type ConfigCode = GeneralCode | SchemaCode;
