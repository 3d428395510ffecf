export { createKnockQueues } from "./knock-queues.ts";
export type {
  HitOutcome,
  KnockQueues,
  KnockQueuesOptions,
  QueueCounters,
} from "./knock-queues.ts";
