/**
 * `@portknock/config`: the typed, validated configuration of knockd and knock, read from the
 * prototype's Config::General files (spec: config.md). The documentation of each export is at its
 * definition.
 */
export { ConfigError } from "./errors.ts";
export type {
  ConfigWhere,
  LocatedText,
  ActionConfig,
  TemplateConfig,
  ActionsConfig,
  LogFormatConfig,
  EthFilterConfig,
  UserConfig,
  KnockSettings,
  DaemonConfig,
  ClientConfig,
  ListenAddress,
  FirewallConfig,
  ProtectedPortConfig,
  GrantTemplateConfig,
  ClusterConfig,
} from "./types.ts";
export { checkRedisUrl } from "./schema-cluster.ts";
export type { ReadFileFn, ReferencedFile } from "./schema-cluster.ts";
export { TEMPLATE_SCOPES } from "./schema-actions.ts";
export { MAX_GRANT_LIFETIME_MS, FIREWALL_BACKENDS } from "./schema-firewall.ts";
export type { ConfigCode } from "./codes.ts";
export { normalizeArgv } from "./parse-argv.ts";
export type { ArgvCode, ArgvSpec, NormalizeArgvResult } from "./parse-argv.ts";
export type { IncludedFile, IncludeFn } from "./parse-general-include.ts";
export type {
  ParseConfigOptions,
  DaemonConfigResult,
  ClientConfigResult,
} from "./schema.ts";
export {
  parseDaemonConfig,
  parseClientConfig,
  parseDaemonConfigOrThrow,
  parseClientConfigOrThrow,
} from "./schema.ts";
export type { ConfigOverrides } from "./schema-overrides.ts";
export type { LoadConfigOptions, FindConfigOptions } from "./load-config.ts";
export {
  loadDaemonConfig,
  loadClientConfig,
  loadDaemonConfigOrThrow,
  loadClientConfigOrThrow,
  readIncludedFile,
  readReferencedFile,
  findConfigFile,
} from "./load-config.ts";
export {
  readConfigFile,
  ConfigFileError,
  MAX_CONFIG_FILE_BYTES,
} from "./read-config-file.ts";
export type { ConfigFileText } from "./read-config-file.ts";
