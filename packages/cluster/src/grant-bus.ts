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
import {
  createRateLimiter,
  escapeInput,
  noopLogger,
  systemClock,
} from "@portknock/core";
import type { GrantRequest, GrantResult } from "@portknock/engine";
import type { Redis } from "ioredis";
import { ClusterError } from "./errors.ts";
import type { ClusterLink } from "./link.ts";
import type { ClusterGrant } from "./parse-grant-entry.ts";
import {
  grantEntryFields,
  grantRequestAt,
  parseGrantEntry,
} from "./parse-grant-entry.ts";

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
export interface GrantBusCounters {
  /** Grants added to the stream (at once or from the queue). */
  published: number;
  /** Grants queued because Redis was down or over the budget. */
  queued: number;
  /** Queued grants dropped because the queue was full (`CLUSTER_GRANT_QUEUE_FULL`). */
  queueDropped: number;
  /** Queued grants that expired before Redis came back (not published). */
  queueExpired: number;
  /** Stream entries read (new ones and own pending ones). */
  received: number;
  /** Grants of other gateways applied. */
  applied: number;
  /** Own entries (skipped: the engine applied them). */
  skippedOwn: number;
  /** Entries whose grant had expired. */
  skippedExpired: number;
  /** Pending entries already trimmed from the stream (their content is gone). */
  skippedTrimmed: number;
  /** Entries refused as malformed (`CLUSTER_GRANT_MALFORMED`). */
  malformed: number;
  /** Grants `apply` refused, by its code (e.g. `FIREWALL_NOT_PROTECTED`). */
  failed: Record<string, number>;
  /** Consumer groups created (at start, and again after Redis lost them). */
  groupsCreated: number;
  /** Failed reads other than a lost group (`CLUSTER_GRANT_READ_FAILED`). */
  readErrors: number;
}

/** Publishes this gateway's cluster grants and applies the others'. */
export interface GrantBus {
  /**
   * Adds a grant (`request.lifetimeMs` is ignored: `expiresAtMs` says when it ends, epoch ms) to
   * the stream: `published`; when Redis is down or over the budget, `queued` (published when
   * the link comes back, unless expired). A bad request is misuse: `TypeError`/`RangeError`.
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
/** Entries per read. */
const READ_COUNT = 100;
/** Delay before publishing the queue again while the link is up, in ms. */
const RETRY_MS = 1000;
const CLOSED = Symbol("closed");

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
  let conn: Redis | undefined;
  let loopDone: Promise<void> | undefined;
  let started: Promise<void> | undefined;
  let resolveClosed: (v: typeof CLOSED) => void = () => undefined;
  const closedSignal = new Promise<typeof CLOSED>((r) => (resolveClosed = r));
  let resolveCaughtUp: () => void = () => undefined;
  const caughtUp = new Promise<void>((r) => (resolveCaughtUp = r));
  let onDownOnce: (() => void) | undefined;

  const race = <T>(p: Promise<T>): Promise<T | typeof CLOSED> =>
    Promise.race([p, closedSignal]);

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

  // Raced with close(): a command queued while Redis is down may never settle.
  const ack = async (r: Redis, id: string): Promise<void> => {
    await race(r.call("XACK", stream, name, id));
  };

  const ensureGroup = async (r: Redis): Promise<void> => {
    try {
      await r.call("XGROUP", "CREATE", stream, name, "0", "MKSTREAM");
      counters.groupsCreated++;
      logger.info(
        { event: "cluster.grant.group", stream, group: name },
        `consumer group ${name} of ${stream} created`,
      );
    } catch (e) {
      if (!(e instanceof Error && e.message.startsWith("BUSYGROUP"))) throw e;
    }
  };

  const handle = async (
    r: Redis,
    id: string,
    fields: unknown,
  ): Promise<void> => {
    counters.received++;
    if (fields === null) {
      // A pending entry trimmed from the stream meanwhile: nothing left to apply.
      counters.skippedTrimmed++;
      await ack(r, id);
      return;
    }
    const parsed = parseGrantEntry(fields);
    if (!parsed.ok) {
      counters.malformed++;
      if (limiter.take("CLUSTER_GRANT_MALFORMED") >= 0) {
        logger.warn(
          {
            event: "cluster.grant.rejected",
            code: "CLUSTER_GRANT_MALFORMED",
            source: `${stream} ${id}`,
            input: escapeInput(JSON.stringify(fields)),
          },
          `stream entry ${stream} ${id} is not a cluster grant (${parsed.reason}): skipped`,
        );
      }
      await ack(r, id);
      return;
    }
    const g = parsed.grant;
    if (g.from === name) {
      counters.skippedOwn++;
      await ack(r, id);
      return;
    }
    const now = clock.now();
    if (g.expiresAtMs <= now) {
      counters.skippedExpired++;
      await ack(r, id);
      return;
    }
    const request = grantRequestAt(g, now);
    let result: GrantResult;
    try {
      const applied = await race(apply(request));
      if (applied === CLOSED) return; // left pending: applied again after a restart
      result = applied;
    } catch (e) {
      result = {
        ok: false,
        code: "CLUSTER_GRANT_FAILED",
        message: e instanceof Error ? e.message : String(e),
      };
    }
    const logged = {
      source: `${stream} ${id}`,
      from: g.from,
      ip: g.address,
      protocol: g.protocol,
      port: g.port,
      lifetimeMs: request.lifetimeMs,
    };
    if (result.ok) {
      counters.applied++;
      logger.info(
        { event: "cluster.grant.applied", ...logged },
        `cluster grant of ${g.from} applied`,
      );
    } else {
      counters.failed[result.code] = (counters.failed[result.code] ?? 0) + 1;
      if (limiter.take(result.code) >= 0) {
        logger.warn(
          { event: "cluster.grant.failed", code: result.code, ...logged },
          `cluster grant of ${g.from} not applied here: ${result.message}`,
        );
      }
    }
    await ack(r, id);
  };

  const sleep = async (ms: number): Promise<void> => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await race(new Promise((r) => (timer = setTimeout(r, ms))));
    clearTimeout(timer);
  };

  const loop = async (r: Redis): Promise<void> => {
    let needGroup = true;
    // The id to re-read own pending entries after, or undefined once they are done (`>`).
    let cursor: string | undefined = "0";
    let failures = 0;
    while (!closed) {
      try {
        if (needGroup) {
          const created = await race(ensureGroup(r));
          if (created === CLOSED) break;
          needGroup = false;
          cursor = "0";
        }
        const reply = await race(
          r.call(
            "XREADGROUP",
            "GROUP",
            name,
            name,
            "COUNT",
            String(READ_COUNT),
            ...(cursor === undefined ? ["BLOCK", String(blockMs)] : []),
            "STREAMS",
            stream,
            cursor ?? ">",
          ),
        );
        if (reply === CLOSED) break;
        failures = 0;
        const entries = readEntries(reply, stream);
        if (cursor !== undefined) {
          if (entries.length === 0) {
            cursor = undefined;
            resolveCaughtUp();
            continue;
          }
          cursor = entries[entries.length - 1]!.id;
        }
        for (const e of entries) {
          if (closed) break;
          await handle(r, e.id, e.fields);
        }
      } catch (e) {
        if (closed) break;
        const message = e instanceof Error ? e.message : String(e);
        // Re-read own pending entries after any failure: an ack may have been lost.
        cursor = "0";
        if (/^NOGROUP/.test(message)) {
          needGroup = true;
          logger.info(
            { event: "cluster.grant.group-lost", stream, group: name },
            `consumer group ${name} of ${stream} is gone (Redis restarted without persistence?): creating it again`,
          );
          continue;
        }
        counters.readErrors++;
        failures++;
        if (limiter.take("CLUSTER_GRANT_READ_FAILED") >= 0) {
          logger.warn(
            {
              event: "cluster.error",
              code: "CLUSTER_GRANT_READ_FAILED",
              stream,
            },
            `reading cluster grants from ${stream} failed: ${message}; retrying`,
          );
        }
        await sleep(Math.min(100 * 2 ** Math.min(failures, 6), 5000));
      }
    }
  };

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
      const r = link.duplicate("grants");
      conn = r;
      loopDone = loop(r);
      // Waits for the catch-up only while Redis answers: start never waits out an outage.
      const wentDown = new Promise<void>((resolve) => (onDownOnce = resolve));
      started = link.up
        ? Promise.race([caughtUp, wentDown, closedSignal]).then(() => undefined)
        : Promise.resolve();
      return started;
    },
    counters(): GrantBusCounters {
      return { ...counters, failed: { ...counters.failed } };
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      resolveClosed(CLOSED);
      if (retryTimer !== undefined) clearTimeout(retryTimer);
      conn?.disconnect(false);
      await loopDone;
    },
  };
}

/** The entries of an XREADGROUP reply for `stream` (RESP2 list of pairs, or RESP3 legacy flat map). */
function readEntries(
  reply: unknown,
  stream: string,
): Array<{ id: string; fields: unknown }> {
  if (reply == null) return [];
  if (!Array.isArray(reply)) return [];
  let items: unknown;
  if (typeof reply[0] === "string") {
    // RESP3 map, flattened: [key, entries, key, entries …]
    for (let i = 0; i + 1 < reply.length; i += 2) {
      if (reply[i] === stream) items = reply[i + 1];
    }
  } else {
    for (const pair of reply) {
      if (Array.isArray(pair) && pair[0] === stream) items = pair[1];
    }
  }
  if (!Array.isArray(items)) return [];
  const out: Array<{ id: string; fields: unknown }> = [];
  for (const item of items) {
    if (Array.isArray(item) && typeof item[0] === "string") {
      out.push({ id: item[0], fields: item[1] ?? null });
    }
  }
  return out;
}
