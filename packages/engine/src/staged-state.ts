/**
 * State changes of one action, staged so that an action is all-or-nothing: statements run
 * against an overlay and are committed only when the whole action was accepted (spec: daemon.md
 * §6). Reads see earlier statements of the same action.
 */
import type { StateStatement } from "./ast.ts";
import type { EvalContext } from "./eval-condition.ts";
import { evaluate } from "./eval-condition.ts";
import type { StateValue } from "./state-data.ts";
import type { Bindings } from "./substitute.ts";
import { resolveStateKeys } from "./substitute.ts";
import type { Scalar } from "./values.ts";
import { increment, toNumber } from "./values.ts";

/**
 * One staged change. `add` is an increment (`++ -- += -=`): `delta` is what it adds and `value`
 * the result the engine computed from the value it read (what a store without `add` sets).
 */
export type StateOp =
  | { kind: "set"; path: string[]; value: StateValue }
  | { kind: "add"; path: string[]; delta: number; value: StateValue }
  | { kind: "delete"; path: string[] };

/** An overlay of changes over a base reader. */
export interface StagedState {
  readonly ops: StateOp[];
  read(path: readonly string[]): Scalar;
}

function isPrefix(prefix: readonly string[], path: readonly string[]): boolean {
  return prefix.length <= path.length && prefix.every((k, i) => k === path[i]);
}

/** Creates an empty overlay over `base`. */
export function createStagedState(
  base: (path: readonly string[]) => Scalar,
): StagedState {
  const ops: StateOp[] = [];
  return {
    ops,
    read(path) {
      for (let i = ops.length - 1; i >= 0; i--) {
        const op = ops[i];
        if (op == null) continue;
        if (
          op.kind !== "delete" &&
          op.path.length === path.length &&
          isPrefix(op.path, path)
        ) {
          return op.value;
        }
        if (op.kind === "delete" && isPrefix(op.path, path)) return undefined;
      }
      return base(path);
    },
  };
}

/**
 * A place staged changes are committed to (a store, or another overlay's op list). `add` is
 * optional: a sink that shares its state with others (the cluster store) applies the `delta`
 * atomically there; `value` is the result computed locally.
 */
export interface StateSink {
  set(path: readonly string[], value: StateValue): void;
  add?(path: readonly string[], delta: number, value: StateValue): void;
  delete(path: readonly string[]): void;
}

/** Applies `ops` to `sink` in order; an `add` is `sink.add` when it has one, else `sink.set`. */
export function commitState(ops: readonly StateOp[], sink: StateSink): void {
  for (const op of ops) {
    if (op.kind === "set") sink.set(op.path, op.value);
    else if (op.kind === "add") {
      if (sink.add) sink.add(op.path, op.delta, op.value);
      else sink.set(op.path, op.value);
    } else sink.delete(op.path);
  }
}

function toStateValue(v: Scalar): StateValue | undefined {
  return v === undefined ? undefined : v;
}

/**
 * Runs `statements` against `staged` (Perl semantics: `++` on undef is 1, `--`/`+=`/`-=` are
 * numeric, `=` keeps strings as strings; assigning undef deletes). An increment with a finite
 * delta stages an `add` op (its locally computed result in `value`), so a shared store can apply
 * it atomically. Throws only `RefusalSignal`.
 */
export function applyStatements(
  statements: readonly StateStatement[],
  bindings: Bindings,
  staged: StagedState,
): void {
  const ctx: EvalContext = { ...bindings, readState: (p) => staged.read(p) };
  for (const s of statements) {
    const path = resolveStateKeys(s.keys, bindings);
    const current = s.op === "delete" ? undefined : staged.read(path);
    let next: StateValue | undefined;
    // The number an increment adds (undefined for `=` and `delete`).
    let delta: number | undefined;
    switch (s.op) {
      case "delete":
        next = undefined;
        break;
      case "++":
        next = toStateValue(increment(current));
        delta = 1;
        break;
      case "--":
        next = toNumber(current) - 1;
        delta = -1;
        break;
      case "=":
        next = toStateValue(evaluate(s.value, ctx));
        break;
      case "+=":
        delta = toNumber(evaluate(s.value, ctx));
        next = toNumber(current) + delta;
        break;
      case "-=":
        delta = -toNumber(evaluate(s.value, ctx));
        next = toNumber(current) + delta;
        break;
    }
    if (next === undefined) staged.ops.push({ kind: "delete", path });
    else if (delta !== undefined && Number.isFinite(delta)) {
      staged.ops.push({ kind: "add", path, delta, value: next });
    } else staged.ops.push({ kind: "set", path, value: next });
  }
}
