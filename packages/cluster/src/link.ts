/**
 * The connection to Redis (or Valkey) that every cluster component shares: one client for
 * commands, with no offline queue and a per-command budget, so that a slow or absent Redis never
 * holds a decision longer than `budgetMs`; duplicates for subscriptions and blocking reads; and
 * one up/down state. Going down logs one WARN per outage (`CLUSTER_DOWN`) and the components fall
 * back to local decisions; coming back logs `cluster.up` and calls the `up` listeners, which
 * merge back what was decided locally. ioredis reconnects with the back-off of `retryDelayMs`.
 */
import type { Logger } from "@portknock/core";
import { noopLogger } from "@portknock/core";
import { checkRedisUrl } from "@portknock/config";
import { Redis } from "ioredis";
import type { RedisOptions } from "ioredis";
import { ClusterError } from "./errors.ts";

/** Where Redis is and how to talk to it. */
export interface RedisTarget {
  /**
   * `redis://[user@]host[:port][/db]`, `rediss://…` (TLS) or `unix:///path/redis.sock` (a local
   * socket, database 0). A password in the URL is refused.
   */
  url: string;
  /** The password (read from a file by the caller: knockd's `passwordfile`). */
  password?: string;
  /** PEM text of the CA to verify a `rediss://` server with (default: the system's CAs). */
  tlsCa?: string;
}

/** Options of `createClusterLink`. */
export interface ClusterLinkOptions extends RedisTarget {
  /** This gateway's name (`[A-Za-z0-9_.-]{1,64}`): the consumer name and the pending actions' key. */
  name: string;
  /** Prefix of every key (default `portknock`), so one Redis can hold several clusters. */
  prefix?: string;
  /** The longest a decision waits for one Redis command, in ms (default 50). */
  budgetMs?: number;
  /** Longest wait for a TCP (and TLS) connection, in ms (default 2000). */
  connectTimeoutMs?: number;
  /** Delay before reconnect attempt `n` (1-based), in ms. Default: 100 · 2^(n-1), at most 10 s. */
  retryDelayMs?: (attempt: number) => number;
  logger?: Logger;
}

/** What a command through `run` gave. */
export type RunResult<T> =
  | { ok: true; value: T }
  | { ok: false; reason: "down" | "timeout" | "error"; message: string };

/** Counters of a link (knockd's `/metrics`). */
export interface LinkCounters {
  /** 1 while connected, 0 while degraded. */
  up: number;
  /** Outages so far (transitions to down). */
  outages: number;
  /** Commands sent through `run`. */
  commands: number;
  /** Of those, the ones over the budget. */
  timeouts: number;
  /** Of those, the ones that failed otherwise (connection down, a Redis error). */
  failures: number;
}

/** A shared connection to Redis. */
export interface ClusterLink {
  readonly name: string;
  readonly prefix: string;
  readonly budgetMs: number;
  /** Whether Redis answered last (false before the first connection and during an outage). */
  readonly up: boolean;
  /** `prefix:part:part…`. */
  key(...parts: string[]): string;
  /** The command connection (no offline queue, `commandTimeout` = budget). Prefer `run`. */
  readonly redis: Redis;
  /**
   * A new connection with the same target, for subscriptions or blocking reads (no command
   * timeout, offline queue on, reconnecting); closed with the link.
   */
  duplicate(purpose: string): Redis;
  /** Runs `fn` on the command connection, counting and classifying any failure. Never rejects. */
  run<T>(what: string, fn: (redis: Redis) => Promise<T>): Promise<RunResult<T>>;
  /** Calls `listener` after each (re)connection (including the first). */
  onUp(listener: () => void): void;
  /** Calls `listener` when an outage starts. */
  onDown(listener: () => void): void;
  /** Resolves true once connected, false after `timeoutMs` without a connection. */
  ready(timeoutMs: number): Promise<boolean>;
  counters(): LinkCounters;
  /** Closes every connection (idempotent). */
  close(): Promise<void>;
}

const NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const PREFIX = /^[A-Za-z0-9_.:-]{1,64}$/;

/** ioredis options for `target` (checked: scheme, host, port, db, no password in the URL). */
export function redisOptions(target: RedisTarget): RedisOptions {
  // The rules are config's (a lower layer): one place, and no password in any message.
  const why = checkRedisUrl(target.url);
  if (why !== undefined) {
    throw new ClusterError("CLUSTER_BAD_URL", `redis = ${why}`);
  }
  const url = new URL(target.url);
  const user = url.username !== "" && {
    username: decodeURIComponent(url.username),
  };
  if (url.protocol === "unix:") {
    // A local socket (Redis' unixsocket): also reachable from other network namespaces.
    return {
      path: decodeURIComponent(url.pathname),
      db: 0,
      ...(target.password !== undefined && { password: target.password }),
    };
  }
  const port = url.port === "" ? 6379 : Number(url.port);
  const path = url.pathname.replace(/^\//, "");
  const db = path === "" ? 0 : Number(path);
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  return {
    host,
    port,
    db,
    ...user,
    ...(target.password !== undefined && { password: target.password }),
    ...(url.protocol === "rediss:" && {
      tls: {
        servername: host,
        ...(target.tlsCa !== undefined && { ca: target.tlsCa }),
      },
    }),
  };
}

/** Connects to Redis (in the background: `ready()` tells when) and returns the link. */
export function createClusterLink(options: ClusterLinkOptions): ClusterLink {
  if (!NAME.test(options.name)) {
    throw new ClusterError(
      "CLUSTER_BAD_NAME",
      `name = ${JSON.stringify(options.name).slice(0, 80)}: 1-64 of A-Z a-z 0-9 _ . -`,
    );
  }
  const prefix = options.prefix ?? "portknock";
  if (!PREFIX.test(prefix)) {
    throw new ClusterError(
      "CLUSTER_BAD_PREFIX",
      `prefix = ${JSON.stringify(prefix).slice(0, 80)}: 1-64 of A-Z a-z 0-9 _ . : -`,
    );
  }
  const budgetMs = options.budgetMs ?? 50;
  if (!Number.isInteger(budgetMs) || budgetMs < 1 || budgetMs > 60_000) {
    throw new RangeError(`budgetMs must be 1-60000, got ${budgetMs}`);
  }
  const logger = options.logger ?? noopLogger;
  const retryDelayMs =
    options.retryDelayMs ??
    ((n: number): number => Math.min(100 * 2 ** Math.min(n - 1, 20), 10_000));
  const base: RedisOptions = {
    ...redisOptions(options),
    connectionName: `portknock:${options.name}`,
    lazyConnect: true,
    connectTimeout: options.connectTimeoutMs ?? 2000,
    retryStrategy: (times) => retryDelayMs(times),
    // A command never waits for a reconnection: the caller decides locally instead.
    maxRetriesPerRequest: 0,
    // ioredis' disconnect() waits this long for a socket that is already gone (Redis down) to
    // emit close, and its timer keeps the process alive: 2 s by default at every stop.
    disconnectTimeout: 200,
  };
  const redis = new Redis({
    ...base,
    enableOfflineQueue: false,
    commandTimeout: budgetMs,
  });
  const others: Redis[] = [];
  const upListeners: Array<() => void> = [];
  const downListeners: Array<() => void> = [];
  const counters: LinkCounters = {
    up: 0,
    outages: 0,
    commands: 0,
    timeouts: 0,
    failures: 0,
  };
  let up = false;
  let closed = false;
  let downSince: number | undefined = Date.now();
  let firstConnect = true;
  const where = `${options.url}`;

  const goDown = (why: string): void => {
    if (closed || !up) return;
    up = false;
    counters.up = 0;
    counters.outages++;
    downSince = Date.now();
    logger.warn(
      {
        event: "cluster.down",
        code: "CLUSTER_DOWN",
        redis: where,
        reason: why,
      },
      `Redis ${where} unreachable (${why}): deciding locally (local replay cache, state and delayed actions) until it is back; retrying with back-off`,
    );
    for (const l of downListeners) safely(l, logger);
  };
  redis.on("ready", () => {
    if (closed) return;
    const was = downSince;
    up = true;
    counters.up = 1;
    downSince = undefined;
    if (firstConnect) {
      firstConnect = false;
      logger.info(
        { event: "cluster.connected", redis: where, name: options.name },
        `connected to Redis ${where} as ${options.name}`,
      );
    } else {
      logger.info(
        {
          event: "cluster.up",
          redis: where,
          downMs: was === undefined ? 0 : Date.now() - was,
        },
        `Redis ${where} is back: merging what was decided locally`,
      );
    }
    for (const l of upListeners) safely(l, logger);
  });
  redis.on("error", (e: Error) => {
    // Connection errors come here too (ioredis reconnects by itself); one WARN per outage.
    if (firstConnect && up === false && counters.outages === 0) {
      counters.outages++;
      logger.warn(
        {
          event: "cluster.down",
          code: "CLUSTER_DOWN",
          redis: where,
          reason: e.message,
        },
        `Redis ${where} unreachable (${e.message}): deciding locally until it is reachable; retrying with back-off`,
      );
      return;
    }
    goDown(e.message);
  });
  redis.on("close", () => goDown("connection closed"));
  redis.connect().catch(() => undefined);

  const link: ClusterLink = {
    name: options.name,
    prefix,
    budgetMs,
    get up(): boolean {
      return up;
    },
    key(...parts: string[]): string {
      return [prefix, ...parts].join(":");
    },
    redis,
    duplicate(purpose: string): Redis {
      const r = new Redis({
        ...base,
        connectionName: `portknock:${options.name}:${purpose}`,
        maxRetriesPerRequest: null,
        enableOfflineQueue: true,
      });
      r.on("error", () => undefined); // the command connection reports outages
      r.connect().catch(() => undefined);
      others.push(r);
      return r;
    },
    async run<T>(
      what: string,
      fn: (r: Redis) => Promise<T>,
    ): Promise<RunResult<T>> {
      counters.commands++;
      if (closed) return { ok: false, reason: "down", message: "link closed" };
      try {
        return { ok: true, value: await fn(redis) };
      } catch (e) {
        const message = (e as Error).message;
        if (/timed out/i.test(message)) {
          counters.timeouts++;
          logger.debug(
            { event: "cluster.timeout", what, budgetMs },
            `Redis ${what} took longer than ${budgetMs} ms: decided locally`,
          );
          return { ok: false, reason: "timeout", message };
        }
        counters.failures++;
        if (
          !up ||
          /writeable|Connection is closed|ECONN|EPIPE/i.test(message)
        ) {
          // The socket can be unwritable before ioredis emits "close": down from now on.
          goDown(message);
          return { ok: false, reason: "down", message };
        }
        logger.warn(
          { event: "cluster.error", code: "CLUSTER_COMMAND_FAILED", what },
          `Redis ${what} failed: ${message}`,
        );
        return { ok: false, reason: "error", message };
      }
    },
    onUp(listener): void {
      upListeners.push(listener);
    },
    onDown(listener): void {
      downListeners.push(listener);
    },
    ready(timeoutMs: number): Promise<boolean> {
      if (up) return Promise.resolve(true);
      return new Promise((resolve) => {
        const t = setTimeout(() => {
          redis.off("ready", onReady);
          resolve(false);
        }, timeoutMs);
        const onReady = (): void => {
          clearTimeout(t);
          resolve(true);
        };
        redis.once("ready", onReady);
      });
    },
    counters(): LinkCounters {
      return { ...counters };
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      up = false;
      counters.up = 0;
      for (const r of [redis, ...others]) r.disconnect(false);
      await Promise.resolve();
    },
  };
  return link;
}

function safely(listener: () => void, logger: Logger): void {
  try {
    listener();
  } catch (e) {
    logger.error(
      { event: "cluster.error", code: "CLUSTER_LISTENER_FAILED" },
      `a cluster listener failed: ${(e as Error).message}`,
    );
  }
}
