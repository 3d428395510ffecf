/**
 * Runs an action's commands in order, logging and counting each (spec: daemon.md §5, §8). A
 * failing or missing command never stops the engine: the next command still runs.
 */
import type { Logger } from "@portknock/core";
import type { CommandOutcome, EngineCounters } from "./engine-types.ts";
import type { CommandFailureCode } from "./errors.ts";
import { escapeArgv, escapeInput } from "@portknock/core";
import type { RunCommand, RunResult } from "./runner.ts";

/** What running needs. */
export interface RunContext {
  run: RunCommand;
  timeoutMs: number;
  logger: Logger;
  counters: EngineCounters;
}

/** The failure code of a result that is not ok. */
export function failureCode(result: RunResult): CommandFailureCode {
  if (result.timedOut) return "ENGINE_COMMAND_TIMEOUT";
  if (result.error != null) return "ENGINE_COMMAND_SPAWN";
  if (result.signal != null) return "ENGINE_COMMAND_SIGNAL";
  return "ENGINE_COMMAND_EXIT";
}

async function runSafely(ctx: RunContext, argv: string[]): Promise<RunResult> {
  try {
    return await ctx.run(argv, { timeoutMs: ctx.timeoutMs });
  } catch (error) {
    // An injected runner should never reject; if it does, it is a failed command, not a crash.
    const message = error instanceof Error ? error.message : String(error);
    return {
      ok: false,
      exitCode: null,
      signal: null,
      durationMs: 0,
      timedOut: false,
      stdout: "",
      stderr: "",
      outputTruncated: false,
      error: { code: "ERUNNER", message },
    };
  }
}

/** Runs `commands` one after the other; `label` names the action in logs. */
export async function runCommands(
  ctx: RunContext,
  label: string,
  commands: readonly string[][],
  delayed: boolean,
): Promise<CommandOutcome[]> {
  const outcomes: CommandOutcome[] = [];
  for (const argv of commands) {
    const fields = { action: label, argv: escapeArgv(argv), delayed };
    ctx.logger.info({ event: "action.started", ...fields }, "running command");
    ctx.counters.commandsRun++;
    const result = await runSafely(ctx, argv);
    const detail = {
      ...fields,
      exit: result.exitCode,
      signal: result.signal,
      ms: result.durationMs,
      ...(result.stdout ? { stdout: escapeInput(result.stdout, 2000) } : {}),
      ...(result.stderr ? { stderr: escapeInput(result.stderr, 2000) } : {}),
    };
    if (result.ok) {
      ctx.logger.info(
        { event: "action.finished", ...detail },
        "command finished",
      );
      outcomes.push({ argv, result });
      continue;
    }
    const code = failureCode(result);
    ctx.counters.commandsFailed++;
    ctx.counters.failed[code] = (ctx.counters.failed[code] ?? 0) + 1;
    ctx.logger.error(
      {
        event: "action.failed",
        code,
        ...detail,
        timedOut: result.timedOut,
        ...(result.error
          ? {
              error: escapeInput(
                `${result.error.code}: ${result.error.message}`,
              ),
            }
          : {}),
      },
      "command failed",
    );
    outcomes.push({ argv, result, code });
  }
  return outcomes;
}

/** Zeroed engine counters. */
export function createCounters(): EngineCounters {
  return {
    knocksAccepted: 0,
    actionsMatched: 0,
    actionsRun: 0,
    actionsFailed: 0,
    actionsScheduled: 0,
    actionsRefused: 0,
    actionsInterrupted: 0,
    knocksNotDurable: 0,
    commandsRun: 0,
    commandsFailed: 0,
    grantsRun: 0,
    grantsFailed: 0,
    stateChanges: 0,
    refused: {},
    failed: {},
  };
}
