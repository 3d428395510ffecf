/**
 * The action engine (spec: daemon.md §4–7; manual "Responses", "Maintaining State"): turns an
 * accepted knock into state changes and commands, now or after a delay.
 */
import { randomUUID } from "node:crypto";
import { errorMessages, noopLogger } from "@portknock/core";
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
import { runGrants, substituteGrant } from "./grant.ts";
import type { RunContext } from "./run-commands.ts";
import { createScheduler } from "./scheduler.ts";
import type { StagedState, StateOp } from "./staged-state.ts";
import {
  applyStatements,
  commitState,
  createStagedState,
} from "./staged-state.ts";
import type { PendingAction } from "./state-data.ts";
import type { StateStore } from "./state-store.ts";
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
  const hasGrants = rules.actions.some((a) =>
    a.templates.some((t) => t.grants.length > 0),
  );
  if (hasGrants && deps.grant === undefined) {
    throw new TypeError(
      "the rules have grant = … templates, but deps.grant (the firewall that applies them) is missing",
    );
  }
  const counters = createCounters();
  const runCtx: RunContext = { run, timeoutMs, logger, counters };
  const grantCtx = deps.grant
    ? { grant: deps.grant, logger, counters }
    : undefined;
  const inflight = new Set<Promise<unknown>>();
  // One knock at a time from decision to durable commit: a refused knock's undo must not erase
  // another knock's changes.
  const decideLock = createLock();
  let closing: Promise<void> | undefined;
  let started = false;

  const track = <T>(p: Promise<T>): Promise<T> => {
    inflight.add(p);
    void p.finally(() => inflight.delete(p)).catch(() => undefined);
    return p;
  };

  const runPending = async (p: PendingAction): Promise<void> => {
    // At most once: the entry is marked started, durably, before its commands are spawned, so
    // a crash while they run never runs them again (the next start reports it instead).
    try {
      store.addPending({ ...p, startedMs: clock.now() });
      await store.flush();
    } catch (error) {
      // A close that does not run is a door left open: run it anyway; only a crash during this
      // run could now run it a second time.
      logger.error(
        { event: "store.error", code: "STORE_WRITE_FAILED" },
        `cannot mark delayed action ${p.action} started; running it anyway: ${errorMessages(error) || "unknown error"}`,
      );
    }
    counters.actionsRun++;
    const outcomes = await runCommands(runCtx, p.action, p.commands, true);
    if (outcomes.some((o) => !o.result.ok)) counters.actionsFailed++;
    try {
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

  /**
   * Decides one action at acceptance time (sync): condition, argv, state changes (staged into
   * `base`) and its pending entry (added to `pendings`); nothing is committed here.
   */
  const decide = (
    action: CompiledAction,
    bindings: Bindings,
    base: StagedState,
    pendings: PendingAction[],
    nowMs: number,
  ): ActionOutcome => {
    const outcome: ActionOutcome = {
      index: action.index,
      where: action.where,
      label: action.label,
      status: "disabled",
      argv: [],
      grantRequests: [],
      grants: [],
      commands: [],
      stateChanges: 0,
    };
    if (!action.use) return outcome;
    const staged = createStagedState((path) => base.read(path));
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
      outcome.grantRequests = action.templates.flatMap((t) =>
        t.grants.map((g) => substituteGrant(g, bindings)),
      );
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
    base.ops.push(...staged.ops);
    if (test) {
      outcome.status = "tested";
      logger.info(
        {
          event: "action.test",
          action: action.label,
          argv: outcome.argv.map(escapeArgv),
          ...(outcome.grantRequests.length > 0
            ? { grants: outcome.grantRequests }
            : {}),
          delayMs: action.delayMs,
          stateChanges: staged.ops.length,
        },
        "test mode: would run",
      );
      return outcome;
    }
    if (action.delayMs > 0 && outcome.argv.length > 0) {
      const pending: PendingAction = {
        id: randomUUID(),
        action: action.label,
        createdMs: nowMs,
        dueMs: nowMs + action.delayMs,
        commands: outcome.argv,
      };
      outcome.status = "scheduled";
      outcome.pendingId = pending.id;
      outcome.dueMs = pending.dueMs;
      pendings.push(pending);
    } else {
      outcome.status = "ran";
    }
    return outcome;
  };

  /**
   * Commits a knock's staged state and pending actions. With pending actions, waits until they
   * are durable; if they cannot be made so, undoes everything and refuses the knock's actions
   * (ENGINE_STATE_NOT_DURABLE): an "open" must never run without its "close" on disk.
   */
  const commit = async (
    ops: readonly StateOp[],
    pendings: readonly PendingAction[],
    actions: ActionOutcome[],
  ): Promise<void> => {
    if (pendings.length === 0) {
      commitState(ops, store);
      counters.stateChanges += ops.length;
      return;
    }
    const undo = snapshotFor(store, ops);
    commitState(ops, store);
    for (const p of pendings) store.addPending(p);
    try {
      await store.flush();
    } catch (error) {
      try {
        for (const p of pendings) store.removePending(p.id);
        undo();
      } catch (undoError) {
        logger.error(
          { event: "store.error", err: undoError },
          "cannot undo the state of a refused knock",
        );
      }
      counters.knocksNotDurable++;
      const message = `the knock's delayed action could not be made durable (${errorMessages(error) || "unknown error"}); nothing ran and no state changed`;
      logger.error(
        { event: "knock.refused", code: "ENGINE_STATE_NOT_DURABLE" },
        message,
      );
      for (const outcome of actions) {
        if (outcome.status !== "ran" && outcome.status !== "scheduled")
          continue;
        delete outcome.pendingId;
        delete outcome.dueMs;
        outcome.status = "refused";
        outcome.refusal = { code: "ENGINE_STATE_NOT_DURABLE", message };
        counters.actionsRefused++;
        counters.refused.ENGINE_STATE_NOT_DURABLE =
          (counters.refused.ENGINE_STATE_NOT_DURABLE ?? 0) + 1;
      }
      return;
    }
    counters.stateChanges += ops.length;
    for (const p of pendings) {
      scheduler.schedule(p);
      counters.actionsScheduled++;
      logger.info(
        {
          event: "action.scheduled",
          action: p.action,
          dueMs: p.dueMs,
          id: p.id,
        },
        "action scheduled",
      );
    }
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
    const result = await decideLock.run(async () => {
      const base = createStagedState((path) => store.get(path));
      const pendings: PendingAction[] = [];
      const actions = rules.actions.map((a) =>
        decide(a, bindings, base, pendings, nowMs),
      );
      if (!test) await commit(base.ops, pendings, actions);
      return { variables: vars, actions } satisfies AcceptResult;
    });
    const { actions } = result;
    await track(
      (async () => {
        for (const outcome of actions) {
          if (outcome.status !== "ran") continue;
          const requests = outcome.grantRequests;
          if (outcome.argv.length === 0 && requests.length === 0) continue;
          counters.actionsRun++;
          if (grantCtx && requests.length > 0) {
            outcome.grants = await runGrants(grantCtx, outcome.label, requests);
          }
          outcome.commands = await runCommands(
            runCtx,
            outcome.label,
            outcome.argv,
            false,
          );
          if (
            outcome.commands.some((c) => !c.result.ok) ||
            outcome.grants.some((g) => !g.ok)
          ) {
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
    if (started) return { overdue: 0, scheduled: 0, interrupted: 0 };
    started = true;
    const now = clock.now();
    const all = store.pending().filter((p) => !scheduler.has(p.id));
    const interrupted = all.filter((p) => p.startedMs !== undefined);
    const pending = all.filter((p) => p.startedMs === undefined);
    if (!test) {
      for (const p of interrupted) {
        counters.actionsInterrupted++;
        logger.error(
          {
            event: "action.interrupted",
            action: p.action,
            argv: p.commands.map(escapeArgv),
            startedMs: p.startedMs,
            id: p.id,
          },
          `delayed action ${p.action} was running when knockd stopped at ${new Date(p.startedMs ?? 0).toISOString()}; not run again (at most once): check that its commands took effect`,
        );
        store.removePending(p.id);
      }
    }
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
      return {
        overdue: overdue.length,
        scheduled: later.length,
        interrupted: interrupted.length,
      };
    }
    for (const p of later) scheduler.schedule(p);
    for (const p of overdue) await track(runPending(p));
    return {
      overdue: overdue.length,
      scheduled: later.length,
      interrupted: interrupted.length,
    };
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

/** A promise chain that runs one task at a time. */
function createLock(): { run<T>(task: () => Promise<T>): Promise<T> } {
  let tail: Promise<unknown> = Promise.resolve();
  return {
    run<T>(task: () => Promise<T>): Promise<T> {
      const next = tail.then(task);
      tail = next.catch(() => undefined);
      return next;
    },
  };
}

/**
 * Records what `ops` may change (every entry under the first key of each op's path) and returns
 * the function that puts it back.
 */
function snapshotFor(store: StateStore, ops: readonly StateOp[]): () => void {
  if (ops.length === 0) return () => undefined;
  const roots = new Set(ops.map((op) => op.path[0] ?? ""));
  const before = store.entries().filter(([path]) => roots.has(path[0] ?? ""));
  return () => {
    for (const root of roots) store.delete([root]);
    for (const [path, value] of before) store.set(path, value);
  };
}
