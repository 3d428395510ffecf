/**
 * The contract every `StateStore` implementation passes (STYLE.md §9): run with
 * `describeStateStore(name, makeStore)`.
 */
import { describe, expect, it } from "vitest";
import { commitState } from "../src/staged-state.ts";
import type { PendingAction, StateStore } from "../src/state-store.ts";

/** Makes a fresh, empty store for one test. */
export type MakeStore = () => Promise<StateStore>;

function pendingAction(id: string, dueMs: number): PendingAction {
  return {
    id,
    action: "k.conf:10",
    createdMs: 0,
    dueMs,
    commands: [["/bin/true", id]],
  };
}

/** Declares the shared contract tests for the store `makeStore` creates. */
export function describeStateStore(name: string, makeStore: MakeStore): void {
  describe(`StateStore contract: ${name}`, () => {
    it("gets what was set; undefined for what was not", async () => {
      const store = await makeStore();
      expect(store.get(["10.1.1.1", "visits", "num"])).toBeUndefined();
      store.set(["10.1.1.1", "visits", "num"], 3);
      store.set(["10.1.1.1", "name"], "x");
      expect(store.get(["10.1.1.1", "visits", "num"])).toBe(3);
      expect(store.get(["10.1.1.1", "name"])).toBe("x");
      expect(store.get(["10.1.1.1"])).toBeUndefined();
      await store.close();
    });

    it("lets a path hold a value and deeper keys; delete removes the subtree", async () => {
      const store = await makeStore();
      store.set(["a"], 1);
      store.set(["a", "b"], 2);
      store.set(["c"], 3);
      expect(store.entries()).toEqual([
        [["a"], 1],
        [["a", "b"], 2],
        [["c"], 3],
      ]);
      store.delete(["a"]);
      store.delete(["nothing", "here"]);
      expect(store.entries()).toEqual([[["c"], 3]]);
      await store.close();
    });

    it("keeps __proto__ and other prototype names as plain keys", async () => {
      const store = await makeStore();
      store.set(["__proto__"], 1);
      store.set(["__proto__", "polluted"], "yes");
      store.set(["constructor", "prototype"], 2);
      store.setExtra("__proto__", { polluted: true });
      expect(store.get(["__proto__", "polluted"])).toBe("yes");
      expect(store.get(["constructor", "prototype"])).toBe(2);
      expect(store.getExtra("__proto__")).toEqual({ polluted: true });
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      await store.close();
    });

    it.each([
      [[".."]],
      [["a/b"]],
      [["a\u0000b"]],
      [["a\nb"]],
      [["x".repeat(129)]],
      [[""]],
      [[]],
    ])("refuses the unsafe path %j with STATE_KEY_INVALID", async (path) => {
      const store = await makeStore();
      expect(() => store.set(path, 1)).toThrow(
        expect.objectContaining({ code: "STATE_KEY_INVALID" }),
      );
      expect(() => store.get(path)).toThrow(
        expect.objectContaining({ code: "STATE_KEY_INVALID" }),
      );
      expect(store.entries()).toEqual([]);
      await store.close();
    });

    it("commits increments (add ops, #19) to the value the engine computed, at once", async () => {
      const store = await makeStore();
      store.set(["s"], "aa");
      commitState(
        [
          { kind: "add", path: ["10.1.1.1", "visits"], delta: 1, value: 1 },
          { kind: "add", path: ["10.1.1.1", "visits"], delta: 1, value: 2 },
          { kind: "add", path: ["n"], delta: -2.5, value: -2.5 },
          { kind: "add", path: ["s"], delta: 1, value: "ab" },
        ],
        store,
      );
      expect(store.get(["10.1.1.1", "visits"])).toBe(2);
      expect(store.get(["n"])).toBe(-2.5);
      expect(store.get(["s"])).toBe("ab");
      if (store.add) {
        expect(() => store.add?.([".."], 1, 1)).toThrow(
          expect.objectContaining({ code: "STATE_KEY_INVALID" }),
        );
      }
      await store.close();
    });

    it("keeps pending actions by due time, replaces by id, removes by id", async () => {
      const store = await makeStore();
      store.addPending(pendingAction("b", 200));
      store.addPending(pendingAction("a", 100));
      store.addPending({ ...pendingAction("b", 300), action: "k.conf:20" });
      expect(store.pending().map((p) => [p.id, p.dueMs])).toEqual([
        ["a", 100],
        ["b", 300],
      ]);
      store.removePending("a");
      store.removePending("unknown");
      expect(store.pending()).toEqual([
        { ...pendingAction("b", 300), action: "k.conf:20" },
      ]);
      await store.close();
    });

    it("stores namespaced extras as JSON copies", async () => {
      const store = await makeStore();
      const value = { seen: ["ab12", "cd34"], n: 2 };
      store.setExtra("knockd.replay", value);
      value.n = 3;
      expect(store.getExtra("knockd.replay")).toEqual({
        seen: ["ab12", "cd34"],
        n: 2,
      });
      store.setExtra("knockd.replay", undefined);
      expect(store.getExtra("knockd.replay")).toBeUndefined();
      await store.close();
    });

    it("closes idempotently and refuses use after close", async () => {
      const store = await makeStore();
      store.set(["a"], 1);
      await Promise.all([store.close(), store.close()]);
      await store.close();
      await store.flush();
      expect(() => store.get(["a"])).toThrow(
        expect.objectContaining({ code: "STORE_CLOSED" }),
      );
      expect(() => store.set(["a"], 2)).toThrow(
        expect.objectContaining({ code: "STORE_CLOSED" }),
      );
    });
  });
}
