/**
 * The cluster state store (issue #19): the engine's `StateStore` over the gateway's own store
 * (`local`: the statefile's file store in knockd), shared with the other gateways through Redis.
 * Reads are served from `local`, the mirror (synchronously: a decision never waits on Redis).
 * Every change is applied to `local` at once and queued in the outbox, which one sender drains to
 * Redis, one op at a time, each in one Lua script (increments as atomic deltas). Each script
 * publishes `{from, root}` on `P:state-changes`; the other gateways reload that root into their
 * mirror. Pending delayed actions go to `P:pending:<name>`. When Redis is unreachable everything
 * keeps working on `local` and the outbox waits (persisted in `local`'s extras); when it is back,
 * the outbox is merged back and the whole state reloaded.
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
import type { NewOp, OutboxOp } from "./outbox.ts";
import { OUTBOX_EXTRA, isPendingAction, openOutbox } from "./outbox.ts";
import {
  STATE_SCRIPTS,
  decodeEntry,
  deleteFieldsOf,
  encodeValue,
  fieldOf,
  pairsOf,
  runScript,
} from "./state-scripts.ts";

/** Options of `createClusterStore`. */
export interface ClusterStoreOptions {
  /** The shared Redis connection. */
  link: ClusterLink;
  /** This gateway's own store: the mirror reads are served from, and the fallback. */
  local: StateStore;
  logger?: Logger;
  /** Most changes kept for Redis while it is unreachable; then the oldest is dropped. Default 10,000. */
  maxOutbox?: number;
}

/** Counters of a cluster store (knockd's `/metrics`). */
export interface ClusterStoreCounters {
  /** Ops Redis has applied (or already had). */
  sent: number;
  /** Changes queued for Redis (adjacent increments of one path may share an op). */
  queued: number;
  /** Ops waiting for Redis now. */
  outbox: number;
  /** Ops given up: dropped from a full outbox, or refused by Redis three times. */
  dropped: number;
  /** Roots reloaded into the mirror after another gateway changed them. */
  reloads: number;
  /** Reloads of the whole state (at start and after each outage). */
  fullReloads: number;
  /** Entries and messages from Redis (or the persisted outbox) that were not valid: skipped. */
  rejected: number;
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
  const channel = link.key("state-changes");
  const appliedKey = link.key("applied", link.name);
  const pendingKey = link.key("pending", link.name);
  const statePrefix = `${link.key("state")}:`;
  const counters: Omit<ClusterStoreCounters, "outbox"> = {
    sent: 0,
    queued: 0,
    dropped: 0,
    reloads: 0,
    fullReloads: 0,
    rejected: 0,
  };
  const lastWarn = new Map<ClusterCode, number>();
  const warn = (code: ClusterCode, fields: object, message: string): void => {
    const now = Date.now();
    if (now - (lastWarn.get(code) ?? -Infinity) < WARN_EVERY_MS) return;
    lastWarn.set(code, now);
    logger.warn({ event: "cluster.state", code, ...fields }, message);
  };
  const reject = (
    code: "CLUSTER_BAD_ENTRY" | "CLUSTER_BAD_MESSAGE",
    n: number,
    source: string,
    why: string,
  ): void => {
    counters.rejected += n;
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
  // Roots changed locally while a reload is in flight: its (older) answer must not win.
  const watchers = new Set<Set<string>>();
  let started = false;
  let closing: Promise<void> | undefined;
  // Set once close() gave up on Redis: nothing touches `local` any more.
  let stopped = false;
  let sub: Redis | undefined;
  let fullWarned = false;
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const later = (ms: number, fn: () => void): void => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  };

  const touched = (root: string): void => {
    for (const w of watchers) w.add(root);
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
    kick();
  };

  /** Replaces the mirror's `root` with Redis's entries (never queued: they come from Redis). */
  const replaceRoot = (root: string, pairs: Array<[string, string]>): void => {
    if (stopped) return;
    const entries: Array<[string[], StateValue]> = [];
    let bad = 0;
    for (const [field, value] of pairs) {
      const d = decodeEntry(root, field, value);
      if (d.ok) entries.push([d.path, d.value]);
      else bad++;
    }
    try {
      local.delete([root]);
    } catch {
      reject(
        "CLUSTER_BAD_ENTRY",
        pairs.length || 1,
        statePrefix + root,
        "bad root",
      );
      return;
    }
    for (const [path, value] of entries) {
      try {
        local.set(path, value);
      } catch {
        bad++;
      }
    }
    if (bad > 0) {
      reject(
        "CLUSTER_BAD_ENTRY",
        bad,
        statePrefix + root,
        "bad field or value",
      );
    }
  };

  // ---- the sender ----
  let draining: Promise<void> | undefined;
  let retryPending = false;
  let backoffMs = 50;
  const send = (redis: Redis, op: OutboxOp): Promise<unknown> => {
    switch (op.op) {
      case "pend":
        return redis.hset(pendingKey, op.action.id, JSON.stringify(op.action));
      case "unpend":
        return redis.hdel(pendingKey, op.id);
      default: {
        const root = op.path[0] ?? "";
        const keys = [statePrefix + root, appliedKey];
        const head = [
          op.seq,
          channel,
          JSON.stringify({ from: link.name, root }),
        ];
        if (op.op === "set") {
          return runScript(redis, STATE_SCRIPTS.set, keys, [
            ...head,
            fieldOf(op.path),
            encodeValue(op.value),
          ]);
        }
        if (op.op === "add") {
          return runScript(redis, STATE_SCRIPTS.add, keys, [
            ...head,
            fieldOf(op.path),
            String(op.delta),
            encodeValue(op.value),
          ]);
        }
        return runScript(redis, STATE_SCRIPTS.delete, keys, [
          ...head,
          ...deleteFieldsOf(op.path),
        ]);
      }
    }
  };
  const drain = async (): Promise<void> => {
    let errors = 0;
    while (!stopped && link.up) {
      const op = outbox.head();
      if (op === undefined) {
        fullWarned = false;
        return;
      }
      outbox.markTried(op);
      const r = await link.run(`state ${op.op}`, (redis) => send(redis, op));
      if (stopped) return;
      if (r.ok) {
        outbox.remove(op);
        counters.sent++;
        errors = 0;
        backoffMs = 50;
        // Our own change with everything before it: the mirror of its root, unless more of
        // ours are on the way (their answers will bring it).
        if (op.op === "set" || op.op === "add" || op.op === "delete") {
          const root = op.path[0] ?? "";
          if (!outbox.touches(root)) replaceRoot(root, pairsOf(r.value));
        }
        continue;
      }
      if (r.reason === "error" && ++errors >= 3) {
        outbox.remove(op);
        counters.dropped++;
        warn(
          "CLUSTER_OP_DROPPED",
          { op: op.op },
          `Redis refused a state change three times (${r.message}): dropped`,
        );
        errors = 0;
        continue;
      }
      // A timeout may have run: the op's seq makes sending it again harmless.
      if (link.up) {
        retryPending = true;
        later(backoffMs, () => {
          retryPending = false;
          kick();
        });
        backoffMs = Math.min(backoffMs * 2, 2000);
      }
      return;
    }
  };
  function kick(): void {
    if (draining || retryPending || stopped || !link.up || outbox.size === 0) {
      return;
    }
    draining = drain().finally(() => {
      draining = undefined;
    });
  }
  /** Drains as far as Redis lets it now. */
  const drainNow = async (): Promise<void> => {
    for (;;) {
      kick();
      if (!draining) return;
      await draining;
    }
  };

  // ---- reloading ----
  const hgetallAll = async (
    roots: readonly string[],
  ): Promise<Array<Array<[string, string]> | undefined> | undefined> => {
    const r = await link.run("state reload", (redis) => {
      const p = redis.pipeline();
      for (const root of roots) p.hgetall(statePrefix + root);
      return p.exec();
    });
    if (!r.ok || r.value === null) return undefined;
    return r.value.map(([error, value]) =>
      error === null && value !== null && typeof value === "object"
        ? Object.entries(value as Record<string, string>)
        : undefined,
    );
  };
  /** Reloads `roots` into the mirror; false when Redis did not answer. */
  const loadRoots = async (roots: readonly string[]): Promise<boolean> => {
    const watch = new Set<string>();
    watchers.add(watch);
    try {
      const all = await hgetallAll(roots);
      if (all === undefined || stopped) return false;
      roots.forEach((root, i) => {
        const pairs = all[i];
        if (pairs === undefined) {
          reject("CLUSTER_BAD_ENTRY", 1, statePrefix + root, "not a hash");
        } else if (!outbox.touches(root) && !watch.has(root)) {
          replaceRoot(root, pairs);
          counters.reloads++;
        }
      });
      return true;
    } finally {
      watchers.delete(watch);
    }
  };
  const changedRoots = new Set<string>();
  let reloading = false;
  const reloadChanged = async (): Promise<void> => {
    if (reloading) return;
    reloading = true;
    try {
      while (changedRoots.size > 0 && !stopped && link.up) {
        const roots = [...changedRoots];
        changedRoots.clear();
        if (!(await loadRoots(roots))) {
          for (const root of roots) changedRoots.add(root);
          // Down: the full reload when it is back covers them; a timeout: try again soon.
          if (link.up) later(100, () => void reloadChanged());
          return;
        }
      }
    } finally {
      reloading = false;
    }
  };
  const onMessage = (_channel: string, text: string): void => {
    let m: unknown;
    try {
      m = JSON.parse(text);
    } catch {
      m = undefined;
    }
    const { from, root } = (m ?? {}) as { from?: unknown; root?: unknown };
    if (typeof from !== "string" || typeof root !== "string") {
      reject("CLUSTER_BAD_MESSAGE", 1, channel, "not {from, root}");
      return;
    }
    if (from === link.name || stopped) return;
    changedRoots.add(root);
    void reloadChanged();
  };

  /** Loads every root in Redis into the mirror; deletes local roots Redis does not have. */
  const loadAll = async (): Promise<boolean> => {
    const watch = new Set<string>();
    watchers.add(watch);
    try {
      const found = new Map<string, Array<[string, string]>>();
      let cursor = "0";
      do {
        const scan = await link.run("state scan", (redis) =>
          redis.scan(cursor, "MATCH", `${statePrefix}*`, "COUNT", 500),
        );
        if (!scan.ok || stopped) return false;
        cursor = scan.value[0];
        const roots = scan.value[1].map((k) => k.slice(statePrefix.length));
        if (roots.length === 0) continue;
        const all = await hgetallAll(roots);
        if (all === undefined || stopped) return false;
        roots.forEach((root, i) => {
          const pairs = all[i];
          if (pairs === undefined) {
            reject("CLUSTER_BAD_ENTRY", 1, statePrefix + root, "not a hash");
          } else found.set(root, pairs);
        });
      } while (cursor !== "0");
      const keep = (root: string): boolean =>
        !outbox.touches(root) && !watch.has(root);
      for (const [root, pairs] of found)
        if (keep(root)) replaceRoot(root, pairs);
      const localRoots = new Set(local.entries().map(([p]) => p[0] ?? ""));
      for (const root of localRoots) {
        if (!found.has(root) && keep(root)) local.delete([root]);
      }
      counters.fullReloads++;
      return true;
    } finally {
      watchers.delete(watch);
    }
  };

  /** Merges Redis's pending actions of this gateway into `local`, and local-only ones into Redis. */
  const loadPending = async (): Promise<boolean> => {
    const r = await link.run("pending load", (redis) =>
      redis.hgetall(pendingKey),
    );
    if (!r.ok || stopped) return false;
    const mine = new Map(local.pending().map((p) => [p.id, p]));
    const theirs = new Set<string>();
    let bad = 0;
    for (const [id, json] of Object.entries(r.value)) {
      let action: unknown;
      try {
        action = JSON.parse(json);
      } catch {
        action = undefined;
      }
      if (!isPendingAction(action) || action.id !== id) {
        bad++;
        continue;
      }
      theirs.add(id);
      if (!mine.has(id) && !outbox.unpends(id)) local.addPending(action);
    }
    if (bad > 0)
      reject("CLUSTER_BAD_ENTRY", bad, pendingKey, "not a pending action");
    for (const [id, action] of mine) {
      if (!theirs.has(id)) queue({ op: "pend", action });
    }
    return true;
  };

  let syncing: Promise<void> | undefined;
  let again = false;
  const syncOnce = async (): Promise<void> => {
    if (stopped || !link.up) return;
    // Sequence numbers stay above what Redis applied (a clock set back, a new local store).
    const applied = await link.run("state applied", (redis) =>
      redis.get(appliedKey),
    );
    if (applied.ok && applied.value !== null && /^\d+$/.test(applied.value)) {
      outbox.floor(Number(applied.value));
    }
    await drainNow();
    if (!started) return;
    const ok = (await loadPending()) && (await loadAll());
    if (!ok && link.up && !stopped) later(500, () => void resync());
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
    else kick();
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
      touched(rootOf(path));
      queue({ op: "set", path: [...path], value: stored });
    },
    add(path, delta, value): void {
      if (local.add) local.add(path, delta, value);
      else local.set(path, value);
      const stored = local.get(path) ?? value;
      touched(rootOf(path));
      queue(
        Number.isFinite(delta)
          ? { op: "add", path: [...path], delta, value: stored }
          : { op: "set", path: [...path], value: stored },
      );
    },
    delete(path): void {
      local.delete(path);
      touched(rootOf(path));
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
      s.on("message", onMessage);
      let readies = 0;
      // A subscriber that reconnects missed messages: reload everything.
      s.on("ready", () => {
        if (readies++ > 0 && !closing) void resync();
      });
      const subscribed = s.subscribe(channel).then(
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
        retryPending = false;
        const deadline = Date.now() + 1000;
        while (outbox.size > 0 && link.up && Date.now() < deadline) {
          kick();
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
