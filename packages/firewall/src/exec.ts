/**
 * A firewall command run through a `RunArgv`, its failure turned into a `FirewallError` that
 * names the tool's own message (issue #17: every failure names the backend's message).
 */
import { escapeInput } from "@portknock/core";
import { FirewallError } from "./errors.ts";
import type { RunArgv, RunArgvResult } from "./run-argv.ts";

/** Runs firewall commands: `check` throws on failure, `probe` reports. */
export interface Exec {
  /** Runs `argv` (stdin `input`); resolves with its stdout, or throws `FIREWALL_COMMAND_*`. */
  check(argv: readonly string[], input?: string): Promise<string>;
  /** Runs `argv` and resolves with what happened, whatever its exit status; throws `FIREWALL_COMMAND_SPAWN`/`_TIMEOUT`. */
  probe(argv: readonly string[], input?: string): Promise<RunArgvResult>;
}

/** Longest stderr kept in a message, in characters. */
const MAX_STDERR = 600;

/** An `Exec` over `run` with a per-command timeout. */
export function createExec(run: RunArgv, timeoutMs: number): Exec {
  const start = async (
    argv: readonly string[],
    input: string | undefined,
  ): Promise<RunArgvResult> => {
    const result = await run(argv, {
      timeoutMs,
      ...(input != null ? { input } : {}),
    });
    if (result.error != null) {
      throw failure(
        "FIREWALL_COMMAND_SPAWN",
        argv,
        result,
        `cannot run ${argv[0]}: ${result.error.code} (${result.error.message})`,
      );
    }
    if (result.timedOut) {
      throw failure(
        "FIREWALL_COMMAND_TIMEOUT",
        argv,
        result,
        `${describe(argv)} did not finish within ${timeoutMs} ms and was killed`,
      );
    }
    return result;
  };
  return {
    async check(argv, input) {
      const result = await start(argv, input);
      if (result.exitCode !== 0) throw commandFailed(argv, result);
      return result.stdout;
    },
    probe: start,
  };
}

/** The `FIREWALL_COMMAND_FAILED` error of a command that exited non-zero or was killed. */
export function commandFailed(
  argv: readonly string[],
  result: RunArgvResult,
): FirewallError {
  const status =
    result.signal != null
      ? `killed by ${result.signal}`
      : `exit ${result.exitCode}`;
  const said = result.stderr.trim() || result.stdout.trim();
  return failure(
    "FIREWALL_COMMAND_FAILED",
    argv,
    result,
    `${describe(argv)} failed (${status}): ${said === "" ? "no message" : escapeInput(said, MAX_STDERR)}`,
  );
}

/** A `FIREWALL_BAD_OUTPUT` error for a listing of `argv` that does not read as expected. */
export function badOutput(argv: readonly string[], why: string): FirewallError {
  return new FirewallError(
    "FIREWALL_BAD_OUTPUT",
    `${describe(argv)}: unexpected output: ${why}`,
    { command: { argv, exitCode: 0, signal: null, stderr: "" } },
  );
}

function failure(
  code:
    | "FIREWALL_COMMAND_SPAWN"
    | "FIREWALL_COMMAND_TIMEOUT"
    | "FIREWALL_COMMAND_FAILED",
  argv: readonly string[],
  result: RunArgvResult,
  message: string,
): FirewallError {
  return new FirewallError(code, message, {
    command: {
      argv,
      exitCode: result.exitCode,
      signal: result.signal,
      stderr: result.stderr.slice(0, MAX_STDERR * 4),
    },
  });
}

/** The command for a message: the tool and its first words (a script goes by stdin). */
function describe(argv: readonly string[]): string {
  return escapeInput(argv.slice(0, 8).join(" "), 120);
}
