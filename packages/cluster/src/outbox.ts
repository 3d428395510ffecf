/**
 * The cluster store's outbox (issue #19): the changes applied locally and not yet in Redis, in
 * order, persisted in the local store's extras under `cluster.outbox` (so a crash or a restart
 * during an outage still merges them back), bounded (the oldest is dropped, counted). Adjacent
 * increments of one path are merged until the sender first tries them.
 */
import type {
  JsonValue,
  PendingAction,
  StateStore,
  StateValue,
} from "@portknock/engine";

/** One change waiting for Redis; `seq` orders a gateway's ops (see `P:applied:<name>`). */
export type OutboxOp =
  | { op: "set"; seq: number; path: string[]; value: StateValue }
  | { op: "add"; seq: number; path: string[]; delta: number; value: StateValue }
  | { op: "delete"; seq: number; path: string[] }
  | { op: "pend"; seq: number; action: PendingAction }
  | { op: "unpend"; seq: number; id: string };

/** Outboxes up to this long are persisted with each change; longer ones every 100 ms. */
const PERSIST_AT_ONCE = 1000;

/** The extras namespace of the persisted outbox. */
export const OUTBOX_EXTRA = "cluster.outbox";

/** A change as the store queues it (the outbox gives it its `seq`). */
export type NewOp = OutboxOp extends infer O
  ? O extends OutboxOp
    ? Omit<O, "seq">
    : never
  : never;

/** The outbox. */
export interface Outbox {
  readonly size: number;
  /** The oldest op, or undefined. */
  head(): OutboxOp | undefined;
  /** The oldest `n` ops at most, oldest first (the sender's next pipeline). */
  first(n: number): OutboxOp[];
  /** Queues `op`; returns the op dropped to make room, if any. */
  push(op: NewOp): OutboxOp | undefined;
  /** Marks `op` as sent at least once (never merged into afterwards). */
  markTried(op: OutboxOp): void;
  /** Removes `op` (after Redis has it, or to give up on it). */
  remove(op: OutboxOp): void;
  /** Whether an op for the state root `root` is queued. */
  touches(root: string): boolean;
  /** Whether a removal of pending action `id` is queued. */
  unpends(id: string): boolean;
  /** Raises the next seq above `seq` (Redis's last applied one). */
  floor(seq: number): void;
  /** Writes the outbox to the local store's extras now, if it changed. */
  persist(): void;
  /** Stops persisting (the local store is closing). */
  detach(): void;
}

/** Reads the persisted outbox of `local` (invalid entries are counted in `bad`). */
function load(local: StateStore): { ops: OutboxOp[]; bad: number } {
  const saved = local.getExtra(OUTBOX_EXTRA);
  if (saved === undefined) return { ops: [], bad: 0 };
  if (
    saved === null ||
    typeof saved !== "object" ||
    Array.isArray(saved) ||
    !Array.isArray(saved.ops)
  ) {
    return { ops: [], bad: 1 };
  }
  const ops: OutboxOp[] = [];
  for (const e of saved.ops as unknown[]) if (isOutboxOp(e)) ops.push(e);
  return { ops, bad: saved.ops.length - ops.length };
}

function isPath(p: unknown): p is string[] {
  return (
    Array.isArray(p) && p.length > 0 && p.every((k) => typeof k === "string")
  );
}

function isValue(v: unknown): v is StateValue {
  return typeof v === "string" || (typeof v === "number" && isFinite(v));
}

/** Whether `e` is a well-formed outbox op (as this version writes them). */
export function isOutboxOp(e: unknown): e is OutboxOp {
  if (e === null || typeof e !== "object" || Array.isArray(e)) return false;
  const o = e as Record<string, unknown>;
  if (typeof o.seq !== "number" || !Number.isSafeInteger(o.seq)) return false;
  switch (o.op) {
    case "set":
      return isPath(o.path) && isValue(o.value);
    case "add":
      return (
        isPath(o.path) &&
        isValue(o.value) &&
        typeof o.delta === "number" &&
        isFinite(o.delta)
      );
    case "delete":
      return isPath(o.path);
    case "pend":
      return isPendingAction(o.action);
    case "unpend":
      return typeof o.id === "string";
    default:
      return false;
  }
}

/** Whether `a` has the shape of a `PendingAction`. */
export function isPendingAction(a: unknown): a is PendingAction {
  if (a === null || typeof a !== "object" || Array.isArray(a)) return false;
  const p = a as Record<string, unknown>;
  return (
    typeof p.id === "string" &&
    p.id.length > 0 &&
    typeof p.action === "string" &&
    typeof p.createdMs === "number" &&
    typeof p.dueMs === "number" &&
    Array.isArray(p.commands) &&
    p.commands.every(
      (c) =>
        Array.isArray(c) &&
        c.length > 0 &&
        c.every((w) => typeof w === "string"),
    ) &&
    (p.startedMs === undefined || typeof p.startedMs === "number")
  );
}

/**
 * Opens the outbox persisted in `local` (at most `max` ops). `onBad(n)` is told how many
 * persisted entries were not valid (dropped).
 */
export function openOutbox(
  local: StateStore,
  max: number,
  clockMs: () => number,
  onBad: (n: number) => void,
): Outbox {
  const { ops, bad } = load(local);
  if (bad > 0) onBad(bad);
  const tried = new WeakSet<OutboxOp>(ops);
  const roots = new Map<string, number>();
  const rootOf = (op: OutboxOp): string | undefined =>
    op.op === "set" || op.op === "add" || op.op === "delete"
      ? op.path[0]
      : undefined;
  const count = (op: OutboxOp, by: number): void => {
    const root = rootOf(op);
    if (root === undefined) return;
    const n = (roots.get(root) ?? 0) + by;
    if (n <= 0) roots.delete(root);
    else roots.set(root, n);
  };
  for (const op of ops) count(op, 1);
  // Sequence numbers grow across restarts: microseconds of the wall clock, or one more.
  let next = Math.max(clockMs() * 1000, ...ops.map((o) => o.seq + 1));
  let dirty = false;
  let scheduled = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let detached = false;

  const persist = (): void => {
    scheduled = false;
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    if (!dirty || detached) return;
    local.setExtra(
      OUTBOX_EXTRA,
      ops.length === 0 ? undefined : { version: 1, ops: ops as JsonValue[] },
    );
    dirty = false;
  };
  const persistLater = (): void => {
    try {
      persist();
    } catch {
      // The local store was closed under us; close() or the next change tries again.
    }
  };
  const changed = (): void => {
    dirty = true;
    if (scheduled) return;
    scheduled = true;
    // A small outbox goes into the same statefile write as the change (the file store writes
    // in a later timer); a long one (Redis away) is copied at most every 100 ms, not per change.
    if (ops.length <= PERSIST_AT_ONCE) queueMicrotask(persistLater);
    else timer = setTimeout(persistLater, 100);
  };

  return {
    get size(): number {
      return ops.length;
    },
    head: () => ops[0],
    push(op: NewOp): OutboxOp | undefined {
      const last = ops[ops.length - 1];
      if (
        op.op === "add" &&
        last?.op === "add" &&
        !tried.has(last) &&
        last.path.length === op.path.length &&
        last.path.every((k, i) => k === op.path[i])
      ) {
        last.delta += op.delta;
        last.value = op.value;
        changed();
        return undefined;
      }
      const full: OutboxOp = { ...op, seq: next++ };
      let dropped: OutboxOp | undefined;
      if (ops.length >= max) {
        // The oldest not being sent right now.
        const i =
          ops[0] !== undefined && tried.has(ops[0]) && ops.length > 1 ? 1 : 0;
        dropped = ops.splice(i, 1)[0];
        if (dropped) count(dropped, -1);
      }
      ops.push(full);
      count(full, 1);
      changed();
      return dropped;
    },
    first: (n) => ops.slice(0, n),
    markTried(op): void {
      tried.add(op);
    },
    remove(op): void {
      const i = ops[0] === op ? 0 : ops.indexOf(op);
      if (i < 0) return;
      ops.splice(i, 1);
      count(op, -1);
      changed();
    },
    touches: (root) => roots.has(root),
    unpends: (id) => ops.some((o) => o.op === "unpend" && o.id === id),
    floor(seq): void {
      if (seq + 1 > next) next = seq + 1;
    },
    persist,
    detach(): void {
      detached = true;
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
    },
  };
}
