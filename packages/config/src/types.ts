/**
 * The typed, validated configuration of `knockd` and `knock` (spec: config.md). Produced by
 * `parseDaemonConfig` / `parseClientConfig`; every value has been type-checked and defaulted.
 * Knock-format keys (`knock`, `portspan`, `cipher`, …) are carried as written and validated by the
 * codec, which is the single owner of those rules; `where` maps each key to the line that set it so
 * the codec's findings can name file and line too.
 */
import type { Where } from "@portknock/core";

/** A location inside a config file. */
export type ConfigWhere = Extract<Where, { kind: "config" }>;

/** A string value and the place it was written (column of its first character when known). */
export interface LocatedText {
  text: string;
  where: ConfigWhere;
}

/** One `<action>` block (config.md, daemon.md §4–7), in file order. */
export interface ActionConfig {
  /** The `<action>` line. */
  where: ConfigWhere;
  /** `condition = …`; absent means always true. */
  condition?: LocatedText;
  /** `template = NAME`, repeated: run in order. Each name exists in `templates`. */
  templates: LocatedText[];
  /** `delay`, converted to milliseconds (bare number = minutes; `30s`, `5m`, `2h`). 0 = now. */
  delayMs: number;
  /** `use = no` disables the action. */
  use: boolean;
}

/** One `<template NAME>` block. */
export interface TemplateConfig {
  name: string;
  where: ConfigWhere;
  /** `system = …` command lines (repeatable), as written, quotes removed by the config layer only when they wrapped the whole value. */
  system: LocatedText[];
  /** `state = …` statement lists (repeatable). */
  state: LocatedText[];
  /** `grant = …` firewall grants (repeatable, issue #17): carried out by knockd's firewall. */
  grant: GrantTemplateConfig[];
  /**
   * `scope` (issue #19): `local` (default) applies the grants on this gateway only; `cluster` also
   * publishes them to every gateway of the `<cluster>`. Only grants travel: `system` commands and
   * `state` always stay on the gateway that accepted the knock.
   */
  scope: "local" | "cluster";
  /** Where `scope` was written, when it was. */
  scopeWhere?: ConfigWhere;
}

/**
 * One `grant = PROTO/PORT [LIFETIME] [to CLIENT|SOURCE]` of a template (issue #17): open
 * PROTO/PORT to the knock's address for the lifetime, in the managed firewall.
 */
export interface GrantTemplateConfig {
  /** The value as written. */
  text: string;
  where: ConfigWhere;
  protocol: "tcp" | "udp";
  /** A port 1–65535, or the knock variable `PORT` (substituted and checked per knock). */
  port: number | "PORT";
  /** The lifetime in ms: as written, else `<firewall>`'s `grant`. */
  lifetimeMs: number;
  /** The knock variable holding the address: `CLIENT` (default) or `SOURCE`. */
  to: "CLIENT" | "SOURCE";
}

/** A `protect = PROTO/PORT` of the `<firewall>` block. */
export interface ProtectedPortConfig {
  protocol: "tcp" | "udp";
  /** 1–65535. */
  port: number;
  where: ConfigWhere;
}

/** The `<firewall>` block (issue #17): the base ruleset knockd installs and maintains. */
export interface FirewallConfig {
  /** The `<firewall>` line. */
  where: ConfigWhere;
  /** `backend`: `auto` (default: nftables where `nft` runs, else iptables), or one by name. */
  backend: "auto" | "nftables" | "iptables" | "none";
  /** `protect` (repeatable): closed to all but granted sources; no duplicates. */
  protect: ProtectedPortConfig[];
  /** `grant`: the default grant lifetime in ms (default 30 s; 1 s to `MAX_GRANT_LIFETIME_MS`). */
  grantMs: number;
  /** `nflog`: in file mode, the NFLOG group (0–65535) the knock span's SYNs are logged to. */
  nflog?: number;
  /** `ipset` (iptables only): absent means "where ipset works". */
  ipset?: boolean;
  /** `reconcile`: how often knockd re-checks the ruleset and expires tagged grants (default 60 s). */
  reconcileMs: number;
}

/**
 * The `<cluster>` block (issue #19): the Redis (or Valkey) that several gateways share for the
 * replay cache, the state, pending delayed actions and `scope = cluster` grants. The files it
 * names were read at load: `password` and `tlsCa` hold their text (never log them).
 */
export interface ClusterConfig {
  /** The `<cluster>` line. */
  where: ConfigWhere;
  /**
   * `redis`: `redis://[user@]host[:port][/db]` or `rediss://…` (TLS), database 0–15, no password;
   * or `unix:///path/redis.sock` (a local socket, database 0).
   */
  url: string;
  /** `name`: this gateway, 1–64 of `A-Z a-z 0-9 _ . -`, unique in the cluster. */
  name: string;
  /** `prefix` of every Redis key, 1–64 of `A-Z a-z 0-9 _ . : -` (default `portknock`). */
  prefix: string;
  /** `budget`: the longest a decision waits for Redis, in ms (default 50; 1 ms – 5 s). */
  budgetMs: number;
  /** The content of `passwordfile`, one trailing newline removed. */
  password?: string;
  /** `passwordfile` as resolved (relative to the file that names it): for messages. */
  passwordFile?: string;
  /** The PEM text of `tlsca` (only with `rediss://`). */
  tlsCa?: string;
  /** `tlsca` as resolved: for messages. */
  tlsCaFile?: string;
}

/** The `<actions>` block. */
export interface ActionsConfig {
  actions: ActionConfig[];
  /** Template blocks by name (names are case-sensitive, as written). */
  templates: ReadonlyMap<string, TemplateConfig>;
}

/** A `<logformat NAME>` block: named regex sources (not compiled here). */
export interface LogFormatConfig {
  name: string;
  where: ConfigWhere;
  required?: LocatedText;
  interface?: LocatedText;
  protocol?: LocatedText;
  ipserver?: LocatedText;
  ipclient?: LocatedText;
  port?: LocatedText;
  /**
   * The source port (issue #16): hits without one are never taken for a kernel SYN retransmit.
   * Not a key of the prototype.
   */
  srcport?: LocatedText;
}

/** An `<ethfilter NAME>` block: property name (lower-cased) → value as written. */
export interface EthFilterConfig {
  name: string;
  where: ConfigWhere;
  properties: ReadonlyMap<string, LocatedText>;
}

/** A `<user NAME>` block of the sealed profile. */
export interface UserConfig {
  name: string;
  where: ConfigWhere;
  key: LocatedText;
}

/** Settings shared by daemon and client: what the knock looks like (knock-format.md, sealed.md). */
export interface KnockSettings {
  /** `knock`: field list as written, e.g. `CLIENT,PORT,FLAG0,CHECKSUM`. */
  knock: string;
  /** `portspan` as written. */
  portspan: string;
  encrypt: boolean;
  /** `key`: passphrase or `base64:…`. */
  key?: string;
  cipher: string;
  iv: boolean;
  /** `ivvalue` as written (8 chars or `hex:` + 16 hex digits). */
  ivvalue?: string;
  padding: "right" | "left";
  format: "compat" | "sealed";
  /** sealed: extra scrypt salt. */
  keysalt?: string;
}

/** Where a server listens (`metrics`): an IP literal and a port. */
export interface ListenAddress {
  /** The IP address, normalised (IPv6 in RFC 5952 form, without brackets). */
  host: string;
  /** 1–65535. */
  port: number;
  /** `host:port`, IPv6 in brackets (`[::1]:9464`): for messages. */
  text: string;
}

/** The daemon configuration (config.md "Daemon keys"). */
export interface DaemonConfig extends KnockSettings {
  file: string;
  runmode: "file" | "network";
  logfile: string;
  /** `logcommand` as written; split into argv by the consumer. */
  logcommand?: string;
  fileIntervalMs: number;
  uselogformat: string;
  logformats: ReadonlyMap<string, LogFormatConfig>;
  /** `interface`: one or more interface names, whitespace-separated in the file. */
  interfaces: string[];
  snapshotSize: number;
  useethfilter?: string;
  ethfilters: ReadonlyMap<string, EthFilterConfig>;
  knockTimeoutMs: number;
  maxSources: number;
  statefile?: string;
  actions: ActionsConfig;
  users: ReadonlyMap<string, UserConfig>;
  /** sealed: accepted clock skew. */
  windowMs: number;
  /** sealed: CLIENT must equal the packet source. */
  requireSource: boolean;
  /** `metrics`: where knockd serves `/metrics` (Prometheus); absent: no endpoint. */
  metrics?: ListenAddress;
  /** The `<firewall>` block (issue #17); absent: knockd manages no firewall. */
  firewall?: FirewallConfig;
  /** The `<cluster>` block (issue #19); absent: this gateway shares nothing. */
  cluster?: ClusterConfig;
  /** `debug`, `quiet`, `test`: the command-line options of the same name, set in the file. */
  debug?: boolean;
  quiet?: boolean;
  test?: boolean;
  /**
   * Key name (lower-case) → where its value was written; only top-level keys present in the file
   * (a key given in `overrides` is absent: it came from the command line).
   */
  where: ReadonlyMap<string, ConfigWhere>;
}

/** The client configuration (config.md "Client keys", client.md). */
export interface ClientConfig extends KnockSettings {
  file?: string;
  remote?: string;
  client?: string;
  port?: number;
  /** `flag0` … `flagN`, index → value. */
  flags: ReadonlyMap<number, number>;
  time?: number;
  mask?: number;
  logtofile: boolean;
  logfile?: string;
  fileformat?: string;
  protocol: "tcp" | "udp";
  method: "connect" | "raw";
  knockDelayMs: number;
  /** `test`, `json`, `debug`, `quiet`: the command-line options of the same name, set in the file. */
  test?: boolean;
  json?: boolean;
  debug?: boolean;
  quiet?: boolean;
  /** As `DaemonConfig.where`. */
  where: ReadonlyMap<string, ConfigWhere>;
}
