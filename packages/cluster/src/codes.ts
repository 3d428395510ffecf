/**
 * The codes `@portknock/cluster` makes (STYLE.md §5: `AREA_WHAT`). Tests assert these codes,
 * never the wording of messages.
 */

/**
 * Every code, with its class: `config` (a bad option: thrown), `degraded` (logged, counted),
 * `rejected` (bad input from Redis: counted, logged, skipped), `misuse` (a call out of order: thrown).
 */
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
  /** A knock accepted locally during an outage was, when pushed, already accepted by another gateway (WARN naming both). */
  CLUSTER_REPLAY_CONFLICT: "degraded",
  /** Over `maxRemembered` knocks accepted locally during one outage: the oldest are not pushed when Redis is back. */
  CLUSTER_REPLAY_BACKLOG_FULL: "degraded",
  /** A listener of the link's up/down events threw (a bug). */
  CLUSTER_LISTENER_FAILED: "degraded",
  /** Another running gateway holds this gateway's name (`P:gateway:<name>`): logged at error, counted. */
  CLUSTER_NAME_IN_USE: "degraded",
  /** A pending action in `P:pending:<name>` whose seal does not verify under the cluster's knock key: never loaded or run (error, counted). */
  CLUSTER_PENDING_FORGED: "rejected",
  /** A `P:grants` stream entry that is not a valid cluster grant: counted, logged with its id, acked, never applied. */
  CLUSTER_GRANT_MALFORMED: "rejected",
  /** The injected `apply` of the grant bus rejected (it should return a result): counted as a failed grant. */
  CLUSTER_GRANT_FAILED: "degraded",
  /** More cluster grants queued while Redis is down than `maxQueued`: the oldest is dropped. */
  CLUSTER_GRANT_QUEUE_FULL: "degraded",
  /** Reading the `P:grants` stream failed with something else than a lost group: retried with back-off. */
  CLUSTER_GRANT_READ_FAILED: "degraded",
  /** `publish` on a grant bus after `close()`. */
  CLUSTER_GRANT_BUS_CLOSED: "misuse",
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
