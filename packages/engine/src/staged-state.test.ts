import { describe, expect, it } from "vitest";
import { parseStateStatements } from "./parse-state.ts";
import {
  applyStatements,
  commitState,
  createStagedState,
} from "./staged-state.ts";
import { createMemoryStore } from "./state-store.ts";
import type { StateStore } from "./state-store.ts";
import { computeVariables, knownVariables } from "./variables.ts";

const kinds = knownVariables(["IP", "PORT"]);

function apply(store: StateStore, text: string, ip = "10.1.1.1"): void {
  const { statements, diagnostics } = parseStateStatements(text, {
    variables: kinds,
  });
  expect(diagnostics).toEqual([]);
  const staged = createStagedState((p) => store.get(p));
  applyStatements(
    statements!,
    { vars: computeVariables({ IP: ip, PORT: 22 }, 0), kinds },
    staged,
  );
  commitState(staged.ops, store);
}

describe("state statements", () => {
  it("increments undefined to 1, then counts (manual: incr_num_visits)", () => {
    const store = createMemoryStore();
    apply(store, "state(IP,visits,num)++");
    apply(store, "state(IP,visits,num)++");
    apply(store, "state(IP,visits,num)++", "10.2.2.2");
    expect(store.get(["10.1.1.1", "visits", "num"])).toBe(2);
    expect(store.get(["10.2.2.2", "visits", "num"])).toBe(1);
  });

  it("follows Perl for --, =, += and -= and sees earlier statements", () => {
    const store = createMemoryStore();
    apply(
      store,
      'state(a)--; state(b) = "x"; state(c) = PORT; state(c) += 8; state(d) -= "3abc"; state(e) = state(c) * 2',
    );
    expect(store.get(["a"])).toBe(-1);
    expect(store.get(["b"])).toBe("x");
    expect(store.get(["c"])).toBe(30);
    expect(store.get(["d"])).toBe(-3);
    expect(store.get(["e"])).toBe(60);
    apply(store, "state(b)++");
    expect(store.get(["b"])).toBe("y"); // compat: Perl's magic string increment
  });

  it("deletes a key and everything below it", () => {
    const store = createMemoryStore();
    apply(store, "state(IP,a)++; state(IP,b,c)++; state(other)++");
    apply(store, "delete state(IP)");
    expect(store.entries()).toEqual([[["other"], 1]]);
    apply(store, "state(x) = 1; delete state(x); state(x) += 2");
    expect(store.get(["x"])).toBe(2);
  });

  it("keeps __proto__ and constructor harmless", () => {
    const store = createMemoryStore();
    apply(
      store,
      "state(__proto__, polluted) = 1; state(constructor)++; state(toString) = 5",
    );
    expect(store.get(["__proto__", "polluted"])).toBe(1);
    expect(store.get(["constructor"])).toBe(1);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty("polluted");
  });
});

describe("increments as add ops (#19)", () => {
  function stage(
    store: StateStore,
    text: string,
  ): ReturnType<typeof createStagedState> {
    const { statements } = parseStateStatements(text, { variables: kinds });
    const staged = createStagedState((p) => store.get(p));
    applyStatements(
      statements!,
      { vars: computeVariables({ IP: "10.1.1.1", PORT: 22 }, 0), kinds },
      staged,
    );
    return staged;
  }

  it("stages ++ -- += -= as add with the delta and the local result; = and delete as before", () => {
    const store = createMemoryStore();
    store.set(["s"], "aa");
    const staged = stage(
      store,
      'state(a)++; state(a)++; state(b)--; state(c) += PORT; state(d) -= "3abc"; state(s)++; state(e) = 5; delete state(f); state(g) += "inf"',
    );
    expect(staged.ops).toEqual([
      { kind: "add", path: ["a"], delta: 1, value: 1 },
      { kind: "add", path: ["a"], delta: 1, value: 2 },
      { kind: "add", path: ["b"], delta: -1, value: -1 },
      { kind: "add", path: ["c"], delta: 22, value: 22 },
      { kind: "add", path: ["d"], delta: -3, value: -3 },
      // compat: Perl's magic string increment; the result travels with the delta.
      { kind: "add", path: ["s"], delta: 1, value: "ab" },
      { kind: "set", path: ["e"], value: 5 },
      { kind: "delete", path: ["f"] },
      // A delta that is not finite cannot be added anywhere else: a plain set.
      { kind: "set", path: ["g"], value: Infinity },
    ]);
  });

  it("commits add through sink.add when the sink has it, else as set (the memory store)", () => {
    const calls: unknown[] = [];
    const sink = {
      set: (path: readonly string[], value: unknown) =>
        calls.push(["set", path, value]),
      add: (path: readonly string[], delta: number, value: unknown) =>
        calls.push(["add", path, delta, value]),
      delete: (path: readonly string[]) => calls.push(["delete", path]),
    };
    const base = createMemoryStore();
    const staged = stage(base, "state(IP,n)++; state(IP,m) = 2");
    commitState(staged.ops, sink);
    expect(calls).toEqual([
      ["add", ["10.1.1.1", "n"], 1, 1],
      ["set", ["10.1.1.1", "m"], 2],
    ]);
    const store = createMemoryStore();
    commitState(staged.ops, store);
    commitState(stage(store, "state(IP,n) += 4").ops, store);
    expect(store.entries()).toEqual([
      [["10.1.1.1", "n"], 5],
      [["10.1.1.1", "m"], 2],
    ]);
  });
});
