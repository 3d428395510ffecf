/**
 * The `StateStore` interface (spec: daemon.md §6–7; STYLE.md §6) and its memory implementation.
 * A store holds the nested state map, the pending delayed actions, and namespaced `extras` that
 * other components (e.g. the daemon's replay cache) may persist alongside.
 */
import type {
  JsonValue,
  PendingAction,
  StateData,
  StateValue,
} from "./state-data.ts";
import {
  assertPath,
  createStateData,
  deleteValue,
  getValue,
  listEntries,
  setValue,
} from "./state-data.ts";
import { StoreError } from "./errors.ts";

export type { JsonValue, PendingAction, StateValue } from "./state-data.ts";

/**
 * Where state and pending delayed actions live. Mutations apply at once in memory; a persistent
 * store writes them out in the background (`flush()` waits until everything so far is durable).
 * Paths are checked with `checkStatePath`: an unsafe path throws `StoreError` `STATE_KEY_INVALID`.
 * Every method throws `StoreError` `STORE_CLOSED` after `close()`, except `close()` itself.
 */
export interface StateStore {
  /** The value at `path`, or undefined. */
  get(path: readonly string[]): StateValue | undefined;
  /** Sets the value at `path`; a path may hold a value and deeper keys at once. */
  set(path: readonly string[], value: StateValue): void;
  /**
   * Optional. An increment (`++ -- += -=`): adds `delta` to the value at `path`, where `value`
   * is the result the engine computed from the value it read. A store shared by several
   * gateways (`@portknock/cluster`) applies `delta` atomically, so concurrent increments all
   * count; without `add` the engine calls `set(path, value)` (the memory and file stores).
   */
  add?(path: readonly string[], delta: number, value: StateValue): void;
  /** Deletes the value at `path` and everything below it. */
  delete(path: readonly string[]): void;
  /** Every value with its path. */
  entries(): Array<[string[], StateValue]>;
  /** The pending delayed actions, by due time. */
  pending(): PendingAction[];
  /** Adds (or replaces, by id) a pending delayed action. */
  addPending(action: PendingAction): void;
  /** Removes a pending delayed action; unknown ids are ignored. */
  removePending(id: string): void;
  /** The JSON value stored under `namespace` by another component, or undefined. */
  getExtra(namespace: string): JsonValue | undefined;
  /** Stores (or with undefined, removes) a JSON value under `namespace`. */
  setExtra(namespace: string, value: JsonValue | undefined): void;
  /** Resolves when every change made so far is durable (no-op for memory). */
  flush(): Promise<void>;
  /** Flushes and releases the store. Idempotent. */
  close(): Promise<void>;
}

/** Hooks a persistent store adds to the shared implementation. */
export interface StoreHooks {
  changed(): void;
  flush(): Promise<void>;
  close(): Promise<void>;
}

/** A `StateStore` over `data`, calling `hooks.changed()` after each mutation. */
export function createStoreOver(
  data: StateData,
  hooks: StoreHooks,
): StateStore {
  let closed = false;
  let closing: Promise<void> | undefined;
  const open = (): void => {
    if (closed)
      throw new StoreError("STORE_CLOSED", "the state store is closed");
  };
  const mutate = (): void => hooks.changed();
  return {
    get(path) {
      open();
      assertPath(path);
      return getValue(data, path);
    },
    set(path, value) {
      open();
      assertPath(path);
      if (typeof value !== "number" && typeof value !== "string") {
        throw new TypeError(
          `state value must be a number or a string, got ${typeof value}`,
        );
      }
      setValue(data, path, value);
      mutate();
    },
    delete(path) {
      open();
      assertPath(path);
      deleteValue(data, path);
      mutate();
    },
    entries() {
      open();
      return listEntries(data);
    },
    pending() {
      open();
      return [...data.pending.values()]
        .map((p) => structuredClone(p))
        .sort((a, b) => a.dueMs - b.dueMs);
    },
    addPending(action) {
      open();
      data.pending.set(action.id, structuredClone(action));
      mutate();
    },
    removePending(id) {
      open();
      if (data.pending.delete(id)) mutate();
    },
    getExtra(namespace) {
      open();
      const v = data.extras.get(namespace);
      return v === undefined ? undefined : structuredClone(v);
    },
    setExtra(namespace, value) {
      open();
      if (value === undefined) data.extras.delete(namespace);
      else data.extras.set(namespace, structuredClone(value));
      mutate();
    },
    flush() {
      if (closed) return Promise.resolve();
      return hooks.flush();
    },
    close() {
      closing ??= (async () => {
        closed = true;
        try {
          await hooks.flush();
        } finally {
          await hooks.close();
        }
      })();
      return closing;
    },
  };
}

/** A store that keeps everything in memory (nothing survives the process). */
export function createMemoryStore(): StateStore {
  return createStoreOver(createStateData(), {
    changed(): void {},
    flush: () => Promise.resolve(),
    close: () => Promise.resolve(),
  });
}
