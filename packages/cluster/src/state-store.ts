/**
 * The cluster state store (issue #19): the engine's `StateStore` over the gateway's own store
 * (`local`: the statefile's file store in knockd), shared with the other gateways through Redis.
 * Reads are served from `local`, the mirror (synchronously: a decision never waits on Redis).
 * Every change is applied to `local` at once and queued in the outbox (`outbox.ts`), which one
 * sender (`state-sender.ts`) drains to Redis, one op at a time, each in one Lua script
 * (`state-scripts.ts`; increments as atomic deltas). Each script publishes `{from, root}` on
 * `P:state-changes`; the other gateways reload that root into their mirror (`state-mirror.ts`).
 * Pending delayed actions go to `P:pending:<name>`. When Redis is unreachable everything keeps
 * working on `local` and the outbox waits (persisted in `local`'s extras); when it is back, the
 * outbox is merged back and the whole state reloaded.
 */
import type { Logger } from "@portknock/core";
import { noopLogger } from "@portknock/core";
import type {
  JsonValue,
  PendingAction,
  StateStore,
  StateValue,
} from "@portknock/engine";
import type { Redis } from "ioredis";
import type { ClusterCode } from "./codes.ts";
import type { ClusterLink } from "./link.ts";
import type { NewOp } from "./outbox.ts";
import { OUTBOX_EXTRA, openOutbox } from "./outbox.ts";
import type { ClusterStoreCounters, StoreContext } from "./state-context.ts";
import { stateKeys } from "./state-context.ts";
import { createMirror } from "./state-mirror.ts";
import { createSender } from "./state-sender.ts";

export type { ClusterStoreCounters } from "./state-context.ts";

/** Options of `createClusterStore`. */
export interface ClusterStoreOptions {
  /** The shared Redis connection. */
  link: ClusterLink;
  /** This gateway's own store: the mirror reads are served from, and the fallback. */
  local: StateStore;
  logger?: Logger;
  /** Most changes kept for Redis while it is unreachable; then the oldest is dropped. Default 10,000. */
  maxOutbox?: number;
  /**
   * The key pending actions are sealed with in Redis (`pendingKeyFrom` of the cluster's knock
   * secrets): only entries sealed with it are loaded by `start()`, so write access to Redis alone
   * cannot make this gateway run a command. Without one, pending actions are mirrored to Redis
   * but never loaded from it (a replacement gateway does not take them over).
   */
  pendingKey?: Uint8Array;
}

/** The engine's `StateStore`, shared through Redis. */
export interface ClusterStore extends StateStore {
  /**
   * Applies the increment to `local` at once and queues `delta` for Redis, which adds it
   * atomically (a value that is not a number there becomes `value`: Perl's magic increment).
   */
  add(path: readonly string[], delta: number, value: StateValue): void;
  /**
   * Subscribes to other gateways' changes and, when Redis is up, merges back the outbox, then
   * loads Redis's state and this gateway's pending actions into `local` (and this gateway's
   * local-only pending actions into Redis). When Redis is down it resolves at once; that happens
   * when it comes up. Call it before the engine's `start()`.
   */
  start(): Promise<void>;
  counters(): ClusterStoreCounters;
}

const WARN_EVERY_MS = 10_000;

/**
 * Creates the store over `local` (which it closes on `close()`; the link stays open).
 * `set`, `add`, `delete`, `addPending` and `removePending` return at once; `flush()` is `local`'s
 * (the statefile's durability, not a Redis round trip); `close()` tries to merge the outbox back
 * for at most 1 s (what remains stays in `local`'s extras for the next start), then closes `local`.
 * @throws RangeError on a `maxOutbox` that is not a positive integer.
 */
export function createClusterStore(options: ClusterStoreOptions): ClusterStore {
  const { link, local } = options;
  const logger = options.logger ?? noopLogger;
  const maxOutbox = options.maxOutbox ?? 10_000;
  if (!Number.isSafeInteger(maxOutbox) || maxOutbox < 1) {
    throw new RangeError(
      `maxOutbox must be a positive integer, got ${maxOutbox}`,
    );
  }
  const keys = stateKeys(link);
  const counters: Omit<ClusterStoreCounters, "outbox"> = {
    sent: 0,
    queued: 0,
    dropped: 0,
    reloads: 0,
    fullReloads: 0,
    rejected: 0,
    forged: 0,
  };
  const lastWarn = new Map<ClusterCode, number>();
  const timers = new Set<ReturnType<typeof setTimeout>>();
  let started = false;
  let closing: Promise<void> | undefined;
  // Set once close() gave up on Redis: nothing touches `local` any more.
  let stopped = false;
  let sub: Redis | undefined;
  let fullWarned = false;
  const warn = (code: ClusterCode, fields: object, message: string): void => {
    const now = Date.now();
    if (now - (lastWarn.get(code) ?? -Infinity) < WARN_EVERY_MS) return;
    lastWarn.set(code, now);
    logger.warn({ event: "cluster.state", code, ...fields }, message);
  };
  const reject: StoreContext["reject"] = (code, n, source, why) => {
    counters.rejected += n;
    if (code === "CLUSTER_PENDING_FORGED") {
      // Someone with write access to Redis tried to make this gateway run a command.
      counters.forged += n;
      logger.error(
        { event: "cluster.state", code, source, entries: n },
        `${source}: ${n} forged (${why})`,
      );
      return;
    }
    warn(code, { source }, `${source}: ${n} invalid (${why}): skipped`);
  };
  const outbox = openOutbox(local, maxOutbox, Date.now, (n) =>
    reject(
      "CLUSTER_BAD_ENTRY",
      n,
      `statefile extras ${OUTBOX_EXTRA}`,
      "not an op",
    ),
  );
  const ctx: StoreContext = {
    link,
    local,
    outbox,
    logger,
    pendingKey: options.pendingKey,
    keys,
    counters,
    stopped: () => stopped,
    later(ms, fn): void {
      const t = setTimeout(() => {
        timers.delete(t);
        fn();
      }, ms);
      timers.add(t);
    },
    warn,
    reject,
  };
  const queue = (op: NewOp): void => {
    const dropped = outbox.push(op);
    counters.queued++;
    if (dropped) {
      counters.dropped++;
      if (!fullWarned) {
        fullWarned = true;
        logger.warn(
          {
            event: "cluster.outbox_full",
            code: "CLUSTER_OUTBOX_FULL",
            maxOutbox,
          },
          `the cluster outbox holds ${maxOutbox} changes Redis has not seen: dropping the oldest (counted) until Redis is back`,
        );
      }
    }
    sender.kick();
  };
  const mirror = createMirror(ctx, queue);
  const sender = createSender(
    ctx,
    (root, pairs) => mirror.replaceRoot(root, pairs),
    () => {
      fullWarned = false;
    },
  );

  let syncing: Promise<void> | undefined;
  let again = false;
  const syncOnce = async (): Promise<void> => {
    if (stopped || !link.up) return;
    // Sequence numbers stay above what Redis applied (a clock set back, a new local store).
    const applied = await link.run("state applied", (redis) =>
      redis.get(keys.applied),
    );
    if (applied.ok && applied.value !== null && /^\d+$/.test(applied.value)) {
      outbox.floor(Number(applied.value));
    }
    await sender.drainNow();
    if (!started) return;
    const ok = (await mirror.loadPending()) && (await mirror.loadAll());
    if (!ok && link.up && !stopped) ctx.later(500, () => void resync());
  };
  function resync(): Promise<void> {
    if (syncing) {
      again = true;
      return syncing;
    }
    syncing = (async () => {
      do {
        again = false;
        await syncOnce();
      } while (again && !stopped);
    })().finally(() => {
      syncing = undefined;
    });
    return syncing;
  }
  link.onUp(() => {
    if (closing) return;
    if (started) void resync();
    else sender.kick();
  });

  const rootOf = (path: readonly string[]): string => path[0] ?? "";
  const store: ClusterStore = {
    get: (path) => local.get(path),
    entries: () => local.entries(),
    pending: () => local.pending(),
    getExtra: (namespace) => local.getExtra(namespace),
    setExtra: (namespace: string, value: JsonValue | undefined) =>
      local.setExtra(namespace, value),
    set(path, value): void {
      local.set(path, value);
      const stored = local.get(path) ?? value;
      mirror.touched(rootOf(path));
      queue({ op: "set", path: [...path], value: stored });
    },
    add(path, delta, value): void {
      if (local.add) local.add(path, delta, value);
      else local.set(path, value);
      const stored = local.get(path) ?? value;
      mirror.touched(rootOf(path));
      queue(
        Number.isFinite(delta)
          ? { op: "add", path: [...path], delta, value: stored }
          : { op: "set", path: [...path], value: stored },
      );
    },
    delete(path): void {
      local.delete(path);
      mirror.touched(rootOf(path));
      queue({ op: "delete", path: [...path] });
    },
    addPending(action: PendingAction): void {
      local.addPending(action);
      queue({ op: "pend", action: structuredClone(action) });
    },
    removePending(id): void {
      local.removePending(id);
      queue({ op: "unpend", id });
    },
    async flush(): Promise<void> {
      if (!stopped) outbox.persist();
      await local.flush();
    },
    async start(): Promise<void> {
      if (started || closing) return;
      local.pending(); // throws STORE_CLOSED on a closed local store
      started = true;
      const s = link.duplicate("state-changes");
      sub = s;
      s.on("message", (channel: string, text: string) =>
        mirror.onMessage(channel, text),
      );
      let readies = 0;
      // A subscriber that reconnects missed messages: reload everything.
      s.on("ready", () => {
        if (readies++ > 0 && !closing) void resync();
      });
      const subscribed = s.subscribe(keys.channel).then(
        () => true,
        () => false,
      );
      if (!link.up) return;
      await Promise.race([subscribed, delay(2000, timers)]);
      await resync();
    },
    counters(): ClusterStoreCounters {
      return { ...counters, outbox: outbox.size };
    },
    close(): Promise<void> {
      closing ??= (async () => {
        sub?.disconnect();
        for (const t of timers) clearTimeout(t);
        timers.clear();
        sender.cancelRetry();
        const deadline = Date.now() + 1000;
        while (outbox.size > 0 && link.up && Date.now() < deadline) {
          sender.kick();
          const { draining } = sender;
          if (!draining) break;
          await Promise.race([draining, delay(deadline - Date.now(), timers)]);
        }
        stopped = true;
        for (const t of timers) clearTimeout(t);
        try {
          outbox.persist();
        } finally {
          outbox.detach();
          await local.close();
        }
      })();
      return closing;
    },
  };
  return store;
}

function delay(
  ms: number,
  timers: Set<ReturnType<typeof setTimeout>>,
): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(
      () => {
        timers.delete(t);
        resolve();
      },
      Math.max(0, ms),
    );
    timers.add(t);
  });
}
