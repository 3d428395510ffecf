/**
 * `@portknock/config`: the Config::General dialect parser and the typed, validated configuration
 * of knockd and knock (spec: config.md). The documentation of each export is at its definition.
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
} from "./types.ts";
export type { GeneralCode, SchemaCode, ConfigCode } from "./codes.ts";
export type {
  GeneralValue,
  GeneralEntry,
  GeneralBlock,
  PlainValue,
  PlainObject,
} from "./general-tree.ts";
export { normalizeArgv } from "./parse-argv.ts";
export type { ArgvCode, ArgvSpec, NormalizeArgvResult } from "./parse-argv.ts";
export { toPlainObject } from "./general-tree.ts";
export type { IncludedFile, IncludeFn } from "./parse-general-include.ts";
export type {
  ParseGeneralOptions,
  ParseGeneralResult,
} from "./parse-general.ts";
export { parseGeneral } from "./parse-general.ts";
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
export { parseBoolean, parseDuration } from "./schema-values.ts";
export { CIPHERS, FORMATS } from "./schema-knock.ts";
export { BUILTIN_LOGFORMATS, LOGFORMAT_KEYS } from "./schema-blocks.ts";
export { MAX_DELAY_MS } from "./schema-actions.ts";
export type { LoadConfigOptions, FindConfigOptions } from "./load-config.ts";
export {
  loadConfig,
  loadDaemonConfig,
  loadClientConfig,
  loadDaemonConfigOrThrow,
  loadClientConfigOrThrow,
  readIncludedFile,
  configSearchPath,
  findConfigFile,
  isReadableFile,
} from "./load-config.ts";
