export { main, USAGE } from "./main.ts";
export type { DaemonMainOptions } from "./main.ts";
export { createKnockQueues } from "./knock-queues.ts";
export type {
  HitOutcome,
  KnockQueues,
  KnockQueuesOptions,
  QueueCounters,
} from "./knock-queues.ts";
export { loadDaemon } from "./load.ts";
export type { LoadedDaemon, LoadResult } from "./load.ts";
export { auditConfig } from "./audit.ts";
export type { AuditFinding } from "./audit.ts";
export { createDaemonLogger, renderTextLine } from "./logger.ts";
export type { DaemonLoggerOptions } from "./logger.ts";
export { parseDaemonArgs } from "./argv.ts";
export type { DaemonArgs } from "./argv.ts";
