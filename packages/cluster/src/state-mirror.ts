/**
 * The cluster store's mirror (issue #19): Redis's state loaded into the local store. A change
 * message of another gateway reloads its root; `loadAll` reloads everything (at start, after an
 * outage); `loadPending` merges this gateway's pending actions both ways. What Redis holds is
 * checked entry by entry (bad ones are counted and skipped). A reload leaves alone a root this
 * gateway still has ops queued for (the sender's answer for its own op brings that root), and a
 * root changed or refreshed while it was in flight (its answer would be older).
 */
import type { StateValue } from "@portknock/engine";
import type { NewOp } from "./outbox.ts";
import { isPendingAction } from "./outbox.ts";
import { openPending } from "./pending-seal.ts";
import type { StoreContext } from "./state-context.ts";
import { decodeEntry } from "./state-scripts.ts";

/** The mirror. */
export interface Mirror {
  /** Replaces `root` in the local store with Redis's entries (never queued again). */
  replaceRoot(root: string, pairs: Array<[string, string]>): void;
  /** Tells reloads in flight that this gateway changed `root`. */
  touched(root: string): void;
  /** A message on `P:state-changes`. */
  onMessage(channel: string, text: string): void;
  /**
   * Loads every root in Redis; deletes local roots Redis does not have, or, on a Redis that was
   * never seeded (`P:state-seeded`), queues them for it. False: Redis failed.
   */
  loadAll(): Promise<boolean>;
  /** Merges the pending actions both ways. False: Redis failed. */
  loadPending(): Promise<boolean>;
}

/** Creates the mirror; `queue` queues an op for Redis (local-only pending actions). */
export function createMirror(
  ctx: StoreContext,
  queue: (op: NewOp) => void,
): Mirror {
  const { link, local, outbox, keys, counters } = ctx;
  // Roots changed locally while a reload is in flight: its (older) answer must not win.
  const watchers = new Set<Set<string>>();

  /** Replaces the mirror's `root` with Redis's entries (never queued: they come from Redis). */
  const replaceRoot = (root: string, pairs: Array<[string, string]>): void => {
    if (ctx.stopped()) return;
    const entries: Array<[string[], StateValue]> = [];
    let bad = 0;
    for (const [field, value] of pairs) {
      const d = decodeEntry(root, field, value);
      if (d.ok) entries.push([d.path, d.value]);
      else bad++;
    }
    // A reload in flight (started before this answer) must not put an older copy back.
    for (const w of watchers) w.add(root);
    // Redis's field order is its own: keep the mirror's order stable, by path.
    entries.sort(([a], [b]) => comparePaths(a, b));
    try {
      local.delete([root]);
    } catch {
      ctx.reject(
        "CLUSTER_BAD_ENTRY",
        pairs.length || 1,
        keys.statePrefix + root,
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
      ctx.reject(
        "CLUSTER_BAD_ENTRY",
        bad,
        keys.statePrefix + root,
        "bad field or value",
      );
    }
  };

  const hgetallAll = async (
    roots: readonly string[],
  ): Promise<Array<Array<[string, string]> | undefined> | undefined> => {
    const r = await link.run("state reload", (redis) => {
      const p = redis.pipeline();
      for (const root of roots) p.hgetall(keys.statePrefix + root);
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
      if (all === undefined || ctx.stopped()) return false;
      roots.forEach((root, i) => {
        const pairs = all[i];
        if (pairs === undefined) {
          ctx.reject(
            "CLUSTER_BAD_ENTRY",
            1,
            keys.statePrefix + root,
            "not a hash",
          );
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
      while (changedRoots.size > 0 && !ctx.stopped() && link.up) {
        const roots = [...changedRoots];
        changedRoots.clear();
        if (!(await loadRoots(roots))) {
          for (const root of roots) changedRoots.add(root);
          // Down: the full reload when it is back covers them; a timeout: try again soon.
          if (link.up) ctx.later(100, () => void reloadChanged());
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
      ctx.reject("CLUSTER_BAD_MESSAGE", 1, keys.channel, "not {from, root}");
      return;
    }
    if (from === link.name || ctx.stopped()) return;
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
          redis.scan(cursor, "MATCH", `${keys.statePrefix}*`, "COUNT", 500),
        );
        if (!scan.ok || ctx.stopped()) return false;
        cursor = scan.value[0];
        const roots = scan.value[1].map((k) =>
          k.slice(keys.statePrefix.length),
        );
        if (roots.length === 0) continue;
        const all = await hgetallAll(roots);
        if (all === undefined || ctx.stopped()) return false;
        roots.forEach((root, i) => {
          const pairs = all[i];
          if (pairs === undefined) {
            ctx.reject(
              "CLUSTER_BAD_ENTRY",
              1,
              keys.statePrefix + root,
              "not a hash",
            );
          } else found.set(root, pairs);
        });
      } while (cursor !== "0");
      const keep = (root: string): boolean =>
        !outbox.touches(root) && !watch.has(root);
      for (const [root, pairs] of found)
        if (keep(root)) replaceRoot(root, pairs);
      // The first gateway on a Redis that never held this cluster's state (a new cluster, or a
      // Redis that lost its data) seeds it with its own; after that Redis is the reference.
      const seed = await link.run("state seed", (redis) =>
        redis.set(keys.seeded, link.name, "NX"),
      );
      if (!seed.ok || ctx.stopped()) return false;
      const seeding = seed.value === "OK";
      const absent = local
        .entries()
        .filter(([path]) => !found.has(path[0] ?? "") && keep(path[0] ?? ""));
      for (const [path, value] of absent) {
        if (seeding) queue({ op: "set", path, value });
        else local.delete(path.slice(0, 1));
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
      redis.hgetall(keys.pending),
    );
    if (!r.ok || ctx.stopped()) return false;
    const mine = new Map(local.pending().map((p) => [p.id, p]));
    const theirs = new Set<string>();
    let bad = 0;
    let forged = 0;
    for (const [id, value] of Object.entries(r.value)) {
      const opened = openPending(ctx.pendingKey, link.name, id, value);
      if (opened === "forged") {
        forged++;
        continue;
      }
      if (opened === "none") {
        theirs.add(id); // in Redis, not loaded: this gateway's own come from its statefile
        continue;
      }
      let action: unknown;
      try {
        action = JSON.parse(opened.json);
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
    if (forged > 0) {
      ctx.reject(
        "CLUSTER_PENDING_FORGED",
        forged,
        keys.pending,
        "a pending action whose seal does not verify (written by something that does not hold the cluster's knock key): not loaded, never run",
      );
    }
    if (bad > 0)
      ctx.reject(
        "CLUSTER_BAD_ENTRY",
        bad,
        keys.pending,
        "not a pending action",
      );
    for (const [id, action] of mine) {
      if (!theirs.has(id)) queue({ op: "pend", action });
    }
    return true;
  };

  return {
    replaceRoot,
    touched(root: string): void {
      for (const w of watchers) w.add(root);
    },
    onMessage,
    loadAll,
    loadPending,
  };
}

function comparePaths(a: readonly string[], b: readonly string[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i] ?? "";
    const y = b[i] ?? "";
    if (x !== y) return x < y ? -1 : 1;
  }
  return a.length - b.length;
}
