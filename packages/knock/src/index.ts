export { main } from "./main.ts";
export type { MainOptions } from "./main.ts";
export { KNOCK_CODES } from "./codes.ts";
export type { KnockCode, KnockDiagnosticCode } from "./codes.ts";
export { parseArgs } from "./argv.ts";
export type { ParsedArgs, ParseArgsResult } from "./argv.ts";
export { knockValues } from "./knock-values.ts";
export type {
  KnockValueInput,
  KnockValuesOptions,
  KnockValuesResult,
} from "./knock-values.ts";
export { sendKnock } from "./send.ts";
export type { SendOptions, SendReport } from "./send.ts";
export { localAddressFor } from "./local-address.ts";
export {
  renderKnockLog,
  formatLogLine,
  defaultFileFormat,
  syslogDate,
  unknownPlaceholders,
  DEFAULT_TCP_FORMAT,
  DEFAULT_UDP_FORMAT,
  DEFAULT_TCP6_FORMAT,
  DEFAULT_UDP6_FORMAT,
} from "./log-line.ts";
export type {
  KnockLogOptions,
  KnockLogResult,
  LogLineValues,
} from "./log-line.ts";
