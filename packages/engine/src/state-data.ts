/**
 * The in-memory contents of a state store: the nested state map, the pending delayed actions and
 * the namespaced extras (spec: daemon.md §6–7). Shared by the memory and file stores. Everything
 * is keyed with `Map`, so no key (`__proto__` included) can reach an object prototype.
 */
import { StoreError } from "./errors.ts";
import { checkStatePath } from "./state-key.ts";
import { formatNumber } from "./values.ts";

/** A stored state value. */
export type StateValue = string | number;

/** A JSON value (what `extras` may hold). */
export type JsonValue =
  null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** A delayed action waiting to run, with its commands already substituted (daemon.md §7). */
export interface PendingAction {
  /** Unique id. */
  id: string;
  /** The action it came from, for logs: `file:line` of its `<action>` block. */
  action: string;
  /** When it was scheduled (epoch ms). */
  createdMs: number;
  /** When it is due (epoch ms). */
  dueMs: number;
  /** argv of each command, in order. */
  commands: string[][];
  /**
   * Set (epoch ms) just before its commands are spawned, and made durable first: an entry found
   * with it at start was interrupted by a crash and is not run again (at most once).
   */
  startedMs?: number;
}

interface Node {
  value?: StateValue;
  children?: Map<string, Node>;
}

/** The mutable contents of a store. */
export interface StateData {
  root: Node;
  pending: Map<string, PendingAction>;
  extras: Map<string, JsonValue>;
}

/** Creates empty contents. */
export function createStateData(): StateData {
  return { root: {}, pending: new Map(), extras: new Map() };
}

/** Throws `StoreError` `STATE_KEY_INVALID` unless `path` is sane (see `checkStatePath`). */
export function assertPath(path: readonly string[]): void {
  const problem = checkStatePath(path);
  if (problem != null) throw new StoreError("STATE_KEY_INVALID", problem);
}

function findNode(data: StateData, path: readonly string[]): Node | undefined {
  let node: Node | undefined = data.root;
  for (const key of path) {
    node = node.children?.get(key);
    if (node == null) return undefined;
  }
  return node;
}

/** The value at `path`, or undefined. */
export function getValue(
  data: StateData,
  path: readonly string[],
): StateValue | undefined {
  return findNode(data, path)?.value;
}

/** Sets the value at `path` (non-finite numbers are kept as Perl prints them: `Inf`, `NaN`). */
export function setValue(
  data: StateData,
  path: readonly string[],
  value: StateValue,
): void {
  let node = data.root;
  for (const key of path) {
    node.children ??= new Map();
    let child = node.children.get(key);
    if (child == null) {
      child = {};
      node.children.set(key, child);
    }
    node = child;
  }
  node.value =
    typeof value === "number" && !Number.isFinite(value)
      ? formatNumber(value)
      : value;
}

/** Deletes the value at `path` and every deeper key (Perl's `delete $S->{a}{b}`). */
export function deleteValue(data: StateData, path: readonly string[]): void {
  const parents: Array<[Node, string]> = [];
  let node: Node | undefined = data.root;
  for (const key of path) {
    const child: Node | undefined = node.children?.get(key);
    if (child == null) return;
    parents.push([node, key]);
    node = child;
  }
  // Remove the node, then prune parents left with neither a value nor children.
  for (let i = parents.length - 1; i >= 0; i--) {
    const [parent, key] = parents[i] ?? [data.root, ""];
    const child = parent.children?.get(key);
    if (
      i === parents.length - 1 ||
      (child && child.value === undefined && !child.children?.size)
    ) {
      parent.children?.delete(key);
      if (parent.children?.size === 0) delete parent.children;
    } else {
      break;
    }
  }
}

/** Every stored value with its path, depth first in insertion order. */
export function listEntries(data: StateData): Array<[string[], StateValue]> {
  const out: Array<[string[], StateValue]> = [];
  const walk = (node: Node, path: string[]): void => {
    for (const [key, child] of node.children ?? []) {
      const p = [...path, key];
      if (child.value !== undefined) out.push([p, child.value]);
      walk(child, p);
    }
  };
  walk(data.root, []);
  return out;
}
