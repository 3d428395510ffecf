/**
 * `@portknock/core`: the basics every portknock package shares, with no dependencies. The
 * documentation of each export is at its definition.
 */
export type { Clock, Timers, TimerHandle } from "./clock.ts";
export { systemClock, systemTimers, MAX_TIMER_MS } from "./clock.ts";
export type { Logger } from "./logger.ts";
export { noopLogger } from "./logger.ts";
export type { Where, Diagnostic } from "./diagnostics.ts";
export {
  formatWhere,
  formatDiagnostic,
  capDiagnostics,
  hasErrors,
  sortDiagnostics,
} from "./diagnostics.ts";
export { PortknockError, InternalError, errorMessages } from "./errors.ts";
export { describeFileKind } from "./file-kind.ts";
export {
  ipv4ToNumber,
  isIpv4,
  isIpv6,
  isIpAddress,
  parseIpv4,
  parseIpv6,
  parseIp,
  formatIpv4,
  formatIpv6,
  normalizeIp,
} from "./ip.ts";
export { quoteValue, escapeInput, escapeArgv } from "./text.ts";
export type { RateLimiter, RateLimiterOptions } from "./rate-limit.ts";
export { createRateLimiter } from "./rate-limit.ts";
export type {
  CommandLineFault,
  SplitCommandLineResult,
} from "./command-line.ts";
export { splitCommandLine } from "./command-line.ts";
export type { KnockHit, HitSource, HitColumns } from "./hit.ts";
export type { Io } from "./io.ts";
export { EXIT_OK, EXIT_RUNTIME, EXIT_USAGE, quietBrokenPipe } from "./io.ts";
export type { RegexHazard } from "./regex-safety.ts";
export { findBacktrackingHazard } from "./regex-safety.ts";
export type { RegexFlags, TranslateRegexResult } from "./translate-regex.ts";
export { translateRegex, MAX_REPEAT } from "./translate-regex.ts";
