export type { Where, Diagnostic } from "./diagnostics.ts";
export {
  quoteValue,
  formatWhere,
  formatDiagnostic,
  hasErrors,
} from "./diagnostics.ts";
export type { Logger } from "./logger.ts";
export { noopLogger } from "./logger.ts";
export { PortknockError, InternalError, ConfigError } from "./errors.ts";
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
export { toPlainObject } from "./general-tree.ts";
export type { IncludedFile, IncludeFn } from "./parse-general-lines.ts";
export type {
  ParseGeneralOptions,
  ParseGeneralResult,
} from "./parse-general.ts";
export { parseGeneral } from "./parse-general.ts";
