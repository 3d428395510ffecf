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
