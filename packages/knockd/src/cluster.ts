/**
 * knockd on a cluster (issue #19): with a `<cluster>` block, the daemon shares its sealed replay
 * cache, its state and pending delayed actions, and its `scope = cluster` grants with the other
 * gateways through one Redis (`@portknock/cluster`). Redis is never waited on longer than the
 * budget; when it is down at start or later, the daemon decides locally (degraded mode) and
 * merges back when it returns. `@portknock/cluster` (and ioredis) is loaded only for a daemon
 * with a `<cluster>` block.
 */
import type { ClusterConfig } from "@portknock/config";
import type { Logger } from "@portknock/core";
import { errorMessages } from "@portknock/core";
import type {
  GrantFn,
  GrantRequest,
  GrantResult,
  StateStore,
} from "@portknock/engine";
import type {
  ClusterStoreCounters,
  GatewayLeaseCounters,
  GrantBusCounters,
  LinkCounters,
  ReplayCacheCounters,
  ReplayClaim,
} from "@portknock/cluster";

/** Longest wait for the first connection at start (then: degraded, never a refusal to start). */
export const CLUSTER_CONNECT_TIMEOUT_MS = 2000;
/** Longest wait for the store's and the grant bus' start (loading Redis' state, catching up). */
const START_TIMEOUT_MS = 5000;

/** The cluster's counters, for `/metrics`, SIGUSR1 and the stop line. */
export interface ClusterCounters {
  link: LinkCounters;
  /** This gateway's hold on its name: `held` 1/0, `conflicts` (another live gateway has it). */
  lease: GatewayLeaseCounters;
  replay: ReplayCacheCounters;
  store: ClusterStoreCounters;
  /** Absent without a `<firewall>`: this gateway applies no grant of the others. */
  grants?: GrantBusCounters;
}

/** A daemon's connection to its cluster. */
export interface DaemonCluster {
  readonly config: ClusterConfig;
  /** The engine's store: the local store, shared through Redis. */
  readonly store: StateStore;
  /** Claims a sealed knock's replay key for `ttlMs` (never rejects, never waits past the budget). */
  claim(key: string, ttlMs: number): Promise<ReplayClaim>;
  /** Wraps the firewall's grant: applied here, then published when `scope` is `cluster`. */
  wrapGrant(grant: GrantFn, now: () => number): GrantFn;
  counters(): ClusterCounters;
  /** Stops the grant bus and the replay cache (idempotent); the store is closed apart, after. */
  stop(): Promise<void>;
  /** Closes the connections to Redis: last, after the store merged its outbox back. */
  closeLink(): Promise<void>;
}

/** Options of `startCluster`. */
export interface StartClusterOptions {
  /** This gateway's own store (the statefile's file store): mirror and fallback. */
  local: StateStore;
  logger: Logger;
  /** The managed firewall's grant; absent: the grants of other gateways are not applied here. */
  grant?: GrantFn;
  /**
   * The knock secrets (`key`, every `<user>` key) the pending actions' seal in Redis is derived
   * from; none (an unencrypted compat knock): pending actions are never loaded from Redis.
   */
  knockSecrets: readonly (string | undefined)[];
}

/** `redis://host:port/db` as written (the config refuses a password in it): safe to log. */
export function describeCluster(config: ClusterConfig): string {
  return `${config.url} as ${config.name} (prefix ${config.prefix}, budget ${config.budgetMs} ms${config.password !== undefined ? ", password from passwordfile" : ""}${config.tlsCa !== undefined ? ", tlsca" : ""})`;
}

/**
 * Connects (waiting at most `CLUSTER_CONNECT_TIMEOUT_MS`), starts the shared store (Redis' state
 * and this gateway's pending delayed actions loaded into `local`), the replay cache and, with a
 * firewall, the grant bus (other gateways' unexpired grants applied). Never fails because Redis is
 * down: the link logs one `CLUSTER_DOWN` and everything works locally until it is back. Throws
 * only for an option the library refuses (a bug: the config checks the same rules).
 */
export async function startCluster(
  config: ClusterConfig,
  options: StartClusterOptions,
): Promise<DaemonCluster> {
  const { logger } = options;
  const cluster = await import("@portknock/cluster");
  const link = cluster.createClusterLink({
    url: config.url,
    name: config.name,
    prefix: config.prefix,
    budgetMs: config.budgetMs,
    connectTimeoutMs: CLUSTER_CONNECT_TIMEOUT_MS,
    ...(config.password !== undefined && { password: config.password }),
    ...(config.tlsCa !== undefined && { tlsCa: config.tlsCa }),
    logger,
  });
  const up = await link.ready(CLUSTER_CONNECT_TIMEOUT_MS);
  // The name is an identity (pending actions, the grants' consumer group): a second live
  // gateway of the same name is an error in the log (CLUSTER_NAME_IN_USE), never silent.
  const lease = cluster.createGatewayLease({ link, logger });
  const named = up && (await lease.renew());
  lease.start();
  const pendingKey = cluster.pendingKeyFrom(options.knockSecrets);
  if (pendingKey === undefined) {
    logger.warn(
      { event: "cluster.pending", code: "CLUSTER_PENDING_UNSEALED" },
      "the knock has no key (unencrypted compat format): this gateway's pending delayed actions are kept in its statefile and never loaded from Redis, so a replacement gateway of this name does not take them over",
    );
  }
  const store = cluster.createClusterStore({
    link,
    local: options.local,
    logger,
    ...(pendingKey !== undefined && { pendingKey }),
  });
  await bounded(store.start(), "the shared state", logger);
  const replay = cluster.createClusterReplayCache({ link, logger });
  const bus =
    options.grant != null
      ? cluster.createGrantBus({ link, apply: options.grant, logger })
      : undefined;
  if (bus != null) await bounded(bus.start(), "the cluster grants", logger);
  logger.info(
    {
      event: "cluster.start",
      redis: config.url,
      name: config.name,
      prefix: config.prefix,
      budgetMs: config.budgetMs,
      up,
      ...(up && { nameHeld: named }),
      applyGrants: bus != null,
    },
    `cluster: ${describeCluster(config)}; ${up ? "connected" : "Redis unreachable: deciding locally until it is back"}; ${bus != null ? "grants of other gateways are applied here" : "no <firewall>: grants of other gateways are not applied here"}`,
  );
  let stopped = false;
  return {
    config,
    store,
    claim: (key, ttlMs) => replay.claim(key, ttlMs),
    wrapGrant(grant: GrantFn, now: () => number): GrantFn {
      return async (request: GrantRequest): Promise<GrantResult> => {
        const result = await grant(request);
        if (request.scope === "cluster" && bus != null) {
          // Published even when the local firewall refused it: the knock was valid, and the
          // other gateways' firewalls decide for themselves (the refusal is logged here).
          try {
            await bus.publish(request, now() + request.lifetimeMs);
          } catch (e) {
            logger.error(
              {
                event: "cluster.publish",
                ip: request.address,
                port: request.port,
              },
              `cannot publish the cluster grant: ${errorMessages(e) || "unknown error"}`,
            );
          }
        }
        return result;
      };
    },
    counters(): ClusterCounters {
      return {
        link: link.counters(),
        lease: lease.counters(),
        replay: replay.counters(),
        store: store.counters(),
        ...(bus != null && { grants: bus.counters() }),
      };
    },
    async stop(): Promise<void> {
      if (stopped) return;
      stopped = true;
      await bus?.close().catch(() => undefined);
      await replay.close().catch(() => undefined);
      await lease.close().catch(() => undefined);
    },
    closeLink: () => link.close(),
  };
}

/** Waits for `p` at most `START_TIMEOUT_MS`; past it, goes on (the work finishes in the background). */
async function bounded(
  p: Promise<void>,
  what: string,
  logger: Logger,
): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<"late">((resolve) => {
    timer = setTimeout(() => resolve("late"), START_TIMEOUT_MS);
  });
  try {
    const r = await Promise.race([p.then(() => "done" as const), late]);
    if (r === "late") {
      logger.warn(
        { event: "cluster.slow", what },
        `loading ${what} from Redis takes longer than ${START_TIMEOUT_MS} ms: starting with the local copy, it continues in the background`,
      );
    }
  } catch (e) {
    logger.warn(
      { event: "cluster.slow", what },
      `loading ${what} from Redis failed (${errorMessages(e) || "unknown error"}): starting with the local copy`,
    );
  } finally {
    clearTimeout(timer);
  }
}

/** What `-check` found: Redis answered PING (in `ms`), or why not. */
export type ClusterProbe =
  | {
      ok: true;
      ms: number;
      /** The names of the gateways holding a lease now (undefined: Redis did not say). */
      gateways?: string[];
    }
  | { ok: false; message: string };

/**
 * One connection and one `PING` (`-check`), waiting at most `CLUSTER_CONNECT_TIMEOUT_MS` for
 * the connection and the budget for the answer; nothing is written. Never rejects.
 */
export async function pingCluster(
  config: ClusterConfig,
): Promise<ClusterProbe> {
  const cluster = await import("@portknock/cluster");
  let error = "";
  const logger: Logger = {
    debug: () => undefined,
    info: () => undefined,
    warn: (fields: object) => {
      const reason = (fields as { reason?: unknown }).reason;
      if (typeof reason === "string" && error === "") error = reason;
    },
    error: () => undefined,
    child: () => logger,
  };
  const link = cluster.createClusterLink({
    url: config.url,
    name: config.name,
    prefix: config.prefix,
    budgetMs: config.budgetMs,
    connectTimeoutMs: CLUSTER_CONNECT_TIMEOUT_MS,
    ...(config.password !== undefined && { password: config.password }),
    ...(config.tlsCa !== undefined && { tlsCa: config.tlsCa }),
    logger,
  });
  try {
    if (!(await link.ready(CLUSTER_CONNECT_TIMEOUT_MS))) {
      return {
        ok: false,
        message: `no connection within ${CLUSTER_CONNECT_TIMEOUT_MS} ms${error !== "" ? ` (${error})` : ""}`,
      };
    }
    const start = performance.now();
    const r = await link.run("PING", (redis) => redis.ping());
    if (!r.ok) return { ok: false, message: `PING: ${r.message}` };
    const ms = Math.round(performance.now() - start);
    // Listing takes no lease: -check beside a running daemon of the same name is no conflict.
    const gateways = await cluster.createGatewayLease({ link }).gateways();
    return { ok: true, ms, ...(gateways !== undefined && { gateways }) };
  } finally {
    await link.close();
  }
}
