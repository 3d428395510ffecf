import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { systemClock } from "@portknock/core";
import { compileActions } from "../src/compile.ts";
import { createEngine } from "../src/engine.ts";
import { createFileStore } from "../src/file-store.ts";
import { spawnRunner } from "../src/runner.ts";
import { createMemoryStore } from "../src/state-store.ts";
import type { StateStore } from "../src/state-store.ts";
import type { ActionSpec, TemplateSpec } from "./helpers.ts";
import {
  actionsConfig,
  recordingLogger,
  tempDir,
  writeRecorder,
  writeScript,
} from "./helpers.ts";

const FIELDS = ["CLIENT", "PORT", "FLAG0", "USER"];
const MINUTE = 60_000;

beforeEach(() => {
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
  vi.setSystemTime(Date.UTC(2024, 5, 1, 12, 0, 0));
});
afterEach(() => {
  vi.useRealTimers();
});

function build(
  actions: ActionSpec[],
  templates: Record<string, TemplateSpec>,
  store: StateStore = createMemoryStore(),
  commandTimeoutMs?: number,
) {
  const { rules, diagnostics } = compileActions(
    actionsConfig(actions, templates),
    { fields: FIELDS },
  );
  expect(diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  const logger = recordingLogger();
  const engine = createEngine(
    rules!,
    {
      clock: systemClock,
      store,
      run: spawnRunner({ killGraceMs: 100 }),
      logger,
    },
    commandTimeoutMs ? { commandTimeoutMs } : {},
  );
  return { engine, store, logger, diagnostics };
}

describe("pending delayed actions across restarts", () => {
  it("runs overdue ones at once on start and reschedules the rest", async () => {
    const dir = tempDir();
    const path = join(dir, "state.json");
    const rec = writeRecorder(dir, "fw");
    const actions: ActionSpec[] = [
      { templates: ["open"] },
      { templates: ["close"], delayMs: 5 * MINUTE },
      { templates: ["report"], delayMs: 60 * MINUTE },
    ];
    const templates = {
      open: { system: [`${rec.path} open IP`], state: ["state(IP,opens)++"] },
      close: { system: [`${rec.path} close IP`] },
      report: { system: [`${rec.path} report IP`] },
    };
    const store1 = await createFileStore(path);
    const first = build(actions, templates, store1);
    await first.engine.accept({ CLIENT: "10.3.2.1", PORT: 22, FLAG0: 0 });
    await first.engine.close();
    await store1.close();
    expect(rec.calls()).toEqual([["open", "10.3.2.1"]]);

    // The daemon is down for ten minutes: the close is overdue, the report is not.
    vi.setSystemTime(Date.now() + 10 * MINUTE);
    const store2 = await createFileStore(path);
    expect(store2.get(["10.3.2.1", "opens"])).toBe(1);
    const second = build(actions, templates, store2);
    expect(await second.engine.start()).toEqual({
      overdue: 1,
      interrupted: 0,
      scheduled: 1,
    });
    expect(rec.calls()).toEqual([
      ["open", "10.3.2.1"],
      ["close", "10.3.2.1"],
    ]);
    expect(store2.pending().map((p) => p.commands[0]?.[1])).toEqual(["report"]);
    await vi.advanceTimersByTimeAsync(50 * MINUTE);
    await second.engine.idle();
    expect(rec.calls().at(-1)).toEqual(["report", "10.3.2.1"]);
    expect(store2.pending()).toEqual([]);
    expect(await second.engine.start()).toEqual({
      overdue: 0,
      interrupted: 0,
      scheduled: 0,
    });
    await second.engine.close();
    await store2.close();
    const store3 = await createFileStore(path);
    expect(store3.pending()).toEqual([]);
    await store3.close();
  });

  it("persists a delayed action before running the immediate ones", async () => {
    const dir = tempDir();
    const path = join(dir, "state.json");
    // The "open" command checks that the "close" is already on disk when it runs.
    const open = writeScript(
      dir,
      "open.sh",
      `grep -q '"close"' '${path}' || exit 9`,
    );
    const store = await createFileStore(path);
    const { engine } = build(
      [{ templates: ["open"] }, { templates: ["close"], delayMs: MINUTE }],
      { open: { system: [open] }, close: { system: ["/bin/true close"] } },
      store,
    );
    // Actions run in file order, but the delayed close is flushed before any command starts.
    const result = await engine.accept({
      CLIENT: "10.0.0.1",
      PORT: 22,
      FLAG0: 0,
    });
    expect(result.actions.map((a) => a.status)).toEqual(["ran", "scheduled"]);
    await engine.close();
    await store.close();
  });
});

describe("hostile values", () => {
  const templates = {
    open: {
      system: ["MARK -s IP/32 --dport PORT"],
      state: ["state(USER,visits)++"],
    },
  };

  it.each<[string, Record<string, string | number>, string]>([
    [
      "a command injection in IP",
      { CLIENT: "1.2.3.4; rm -rf /" },
      "ENGINE_VALUE_INVALID",
    ],
    ["an IP with a newline", { CLIENT: "1.2.3.4\n" }, "ENGINE_VALUE_INVALID"],
    ["a port of 70000", { PORT: 70000 }, "ENGINE_VALUE_INVALID"],
    ["a state key with ..", { USER: "x..y" }, "STATE_KEY_INVALID"],
    ["a state key with /", { USER: "../../etc" }, "ENGINE_VALUE_INVALID"],
    [
      "a missing field",
      { PORT: undefined as unknown as number },
      "ENGINE_VALUE_MISSING",
    ],
  ])(
    "refuses %s: counted, logged, nothing run, no state",
    async (_what, bad, code) => {
      const dir = tempDir();
      const rec = writeRecorder(dir, "mark");
      const { engine, store, logger } = build([{ templates: ["open"] }], {
        open: {
          ...templates.open,
          system: [templates.open.system[0]!.replace("MARK", rec.path)],
        },
      });
      const knock = {
        CLIENT: "10.0.0.1",
        PORT: 22,
        FLAG0: 0,
        USER: "alice",
        ...bad,
      };
      const result = await engine.accept(knock);
      expect(result.actions[0]).toMatchObject({
        status: "refused",
        refusal: { code },
        commands: [],
      });
      expect(engine.counters.refused).toEqual({ [code]: 1 });
      expect(engine.counters).toMatchObject({
        actionsRefused: 1,
        commandsRun: 0,
        stateChanges: 0,
      });
      expect(existsSync(rec.log)).toBe(false);
      expect(store.entries()).toEqual([]);
      expect(
        logger.entries.filter((e) => e.fields.event === "action.refused"),
      ).toMatchObject([{ level: "warn", fields: { code } }]);
      // The same engine still serves a good knock.
      await engine.accept({
        CLIENT: "10.0.0.1",
        PORT: 22,
        FLAG0: 0,
        USER: "alice",
      });
      expect(rec.calls()).toEqual([["-s", "10.0.0.1/32", "--dport", "22"]]);
      await engine.close();
    },
  );

  it("refuses a division by zero in a condition", async () => {
    const { engine } = build(
      [{ condition: "10 / FLAG0 > 1", templates: ["t"] }],
      { t: { system: ["/bin/true"] } },
    );
    const result = await engine.accept({
      CLIENT: "10.0.0.1",
      PORT: 22,
      FLAG0: 0,
    });
    expect(result.actions[0]).toMatchObject({
      status: "refused",
      refusal: { code: "ENGINE_DIVISION_BY_ZERO" },
    });
    await engine.close();
  });
});

describe("failing commands never stop the engine", () => {
  it("reports a non-zero exit and a missing executable, and runs the next command", async () => {
    const dir = tempDir();
    const failing = writeRecorder(dir, "failing", 4);
    const rec = writeRecorder(dir, "rec");
    const missing = join(dir, "no-such-program");
    const { engine, diagnostics, logger } = build(
      [{ templates: ["bad", "good"] }, { templates: ["good"] }],
      {
        bad: { system: [`${failing.path} x`, `${missing} IP`] },
        good: { system: [`${rec.path} ok`] },
      },
    );
    expect(diagnostics).toMatchObject([
      { code: "ENGINE_EXECUTABLE_MISSING", severity: "warning" },
    ]);
    const result = await engine.accept({
      CLIENT: "10.0.0.1",
      PORT: 22,
      FLAG0: 0,
    });
    expect(result.actions.map((a) => a.status)).toEqual(["failed", "ran"]);
    expect(result.actions[0]?.commands.map((c) => c.code)).toEqual([
      "ENGINE_COMMAND_EXIT",
      "ENGINE_COMMAND_SPAWN",
      undefined,
    ]);
    expect(rec.calls()).toEqual([["ok"], ["ok"]]);
    expect(engine.counters).toMatchObject({
      actionsRun: 2,
      actionsFailed: 1,
      commandsRun: 4,
      commandsFailed: 2,
      failed: { ENGINE_COMMAND_EXIT: 1, ENGINE_COMMAND_SPAWN: 1 },
    });
    expect(
      logger.entries.filter((e) => e.fields.event === "action.failed"),
    ).toMatchObject([
      { level: "error", fields: { code: "ENGINE_COMMAND_EXIT", exit: 4 } },
      { level: "error", fields: { code: "ENGINE_COMMAND_SPAWN" } },
    ]);
    await engine.close();
  });

  it("kills a command that outlives the timeout and reports it", async () => {
    const dir = tempDir();
    const slow = writeScript(dir, "slow.sh", "sleep 30");
    const { engine } = build(
      [{ templates: ["slow"] }],
      { slow: { system: [slow] } },
      createMemoryStore(),
      2000,
    );
    const accepted = engine.accept({ CLIENT: "10.0.0.1", PORT: 22, FLAG0: 0 });
    await vi.advanceTimersByTimeAsync(2000);
    const result = await accepted;
    expect(result.actions[0]?.commands[0]).toMatchObject({
      code: "ENGINE_COMMAND_TIMEOUT",
      result: { timedOut: true, signal: "SIGTERM" },
    });
    expect(engine.counters.failed).toEqual({ ENGINE_COMMAND_TIMEOUT: 1 });
    await engine.close();
  });

  it("turns a rejecting injected runner into a failed command", async () => {
    const { rules } = compileActions(
      actionsConfig([{ templates: ["t"] }], { t: { system: ["/bin/true"] } }),
      {
        fields: FIELDS,
      },
    );
    const engine = createEngine(rules!, {
      clock: systemClock,
      store: createMemoryStore(),
      run: () => Promise.reject(new Error("boom")),
    });
    const result = await engine.accept({ CLIENT: "10.0.0.1", PORT: 22 });
    expect(result.actions[0]?.commands[0]).toMatchObject({
      code: "ENGINE_COMMAND_SPAWN",
      result: { error: { code: "ERUNNER" } },
    });
    await engine.close();
  });
});
