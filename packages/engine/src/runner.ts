/**
 * Running commands (spec: daemon.md §5): an argument vector, never a shell. `spawnRunner` is the
 * real implementation of `RunCommand`; it never rejects: every failure is a `RunResult`.
 */
import { spawn } from "node:child_process";
import type { Timers } from "@portknock/core";
import { systemTimers } from "@portknock/core";

/** Per-run options. */
export interface RunOptions {
  /** Kill the command after this many ms. */
  timeoutMs: number;
}

/** What happened to one command. */
export interface RunResult {
  /** Exit code 0, no signal, no spawn error, no timeout. */
  ok: boolean;
  /** Exit code, or null when killed by a signal or never started. */
  exitCode: number | null;
  /** Signal that ended it (`SIGTERM`, `SIGKILL`…), or null. */
  signal: string | null;
  /** Wall time from spawn to exit, in ms. */
  durationMs: number;
  /** It ran longer than `timeoutMs` and was killed. */
  timedOut: boolean;
  /** Captured output (UTF-8, at most `maxOutputBytes` each; see `outputTruncated`). */
  stdout: string;
  stderr: string;
  outputTruncated: boolean;
  /** Why it could not start (`ENOENT`, `EACCES`, …). */
  error?: { code: string; message: string };
}

/** Runs one argv; resolves with what happened, never rejects. */
export type RunCommand = (
  argv: readonly string[],
  options: RunOptions,
) => Promise<RunResult>;

/** Options of `spawnRunner`. */
export interface SpawnRunnerOptions {
  /** Most bytes kept of stdout and of stderr each. Default 64 KiB. */
  maxOutputBytes?: number;
  /** After a timeout, SIGTERM first, then SIGKILL this many ms later. Default 2000. */
  killGraceMs?: number;
  /** Environment of the commands. Default: the daemon's own. */
  env?: NodeJS.ProcessEnv;
  /** Working directory. Default: the daemon's own. */
  cwd?: string;
  /** Timers for the timeout (default `systemTimers`, so fake timers apply). */
  timers?: Timers;
}

/**
 * A `RunCommand` using `child_process.spawn` without a shell: stdin is `/dev/null`, stdout and
 * stderr are captured (bounded), and a command still running after `timeoutMs` is sent SIGTERM,
 * then SIGKILL after `killGraceMs`, together with its process group (so `sh -c 'sleep 99'`
 * grandchildren die too).
 */
export function spawnRunner(options: SpawnRunnerOptions = {}): RunCommand {
  const maxBytes = options.maxOutputBytes ?? 64 * 1024;
  const graceMs = options.killGraceMs ?? 2000;
  const timers = options.timers ?? systemTimers;
  if (!(maxBytes >= 0) || !(graceMs >= 0)) {
    throw new RangeError(
      `maxOutputBytes and killGraceMs must be ≥ 0, got ${maxBytes} and ${graceMs}`,
    );
  }
  return (argv, runOptions) =>
    new Promise<RunResult>((resolve) => {
      const started = performance.now();
      const out = {
        stdout: [] as Buffer[],
        stderr: [] as Buffer[],
        size: [0, 0],
        truncated: false,
      };
      let timedOut = false;
      let settled = false;
      const handles: unknown[] = [];
      const finish = (partial: Partial<RunResult>): void => {
        if (settled) return;
        settled = true;
        for (const h of handles) timers.clearTimeout(h);
        const exitCode = partial.exitCode ?? null;
        const signal = partial.signal ?? null;
        resolve({
          ok:
            exitCode === 0 &&
            signal === null &&
            !timedOut &&
            partial.error == null,
          exitCode,
          signal,
          durationMs: Math.round(performance.now() - started),
          timedOut,
          stdout: Buffer.concat(out.stdout).toString("utf8"),
          stderr: Buffer.concat(out.stderr).toString("utf8"),
          outputTruncated: out.truncated,
          ...(partial.error ? { error: partial.error } : {}),
        });
      };
      const [file, ...args] = argv;
      if (file == null || file === "") {
        finish({ error: { code: "EINVAL", message: "empty argv" } });
        return;
      }
      let child: ReturnType<typeof spawn>;
      try {
        child = spawn(file, args, {
          shell: false,
          stdio: ["ignore", "pipe", "pipe"],
          detached: true, // own process group, so a timeout kills the whole tree
          env: options.env ?? process.env,
          ...(options.cwd != null ? { cwd: options.cwd } : {}),
        });
      } catch (error) {
        finish({ error: errorInfo(error) });
        return;
      }
      const collect = (which: 0 | 1) => (chunk: Buffer) => {
        const room = maxBytes - (out.size[which] ?? 0);
        if (chunk.length > room) out.truncated = true;
        if (room <= 0) return;
        const kept = chunk.length > room ? chunk.subarray(0, room) : chunk;
        (which === 0 ? out.stdout : out.stderr).push(kept);
        out.size[which] = (out.size[which] ?? 0) + kept.length;
      };
      child.stdout?.on("data", collect(0));
      child.stderr?.on("data", collect(1));
      const killGroup = (signal: NodeJS.Signals): void => {
        try {
          if (child.pid != null) process.kill(-child.pid, signal);
        } catch {
          child.kill(signal); // the group is gone; try the child itself
        }
      };
      handles.push(
        timers.setTimeout(() => {
          if (settled) return;
          timedOut = true;
          killGroup("SIGTERM");
          handles.push(
            timers.setTimeout(() => {
              if (!settled) killGroup("SIGKILL");
            }, graceMs),
          );
        }, runOptions.timeoutMs),
      );
      child.on("error", (error) => finish({ error: errorInfo(error) }));
      child.on("close", (code, signal) => finish({ exitCode: code, signal }));
    });
}

function errorInfo(error: unknown): { code: string; message: string } {
  const e = error as NodeJS.ErrnoException;
  return {
    code: typeof e?.code === "string" ? e.code : "ERROR",
    message: e instanceof Error ? e.message : String(error),
  };
}
