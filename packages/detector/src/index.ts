/**
 * `@portknock/detector`: knock detection as a library (spec: daemon.md §2, sealed.md). Feed it
 * hits from any source (a log, a capture, your own) and get decoded, checked knocks. The
 * documentation of each export is at its definition.
 */
export { createDetector } from "./detector.ts";
export type {
  Detector,
  DetectorOptions,
  DetectorCounters,
  DetectedKnock,
} from "./detector.ts";
export type { HitOutcome, QueueCounters } from "./knock-queues.ts";
export type { ReplayCacheStore, SealedRefusal } from "./sealed-guard.ts";
