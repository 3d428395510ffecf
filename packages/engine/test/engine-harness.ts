/**
 * Shared engine test harness: compiles plain-data actions and builds an engine over a real
 * runner, a memory (or given) store and a recording logger, with the system clock (faked by
 * vitest fake timers in the tests).
 */
import { expect } from "vitest";
import { systemClock } from "@portknock/core";
import { compileActions } from "../src/compile.ts";
import { createEngine } from "../src/engine.ts";
import type { EngineOptions } from "../src/engine-types.ts";
import type { GrantFn } from "../src/grant.ts";
import { spawnRunner } from "../src/runner.ts";
import type { StateStore } from "../src/state-store.ts";
import { createMemoryStore } from "../src/state-store.ts";
import type { ActionSpec, TemplateSpec } from "./helpers.ts";
import { actionsConfig, recordingLogger } from "./helpers.ts";

/** Knock fields of the harness's default knock format. */
export const FIELDS = ["CLIENT", "PORT", "FLAG0", "FLAG1", "CHECKSUM"];
/** One minute in ms. */
export const MINUTE = 60_000;

/** Compiles `actions` (expecting no errors) and creates an engine. */
export function setup(
  actions: ActionSpec[],
  templates: Record<string, TemplateSpec>,
  options: EngineOptions & {
    store?: StateStore;
    fields?: string[];
    grant?: GrantFn;
  } = {},
) {
  const { rules, diagnostics } = compileActions(
    actionsConfig(actions, templates),
    {
      fields: options.fields ?? FIELDS,
    },
  );
  expect(diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  const store = options.store ?? createMemoryStore();
  const logger = recordingLogger();
  const engine = createEngine(
    rules!,
    {
      clock: systemClock,
      store,
      run: spawnRunner(),
      logger,
      ...(options.grant ? { grant: options.grant } : {}),
    },
    options,
  );
  return { engine, store, logger, diagnostics };
}
