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
