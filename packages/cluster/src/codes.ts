/**
 * The codes `@portknock/cluster` makes (STYLE.md §5: `AREA_WHAT`). Tests assert these codes,
 * never the wording of messages.
 */

/** Every code, with its class: `config` (a bad option: thrown), `degraded` (logged, counted). */
export const CLUSTER_CODES = {
  /** `redis =` is not a redis:// or rediss:// URL of a host, port and database 0-15, or holds a password. */
  CLUSTER_BAD_URL: "config",
  /** `name =` is not 1-64 of A-Z a-z 0-9 _ . - */
  CLUSTER_BAD_NAME: "config",
  /** `prefix =` is not 1-64 of A-Z a-z 0-9 _ . : - */
  CLUSTER_BAD_PREFIX: "config",
  /** Redis cannot be reached: decisions are local until it is back (one WARN per outage). */
  CLUSTER_DOWN: "degraded",
  /** A Redis command failed with a Redis error (not a timeout or an outage). */
  CLUSTER_COMMAND_FAILED: "degraded",
  /** A listener of the link's up/down events threw (a bug). */
  CLUSTER_LISTENER_FAILED: "degraded",
  /** The state outbox is full while Redis is away: the oldest change is dropped (counted, one WARN). */
  CLUSTER_OUTBOX_FULL: "degraded",
  /** Redis refused one state change three times: it is dropped (counted, logged). */
  CLUSTER_OP_DROPPED: "degraded",
  /** A state or pending entry in Redis, or a persisted outbox entry, is not valid: skipped, counted. */
  CLUSTER_BAD_ENTRY: "degraded",
  /** A message on `P:state-changes` is not `{from, root}`: skipped, counted. */
  CLUSTER_BAD_MESSAGE: "degraded",
} as const;

/** A code `@portknock/cluster` makes. */
export type ClusterCode = keyof typeof CLUSTER_CODES;
