/**
 * @portknock/cluster: a fleet of gateways on Redis (issue #19).
 */
export { CLUSTER_CODES } from "./codes.ts";
export type { ClusterCode } from "./codes.ts";
export { ClusterError } from "./errors.ts";
export { createClusterLink, redisOptions } from "./link.ts";
export type {
  ClusterLink,
  ClusterLinkOptions,
  LinkCounters,
  RedisTarget,
  RunResult,
} from "./link.ts";
export { createClusterReplayCache } from "./replay-cache.ts";
export type {
  ClusterReplayCache,
  ClusterReplayCacheOptions,
  ReplayCacheCounters,
  ReplayClaim,
} from "./replay-cache.ts";
export { createGrantBus } from "./grant-bus.ts";
export type {
  GrantBus,
  GrantBusCounters,
  GrantBusOptions,
} from "./grant-bus.ts";
export {
  grantEntryFields,
  grantRequestAt,
  parseGrantEntry,
} from "./parse-grant-entry.ts";
export type {
  ClusterGrant,
  ParseGrantEntryResult,
} from "./parse-grant-entry.ts";
export { createClusterStore } from "./state-store.ts";
export type {
  ClusterStore,
  ClusterStoreCounters,
  ClusterStoreOptions,
} from "./state-store.ts";
export { createGatewayLease } from "./gateway-lease.ts";
export type {
  GatewayLease,
  GatewayLeaseCounters,
  GatewayLeaseOptions,
} from "./gateway-lease.ts";
export { pendingKeyFrom } from "./pending-seal.ts";
