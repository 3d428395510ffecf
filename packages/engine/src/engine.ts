/**
 * The action engine (spec: daemon.md §4–7; manual "Responses", "Maintaining State"): turns an
 * accepted knock into state changes and commands, now or after a delay.
 */
import { randomUUID } from "node:crypto";
import { noopLogger } from "@portknock/core";
import { systemTimers } from "@portknock/core";
import type { CompiledAction, CompiledRules } from "./compile.ts";
import type {
  AcceptResult,
  ActionOutcome,
  Engine,
  EngineDeps,
  EngineOptions,
  StartResult,
  AcceptContext,
} from "./engine-types.ts";
import { EngineError, RefusalSignal } from "./errors.ts";
import { evaluateCondition } from "./eval-condition.ts";
import { escapeArgv, escapeInput } from "@portknock/core";
import { createCounters, runCommands } from "./run-commands.ts";
import type { RunContext } from "./run-commands.ts";
import { createScheduler } from "./scheduler.ts";
import type { StagedState } from "./staged-state.ts";
import {
  applyStatements,
  commitState,
  createStagedState,
} from "./staged-state.ts";
import type { PendingAction } from "./state-data.ts";
import type { Bindings } from "./substitute.ts";
import { substituteCommand } from "./substitute.ts";
import type { KnockVariables } from "./variables.ts";
import { computeVariables, isValidValue } from "./variables.ts";

/** Default command timeout (daemon.md §5). */
export const DEFAULT_COMMAND_TIMEOUT_MS = 30_000;

/**
 * Creates an engine over compiled rules. Actions run in file order and every action whose
 * condition holds runs ("multiple responses to the same knock"); `use = no` skips. With
 * `options.test`, nothing runs, no state changes and nothing is scheduled: each would-be effect
 * is logged (`action.test`).
 * @throws RangeError on a `commandTimeoutMs` that is not a positive number.
 */
export function createEngine(
  rules: CompiledRules,
  deps: EngineDeps,
  options: EngineOptions = {},
): Engine {
  const { clock, store, run } = deps;
  const logger = deps.logger ?? noopLogger;
  const test = options.test ?? false;
  const timeoutMs = options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
  if (!(timeoutMs > 0)) {
    throw new RangeError(
      `commandTimeoutMs must be a positive number of ms, got ${timeoutMs}`,
    );
  }
  const counters = createCounters();
  const runCtx: RunContext = { run, timeoutMs, logger, counters };
  const inflight = new Set<Promise<unknown>>();
  let closing: Promise<void> | undefined;
  let started = false;

  const track = <T>(p: Promise<T>): Promise<T> => {
    inflight.add(p);
    void p.finally(() => inflight.delete(p)).catch(() => undefined);
    return p;
  };

  const runPending = async (p: PendingAction): Promise<void> => {
    counters.actionsRun++;
    const outcomes = await runCommands(runCtx, p.action, p.commands, true);
    if (outcomes.some((o) => !o.result.ok)) counters.actionsFailed++;
    try {
      // At least once: removed only after running, so a crash mid-run re-runs it at start.
      store.removePending(p.id);
    } catch (error) {
      logger.error(
        { event: "store.error", err: error },
        "cannot remove a pending action",
      );
    }
  };
  const scheduler = createScheduler(clock, deps.timers ?? systemTimers, (p) => {
    void track(runPending(p));
  });

  const refuse = (
    action: CompiledAction,
    outcome: ActionOutcome,
    signal: RefusalSignal,
  ): void => {
    const { refusal } = signal;
    outcome.status = "refused";
    outcome.refusal = refusal;
    counters.actionsRefused++;
    counters.refused[refusal.code] = (counters.refused[refusal.code] ?? 0) + 1;
    logger.warn(
      {
        event: "action.refused",
        code: refusal.code,
        action: action.label,
        ...(refusal.input != null ? { input: escapeInput(refusal.input) } : {}),
      },
      refusal.message,
    );
  };

  /** Decides one action at acceptance time (sync): condition, argv, state, schedule. */
  const decide = (
    action: CompiledAction,
    bindings: Bindings,
    base: StagedState | undefined,
    nowMs: number,
  ): ActionOutcome => {
    const outcome: ActionOutcome = {
      index: action.index,
      where: action.where,
      label: action.label,
      status: "disabled",
      argv: [],
      commands: [],
      stateChanges: 0,
    };
    if (!action.use) return outcome;
    const staged = createStagedState((path) =>
      base ? base.read(path) : store.get(path),
    );
    try {
      const ctx = {
        ...bindings,
        readState: (path: readonly string[]) => staged.read(path),
      };
      if (action.condition && !evaluateCondition(action.condition, ctx)) {
        outcome.status = "unmatched";
        return outcome;
      }
      counters.actionsMatched++;
      outcome.argv = action.templates.flatMap((t) =>
        t.commands.map((c) => substituteCommand(c.words, bindings)),
      );
      for (const t of action.templates)
        applyStatements(t.state, bindings, staged);
    } catch (error) {
      if (!(error instanceof RefusalSignal)) throw error;
      refuse(action, outcome, error);
      return outcome;
    }
    outcome.stateChanges = staged.ops.length;
    if (test) {
      base?.ops.push(...staged.ops);
      outcome.status = "tested";
      logger.info(
        {
          event: "action.test",
          action: action.label,
          argv: outcome.argv.map(escapeArgv),
          delayMs: action.delayMs,
          stateChanges: staged.ops.length,
        },
        "test mode: would run",
      );
      return outcome;
    }
    commitState(staged.ops, store);
    counters.stateChanges += staged.ops.length;
    if (action.delayMs > 0 && outcome.argv.length > 0) {
      const pending: PendingAction = {
        id: randomUUID(),
        action: action.label,
        createdMs: nowMs,
        dueMs: nowMs + action.delayMs,
        commands: outcome.argv,
      };
      store.addPending(pending);
      scheduler.schedule(pending);
      counters.actionsScheduled++;
      outcome.status = "scheduled";
      outcome.pendingId = pending.id;
      outcome.dueMs = pending.dueMs;
      logger.info(
        {
          event: "action.scheduled",
          action: action.label,
          dueMs: pending.dueMs,
          id: pending.id,
        },
        "action scheduled",
      );
    } else {
      outcome.status = "ran";
    }
    return outcome;
  };

  const accept = async (
    knock: KnockVariables,
    context: AcceptContext = {},
  ): Promise<AcceptResult> => {
    if (closing) throw new EngineError("ENGINE_CLOSED", "the engine is closed");
    const nowMs = clock.now();
    const vars = computeVariables(knock, nowMs);
    const bindings: Bindings = { vars, kinds: rules.variables };
    counters.knocksAccepted++;
    const ip = vars.IP;
    const port = vars.PORT;
    logger.info(
      {
        event: "knock.accepted",
        ...(ip !== undefined && isValidValue("ip", ip) ? { ip } : {}),
        ...(port !== undefined && isValidValue("port", port) ? { port } : {}),
        ...(vars.SOURCE !== undefined && isValidValue("ip", vars.SOURCE)
          ? { from: vars.SOURCE }
          : {}),
        ...(context.origin !== undefined
          ? { source: escapeInput(context.origin) }
          : {}),
        input: escapeInput(JSON.stringify(knock)),
      },
      "knock accepted",
    );
    const base = test
      ? createStagedState((path) => store.get(path))
      : undefined;
    const actions = rules.actions.map((a) => decide(a, bindings, base, nowMs));
    const result: AcceptResult = { variables: vars, actions };
    if (actions.some((a) => a.status === "scheduled")) {
      // Persist the delayed "close" before running the "open": it must survive a crash.
      await store.flush().catch((error: unknown) => {
        logger.error(
          { event: "store.error", err: error },
          "cannot persist pending actions",
        );
      });
    }
    await track(
      (async () => {
        for (const outcome of actions) {
          if (outcome.status !== "ran" || outcome.argv.length === 0) continue;
          counters.actionsRun++;
          outcome.commands = await runCommands(
            runCtx,
            outcome.label,
            outcome.argv,
            false,
          );
          if (outcome.commands.some((c) => !c.result.ok)) {
            outcome.status = "failed";
            counters.actionsFailed++;
          }
        }
      })(),
    );
    return result;
  };

  const start = async (): Promise<StartResult> => {
    if (closing) throw new EngineError("ENGINE_CLOSED", "the engine is closed");
    if (started) return { overdue: 0, scheduled: 0 };
    started = true;
    const now = clock.now();
    const pending = store.pending().filter((p) => !scheduler.has(p.id));
    const overdue = pending.filter((p) => p.dueMs <= now);
    const later = pending.filter((p) => p.dueMs > now);
    if (test) {
      for (const p of pending) {
        logger.info(
          {
            event: "action.test",
            action: p.action,
            argv: p.commands.map(escapeArgv),
            dueMs: p.dueMs,
          },
          "test mode: would run pending action",
        );
      }
      return { overdue: overdue.length, scheduled: later.length };
    }
    for (const p of later) scheduler.schedule(p);
    for (const p of overdue) await track(runPending(p));
    return { overdue: overdue.length, scheduled: later.length };
  };

  const close = (): Promise<void> => {
    closing ??= (async () => {
      scheduler.cancelAll();
      await Promise.allSettled([...inflight]);
    })();
    return closing;
  };

  const idle = async (): Promise<void> => {
    while (inflight.size > 0) await Promise.allSettled([...inflight]);
  };

  return { accept, start, idle, close, counters };
}
