import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createMemoryStore } from "../src/state-store.ts";
import { MINUTE, setup } from "./engine-harness.ts";
import { tempDir, writeRecorder } from "./helpers.ts";

beforeEach(() => {
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
  vi.setSystemTime(Date.UTC(2024, 5, 1, 12, 0, 0));
});
afterEach(() => {
  vi.useRealTimers();
});

describe("state and delays", () => {
  it("applies state at once even when the action is delayed", async () => {
    const rec = writeRecorder(tempDir(), "close");
    const { engine, store } = setup(
      [{ templates: ["close"], delayMs: 30_000 }],
      {
        close: {
          system: [`${rec.path} IP`],
          state: ["state(IP,open) = 0; state(IP,closes)++"],
        },
      },
    );
    const result = await engine.accept({
      CLIENT: "10.0.0.9",
      PORT: 22,
      FLAG0: 0,
      FLAG1: 0,
    });
    expect(result.actions[0]).toMatchObject({
      status: "scheduled",
      stateChanges: 2,
      dueMs: Date.now() + 30_000,
    });
    expect(store.get(["10.0.0.9", "closes"])).toBe(1);
    expect(rec.calls()).toEqual([]);
    await vi.advanceTimersByTimeAsync(30_000);
    await engine.idle();
    expect(rec.calls()).toEqual([["10.0.0.9"]]);
    await engine.close();
  });

  it("evaluates conditions at acceptance time, not when the delay ends", async () => {
    const rec = writeRecorder(tempDir(), "rec");
    const { engine } = setup(
      [
        {
          condition: "PORT == 1 && state(IP,blocked) != 1",
          templates: ["t"],
          delayMs: MINUTE,
        },
        { condition: "PORT == 2", templates: ["block"] },
      ],
      {
        t: { system: [`${rec.path} ran`] },
        block: { state: ["state(IP,blocked) = 1"] },
      },
    );
    const knock = { CLIENT: "10.0.0.2", PORT: 1, FLAG0: 0, FLAG1: 0 };
    expect((await engine.accept(knock)).actions[0]?.status).toBe("scheduled");
    // A later change of state does not cancel the already accepted action.
    await engine.accept({ ...knock, PORT: 2 });
    expect((await engine.accept(knock)).actions[0]?.status).toBe("unmatched");
    await vi.advanceTimersByTimeAsync(MINUTE);
    await engine.idle();
    expect(rec.calls()).toEqual([["ran"]]);
    await engine.close();
  });

  it("test mode runs nothing, changes no state, schedules nothing, and logs what it would do", async () => {
    const dir = tempDir();
    const rec = writeRecorder(dir, "rec");
    const { engine, store, logger } = setup(
      [
        { templates: ["count", "open"] },
        { condition: "state(IP,n) == 1", templates: ["open"], delayMs: MINUTE },
      ],
      {
        count: { state: ["state(IP,n)++"] },
        open: { system: [`${rec.path} IP`] },
      },
      { test: true, store: createMemoryStore() },
    );
    const result = await engine.accept({
      CLIENT: "10.0.0.3",
      PORT: 1,
      FLAG0: 0,
      FLAG1: 0,
    });
    // The second condition sees the first action's would-be change.
    expect(result.actions.map((a) => [a.status, a.argv])).toEqual([
      ["tested", [[rec.path, "10.0.0.3"]]],
      ["tested", [[rec.path, "10.0.0.3"]]],
    ]);
    await vi.advanceTimersByTimeAsync(10 * MINUTE);
    await engine.idle();
    expect(rec.calls()).toEqual([]);
    expect(store.entries()).toEqual([]);
    expect(store.pending()).toEqual([]);
    expect(logger.events().filter((e) => e === "action.test")).toHaveLength(2);
    expect(engine.counters).toMatchObject({
      commandsRun: 0,
      actionsScheduled: 0,
      stateChanges: 0,
    });
    await engine.close();
  });

  it("keeps running after close is called twice and refuses new knocks", async () => {
    const { engine, store } = setup([{ templates: ["t"], delayMs: MINUTE }], {
      t: { system: ["/bin/true"] },
    });
    await engine.accept({ CLIENT: "10.0.0.4", PORT: 1, FLAG0: 0, FLAG1: 0 });
    await Promise.all([engine.close(), engine.close()]);
    await expect(
      engine.accept({ CLIENT: "10.0.0.4", PORT: 1 }),
    ).rejects.toMatchObject({ code: "ENGINE_CLOSED" });
    // The timer is disarmed; the pending action stays for the next start.
    await vi.advanceTimersByTimeAsync(2 * MINUTE);
    expect(store.pending()).toHaveLength(1);
  });
});

describe("logging", () => {
  it("logs knock.accepted, action.started and action.finished with ip, port, source", async () => {
    const rec = writeRecorder(tempDir(), "rec");
    const { engine, logger } = setup([{ templates: ["t"] }], {
      t: { system: [`${rec.path} PORT`] },
    });
    await engine.accept(
      {
        CLIENT: "10.0.0.5",
        PORT: 22,
        FLAG0: 0,
        FLAG1: 0,
        SOURCE: "192.0.2.1",
      },
      { origin: "/var/log/firewall:17" },
    );
    expect(logger.events()).toEqual([
      "knock.accepted",
      "action.started",
      "action.finished",
    ]);
    expect(logger.entries[0]).toMatchObject({
      level: "info",
      fields: {
        ip: "10.0.0.5",
        port: 22,
        from: "192.0.2.1",
        source: "/var/log/firewall:17",
      },
    });
    expect(logger.entries[1]?.fields).toMatchObject({
      argv: [rec.path, "22"],
      delayed: false,
    });
    expect(logger.entries[2]?.fields).toMatchObject({ exit: 0 });
    await engine.close();
  });

  it("keeps untrusted text escaped under input", async () => {
    const { engine, logger } = setup([{ templates: ["t"] }], {
      t: { system: ["/bin/true IP"] },
    });
    await engine.accept({
      CLIENT: "1.2.3.4\n\u001b[31mEVIL",
      PORT: 22,
      FLAG0: 0,
      FLAG1: 0,
    });
    const accepted = logger.entries.find(
      (e) => e.fields.event === "knock.accepted",
    );
    expect(accepted?.fields.ip).toBeUndefined();
    expect(accepted?.fields.input).toContain("\\\\n");
    const refused = logger.entries.find(
      (e) => e.fields.event === "action.refused",
    );
    expect(refused).toMatchObject({
      level: "warn",
      fields: {
        code: "ENGINE_VALUE_INVALID",
        input: "1.2.3.4\\n\\x1b[31mEVIL",
      },
    });
    await engine.close();
  });
});

describe("increments reach a store's add (#19)", () => {
  const templates = {
    count: { state: ["state(CLIENT,visits)++; state(CLIENT,last) = PORT"] },
  };
  const knock = { CLIENT: "10.0.0.7", PORT: 22, FLAG0: 0, FLAG1: 0 };

  it("calls add(path, 1, local result) on a store that has it; a store without add gets set, same state", async () => {
    const adds: unknown[] = [];
    const memory = createMemoryStore();
    const shared = {
      ...memory,
      add(path: readonly string[], delta: number, value: string | number) {
        adds.push([path, delta, value]);
        memory.set(path, value);
      },
    };
    const withAdd = setup([{ templates: ["count"] }], templates, {
      store: shared,
    });
    const plain = setup([{ templates: ["count"] }], templates);
    for (const { engine } of [withAdd, plain]) {
      await engine.accept(knock);
      await engine.accept(knock);
      await engine.close();
    }
    expect(adds).toEqual([
      [["10.0.0.7", "visits"], 1, 1],
      [["10.0.0.7", "visits"], 1, 2],
    ]);
    expect(memory.entries()).toEqual(plain.store.entries());
    expect(plain.store.get(["10.0.0.7", "visits"])).toBe(2);
  });

  it("undoes an add like a set when the knock's delayed action is not durable", async () => {
    const memory = createMemoryStore();
    let failFlush = false;
    const store = {
      ...memory,
      add(path: readonly string[], _delta: number, value: string | number) {
        memory.set(path, value);
      },
      flush: () =>
        failFlush ? Promise.reject(new Error("disk full")) : memory.flush(),
    };
    const { engine } = setup(
      [{ templates: ["count"] }, { templates: ["close"], delayMs: MINUTE }],
      { ...templates, close: { system: ["/bin/true close CLIENT"] } },
      { store },
    );
    await engine.accept(knock);
    failFlush = true;
    const refused = await engine.accept(knock);
    expect(refused.actions[0]?.refusal?.code).toBe("ENGINE_STATE_NOT_DURABLE");
    expect(memory.get(["10.0.0.7", "visits"])).toBe(1);
    await engine.close();
  });
});
