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
