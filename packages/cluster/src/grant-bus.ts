/**
 * Cluster-wide grants (issue #19, component 3): a grant with `scope = cluster` is applied by the
 * gateway that accepted the knock (through its engine, as before) and published to the stream
 * `P:grants`; every other gateway reads it through its own consumer group (group = consumer =
 * its name) and applies it to its firewall for what is left of its lifetime.
 *
 * Delivery is at least once: an entry is acked after it is applied, so a crash in between applies
 * it again after the restart (own pending entries are read first, id `0`, then new ones, `>`);
 * grants are idempotent. Publishing while Redis is down queues in memory (bounded) and publishes
 * on reconnection what has not expired meanwhile. The consumer survives Redis restarts: its
 * blocking read waits for the reconnection, and a group lost with a non-persistent Redis
 * (`NOGROUP`) is created again at `0`.
 */
import type { Clock, Logger } from "@portknock/core";
import { createRateLimiter, noopLogger, systemClock } from "@portknock/core";
import type { GrantRequest, GrantResult } from "@portknock/engine";
import { ClusterError } from "./errors.ts";
import type { GrantConsumer, GrantConsumerCounters } from "./grant-consumer.ts";
import { startGrantConsumer } from "./grant-consumer.ts";
import type { ClusterLink } from "./link.ts";
import type { ClusterGrant } from "./parse-grant-entry.ts";
import { grantEntryFields, parseGrantEntry } from "./parse-grant-entry.ts";

/** Options of `createGrantBus`. */
export interface GrantBusOptions {
  link: ClusterLink;
  /**
   * Applies a grant of another gateway to the local firewall (knockd: `firewall.grant`). Should
   * not reject; a rejection counts as a failure with code `CLUSTER_GRANT_FAILED`.
   */
  apply: (request: GrantRequest) => Promise<GrantResult>;
  logger?: Logger;
  /** Default `systemClock`: expiries are compared with it. */
  clock?: Clock;
  /** Grants kept while Redis is down (default 1000); beyond, the oldest is dropped. */
  maxQueued?: number;
  /** How long one blocking read waits, in ms (1–1000, default 1000; bounds nothing else). */
  blockMs?: number;
}

/** Counters of a grant bus (knockd's `/metrics`). */
export interface GrantBusCounters extends GrantConsumerCounters {
  /** Grants added to the stream (at once or from the queue). */
  published: number;
  /** Grants queued because Redis was down or over the budget. */
  queued: number;
  /** Queued grants dropped because the queue was full (`CLUSTER_GRANT_QUEUE_FULL`). */
  queueDropped: number;
  /** Queued grants that expired before Redis came back (not published). */
  queueExpired: number;
}

/** Publishes this gateway's cluster grants and applies the others'. */
export interface GrantBus {
  /**
   * Adds a grant (`request.lifetimeMs` is ignored: `expiresAtMs` says when it ends, epoch ms) to
   * the stream: `published`; when Redis is down or over the budget, `queued` (published when
   * the link comes back, or retried every second while it is up; unless expired by then). A bad request is misuse: `TypeError`/`RangeError`.
   */
  publish(
    request: GrantRequest,
    expiresAtMs: number,
  ): Promise<"published" | "queued">;
  /**
   * Starts the consumer: creates the group, re-applies own pending entries, then reads new
   * ones. Resolves when the pending ones are applied, or at once when Redis is down (the
   * consumer catches up when it is back). Idempotent.
   */
  start(): Promise<void>;
  counters(): GrantBusCounters;
  /** Stops reading (an entry being applied is left pending) and closes the connection. */
  close(): Promise<void>;
}

/** Approximate length the stream is trimmed to (`XADD … MAXLEN ~`). */
const MAX_STREAM_LENGTH = 100_000;
/** Delay before publishing the queue again while the link is up, in ms. */
const RETRY_MS = 1000;

/** A grant bus for `options.link` (nothing runs until `start` or `publish`). */
export function createGrantBus(options: GrantBusOptions): GrantBus {
  const { link, apply } = options;
  const logger = options.logger ?? noopLogger;
  const clock = options.clock ?? systemClock;
  const maxQueued = options.maxQueued ?? 1000;
  if (!Number.isInteger(maxQueued) || maxQueued < 1) {
    throw new RangeError(`maxQueued must be an integer ≥ 1, got ${maxQueued}`);
  }
  const blockMs = options.blockMs ?? 1000;
  if (!Number.isInteger(blockMs) || blockMs < 1 || blockMs > 1000) {
    throw new RangeError(`blockMs must be 1-1000, got ${blockMs}`);
  }
  const name = link.name;
  const stream = link.key("grants");
  const limiter = createRateLimiter({ clock, intervalMs: 60_000, burst: 5 });
  const counters: GrantBusCounters = {
    published: 0,
    queued: 0,
    queueDropped: 0,
    queueExpired: 0,
    received: 0,
    applied: 0,
    skippedOwn: 0,
    skippedExpired: 0,
    skippedTrimmed: 0,
    malformed: 0,
    failed: {},
    groupsCreated: 0,
    readErrors: 0,
  };
  const queue: ClusterGrant[] = [];
  let flushing = false;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;
  let consumer: GrantConsumer | undefined;
  let started: Promise<void> | undefined;
  let onDownOnce: (() => void) | undefined;

  const xadd = (g: ClusterGrant): Promise<{ ok: boolean }> =>
    link.run("grant publish", (r) =>
      r.call(
        "XADD",
        stream,
        "MAXLEN",
        "~",
        String(MAX_STREAM_LENGTH),
        "*",
        ...grantEntryFields(g),
      ),
    );

  const enqueue = (g: ClusterGrant): void => {
    counters.queued++;
    queue.push(g);
    if (queue.length > maxQueued) {
      const dropped = queue.shift();
      counters.queueDropped++;
      if (limiter.take("CLUSTER_GRANT_QUEUE_FULL") >= 0) {
        logger.warn(
          {
            event: "cluster.grant.dropped",
            code: "CLUSTER_GRANT_QUEUE_FULL",
            maxQueued,
            ip: dropped?.address,
            port: dropped?.port,
          },
          `more than ${maxQueued} cluster grants queued while Redis is down: the oldest is dropped (other gateways will not apply it)`,
        );
      }
    }
  };

  // Publishes the queue in order, skipping what expired; stops at the first failure.
  const flush = async (): Promise<void> => {
    if (flushing) return;
    flushing = true;
    try {
      while (queue.length > 0 && !closed) {
        const g = queue[0]!;
        if (g.expiresAtMs <= clock.now()) {
          queue.shift();
          counters.queueExpired++;
          continue;
        }
        const r = await xadd(g);
        if (!r.ok) break;
        if (queue[0] === g) queue.shift();
        counters.published++;
      }
    } finally {
      flushing = false;
      if (queue.length > 0 && link.up) scheduleRetry();
    }
  };

  // While the link is up but a publish failed (over the budget, a Redis error), try again
  // shortly; while it is down, the next `up` flushes.
  const scheduleRetry = (): void => {
    if (closed || retryTimer !== undefined) return;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      if (!closed && link.up && queue.length > 0) void flush();
    }, RETRY_MS);
  };

  link.onUp(() => {
    if (!closed && queue.length > 0) void flush();
  });
  link.onDown(() => onDownOnce?.());

  return {
    async publish(request, expiresAtMs): Promise<"published" | "queued"> {
      if (closed) {
        throw new ClusterError(
          "CLUSTER_GRANT_BUS_CLOSED",
          "publish after the grant bus was closed",
        );
      }
      if (!Number.isSafeInteger(expiresAtMs) || expiresAtMs < 0) {
        throw new RangeError(
          `expiresAtMs must be epoch ms, got ${String(expiresAtMs)}`,
        );
      }
      const g: ClusterGrant = {
        from: name,
        address: request.address,
        family: request.family,
        protocol: request.protocol,
        port: request.port,
        expiresAtMs,
      };
      // Check it as a reader will: nothing malformed goes into the stream.
      const checked = parseGrantEntry(grantEntryFields(g));
      if (!checked.ok) {
        throw new TypeError(`not a grant to publish: ${checked.reason}`);
      }
      if (link.up) {
        const r = await xadd(checked.grant);
        if (r.ok) {
          counters.published++;
          // A grant queued over the budget while the link stayed up goes now.
          if (queue.length > 0) void flush();
          return "published";
        }
      }
      enqueue(checked.grant);
      if (link.up) scheduleRetry();
      return "queued";
    },
    start(): Promise<void> {
      if (started !== undefined) return started;
      if (closed) return Promise.resolve();
      consumer = startGrantConsumer({
        link,
        apply,
        logger,
        clock,
        blockMs,
        counters,
        limiter,
      });
      // Waits for the catch-up only while Redis answers: start never waits out an outage.
      const wentDown = new Promise<void>((resolve) => (onDownOnce = resolve));
      started = link.up
        ? Promise.race([consumer.caughtUp, wentDown])
        : Promise.resolve();
      return started;
    },
    counters(): GrantBusCounters {
      return { ...counters, failed: { ...counters.failed } };
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      if (retryTimer !== undefined) clearTimeout(retryTimer);
      await consumer?.close();
    },
  };
}
