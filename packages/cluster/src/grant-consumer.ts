/**
 * The consumer half of the grant bus (issue #19): reads `P:grants` through this gateway's
 * consumer group (group = consumer = its name), own pending entries first (id `0`), then new
 * ones (`>`, blocking at most `blockMs`), and applies the other gateways' grants, acking each
 * entry after it is handled. Every wait is raced with `close()`, because ioredis re-sends a
 * blocking read interrupted by a reconnection instead of failing it.
 */
import type { Clock, Logger, RateLimiter } from "@portknock/core";
import { escapeInput } from "@portknock/core";
import type { GrantRequest, GrantResult } from "@portknock/engine";
import type { Redis } from "ioredis";
import type { ClusterLink } from "./link.ts";
import { grantRequestAt, parseGrantEntry } from "./parse-grant-entry.ts";

/** What the consumer counts (part of `GrantBusCounters`). */
export interface GrantConsumerCounters {
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

/** What the consumer needs (the bus passes its own counters and rate limiter). */
export interface GrantConsumerOptions {
  link: ClusterLink;
  apply: (request: GrantRequest) => Promise<GrantResult>;
  logger: Logger;
  clock: Clock;
  blockMs: number;
  counters: GrantConsumerCounters;
  limiter: RateLimiter;
}

/** A running consumer. */
export interface GrantConsumer {
  /** Resolves once own pending entries are handled, or when the link goes down or closes. */
  caughtUp: Promise<void>;
  /** Stops (an entry being applied stays pending) and closes the connection. */
  close(): Promise<void>;
}

/** Entries per read. */
const READ_COUNT = 100;
const CLOSED = Symbol("closed");

/** Starts consuming on a connection of its own (`link.duplicate("grants")`). */
export function startGrantConsumer(
  options: GrantConsumerOptions,
): GrantConsumer {
  const { link, apply, logger, clock, blockMs, counters, limiter } = options;
  const name = link.name;
  const stream = link.key("grants");
  let closed = false;
  let resolveClosed: (v: typeof CLOSED) => void = () => undefined;
  const closedSignal = new Promise<typeof CLOSED>((r) => (resolveClosed = r));
  let resolveCaughtUp: () => void = () => undefined;
  const caughtUp = new Promise<void>((r) => (resolveCaughtUp = r));
  const race = <T>(p: Promise<T>): Promise<T | typeof CLOSED> =>
    Promise.race([p, closedSignal]);

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

  const conn = link.duplicate("grants");
  const loopDone = loop(conn);
  return {
    caughtUp: Promise.race([caughtUp, closedSignal]).then(() => undefined),
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      resolveClosed(CLOSED);
      conn.disconnect(false);
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
