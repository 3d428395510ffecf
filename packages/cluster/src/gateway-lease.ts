/**
 * Gateway names are identities (issue #19): the state store's sequence numbers, the pending
 * delayed actions and the grant stream's consumer group are all keyed by the name, so two live
 * gateways with one name would skip each other's state changes and steal each other's grants,
 * silently. The lease makes that loud: each gateway holds `P:gateway:<name>` = its instance id
 * (random per process) with a ttl, renewed every ttl / 3. Finding another instance's id there is
 * `CLUSTER_NAME_IN_USE`, logged at error (once per minute) and counted, and the lease is not
 * taken over until it expires. `gateways()` lists the names holding a lease (`knockd -check`).
 */
import { randomBytes } from "node:crypto";
import type { Logger, TimerHandle, Timers } from "@portknock/core";
import { noopLogger, systemTimers } from "@portknock/core";
import type { ClusterLink } from "./link.ts";

/** Options of `createGatewayLease`. */
export interface GatewayLeaseOptions {
  link: ClusterLink;
  logger?: Logger;
  /** Lifetime of the lease in ms (default 30,000); renewed every third of it. */
  ttlMs?: number;
  timers?: Timers;
}

/** Counters of a lease. */
export interface GatewayLeaseCounters {
  /** 1 while this process holds its name's lease, else 0. */
  held: number;
  /** Renewals that found another instance holding the name. */
  conflicts: number;
}

/** This gateway's hold on its name. */
export interface GatewayLease {
  /** This process's instance id (16 hex digits). */
  readonly instance: string;
  /** Takes or renews the lease now; true when this process holds it. Never rejects. */
  renew(): Promise<boolean>;
  /** Renews every ttl / 3 (and when the link comes up) until `close()`. */
  start(): void;
  /** The names of the gateways holding a lease now, sorted; undefined when Redis does not answer. */
  gateways(): Promise<string[] | undefined>;
  counters(): GatewayLeaseCounters;
  /** Stops renewing and gives the lease back when it is still this process's (idempotent). */
  close(): Promise<void>;
}

// Renew only our own lease (or take a free one); answer who holds it.
const RENEW = `
local holder = redis.call('GET', KEYS[1])
if holder == false or holder == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return ARGV[1]
end
return holder`;

// Delete only our own lease.
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

const LOG_INTERVAL_MS = 60_000;

/** Creates the lease of `link.name` (nothing is sent before `renew` or `start`). */
export function createGatewayLease(options: GatewayLeaseOptions): GatewayLease {
  const { link } = options;
  const logger = options.logger ?? noopLogger;
  const timers = options.timers ?? systemTimers;
  const ttlMs = options.ttlMs ?? 30_000;
  if (!Number.isInteger(ttlMs) || ttlMs < 30 || ttlMs > 86_400_000) {
    throw new RangeError(`ttlMs must be 30-86400000, got ${ttlMs}`);
  }
  const instance = randomBytes(8).toString("hex");
  const key = link.key("gateway", link.name);
  const counters: GatewayLeaseCounters = { held: 0, conflicts: 0 };
  let timer: TimerHandle = undefined; // undefined until start()
  let started = false;
  let closed = false;
  let lastLog = -Infinity;

  const renew = async (): Promise<boolean> => {
    if (closed) return false;
    const r = await link.run("lease", (redis) =>
      redis.eval(RENEW, 1, key, instance, String(ttlMs)),
    );
    if (!r.ok) return counters.held === 1; // unknown: keep what we knew
    if (r.value === instance) {
      counters.held = 1;
      return true;
    }
    counters.held = 0;
    counters.conflicts++;
    const now = Date.now();
    if (now - lastLog >= LOG_INTERVAL_MS) {
      lastLog = now;
      logger.error(
        {
          event: "cluster.name",
          code: "CLUSTER_NAME_IN_USE",
          name: link.name,
          other: typeof r.value === "string" ? r.value : String(r.value),
        },
        `another running gateway uses the name ${link.name} (instance ${String(r.value)}; this one is ${instance}): names must be unique, or the two skip each other's state changes and share one grant consumer group; give each gateway its own name in <cluster>`,
      );
    }
    return false;
  };

  const lease: GatewayLease = {
    instance,
    renew,
    start(): void {
      if (closed || started) return;
      started = true;
      const tick = (): void => {
        timer = timers.setTimeout(
          () => {
            void renew().finally(() => {
              if (!closed) tick();
            });
          },
          Math.floor(ttlMs / 3),
        );
      };
      link.onUp(() => void renew());
      void renew();
      tick();
    },
    async gateways(): Promise<string[] | undefined> {
      const pattern = `${link.key("gateway")}:*`;
      const r = await link.run("lease scan", async (redis) => {
        const names: string[] = [];
        let cursor = "0";
        do {
          const [next, keys] = await redis.scan(
            cursor,
            "MATCH",
            pattern,
            "COUNT",
            1000,
          );
          cursor = next;
          for (const k of keys) names.push(k.slice(pattern.length - 1));
        } while (cursor !== "0" && names.length < 100_000);
        return names;
      });
      return r.ok ? [...new Set(r.value)].sort() : undefined;
    },
    counters(): GatewayLeaseCounters {
      return { ...counters };
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      if (started) timers.clearTimeout(timer);
      if (counters.held === 1) {
        await link.run("lease release", (redis) =>
          redis.eval(RELEASE, 1, key, instance),
        );
        counters.held = 0;
      }
    },
  };
  return lease;
}
