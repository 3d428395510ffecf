export type { LogLine } from "./types.ts";
export type {
  RejectCode,
  FormatCode,
  CommandCode,
  LogSourceErrorCode,
} from "./errors.ts";
export { LogSourceError } from "./errors.ts";
export type {
  LogFormatSource,
  CompiledLogFormat,
  CompileLogFormatResult,
} from "./log-format.ts";
export {
  compileLogFormat,
  builtinLogFormat,
  selectLogFormat,
  BUILTIN_LOG_FORMAT_NAMES,
} from "./log-format.ts";
export type { LineRegex } from "./user-regex.ts";
export {
  IPTABLES_LOG_FORMAT,
  IPTABLES_REGEX_SOURCES,
} from "./builtin-iptables.ts";
export type { ParseLogLineResult } from "./parse-log-line.ts";
export { parseLogLine, parseLogRecord } from "./parse-log-line.ts";
export type { FollowLogOptions } from "./follow-log.ts";
export { followLog } from "./follow-log.ts";
export type { ReadLogFileOptions } from "./read-log-file.ts";
export { readLogFile } from "./read-log-file.ts";
export type { ParseLogCommandResult } from "./parse-log-command.ts";
export { parseLogCommand } from "./parse-log-command.ts";
export type { Backoff, RunLogCommandOptions } from "./run-log-command.ts";
export { runLogCommand } from "./run-log-command.ts";
export type {
  LogInput,
  LogHitSourceOptions,
  LogSourceStats,
  LogHitSource,
} from "./log-hit-source.ts";
export { createLogHitSource } from "./log-hit-source.ts";
export type {
  PrestartReplayOptions,
  PrestartedReplay,
} from "./prestart-replay.ts";
export { prestartReplay } from "./prestart-replay.ts";
