/**
 * Running the firewall tools: an argument vector, never a shell, with an optional stdin (an
 * `nft -f -` script, an `iptables-restore` batch), a timeout and bounded output. `spawnArgv` is
 * the real `RunArgv`; tests wrap it (`["ip", "netns", "exec", ns, ...argv]`) to act inside a
 * network namespace of their own.
 */
import { spawn } from "node:child_process";

/** Per-run options. */
export interface RunArgvOptions {
  /** Written to the command's stdin, which is then closed; without it stdin is `/dev/null`. */
  input?: string;
  /** Kill the command (SIGKILL) after this many ms. */
  timeoutMs: number;
}

/** What one command did. It never rejects: a command that cannot start sets `error`. */
export interface RunArgvResult {
  /** Exit code, or null when killed or never started. */
  exitCode: number | null;
  /** The signal that ended it, or null. */
  signal: string | null;
  /** It ran longer than `timeoutMs` and was killed. */
  timedOut: boolean;
  /** Output, UTF-8, each at most 16 MiB (a listing of a full set is a few MiB). */
  stdout: string;
  stderr: string;
  /** Why it could not start (`ENOENT`, `EACCES`, …). */
  error?: { code: string; message: string };
}

/** Runs one argv; resolves with what happened, never rejects. */
export type RunArgv = (
  argv: readonly string[],
  options: RunArgvOptions,
) => Promise<RunArgvResult>;

const MAX_OUTPUT_BYTES = 16 * 1024 * 1024;

/**
 * The real `RunArgv`: `child_process.spawn` with `shell: false`, stdin from `input`, stdout and
 * stderr captured (bounded), SIGKILL after `timeoutMs`, the daemon's environment with
 * `LC_ALL=C`. Tools are found through `PATH` (root's includes `/usr/sbin`).
 */
export function spawnArgv(): RunArgv {
  return (argv, options) =>
    new Promise<RunArgvResult>((resolve) => {
      const out: Buffer[][] = [[], []];
      const size = [0, 0];
      let timedOut = false;
      let settled = false;
      const timer: { handle?: ReturnType<typeof setTimeout> } = {};
      const finish = (
        exitCode: number | null,
        signal: string | null,
        error?: { code: string; message: string },
      ): void => {
        if (settled) return;
        settled = true;
        if (timer.handle !== undefined) clearTimeout(timer.handle);
        resolve({
          exitCode,
          signal,
          timedOut,
          stdout: Buffer.concat(out[0]!).toString("utf8"),
          stderr: Buffer.concat(out[1]!).toString("utf8"),
          ...(error ? { error } : {}),
        });
      };
      const [file, ...args] = argv;
      if (file == null || file === "") {
        finish(null, null, { code: "EINVAL", message: "empty argv" });
        return;
      }
      let child: ReturnType<typeof spawn>;
      try {
        child = spawn(file, args, {
          shell: false,
          stdio: [options.input != null ? "pipe" : "ignore", "pipe", "pipe"],
          // The C locale: the tools' messages (read back, e.g. "No such file or directory")
          // are the untranslated ones.
          env: { ...process.env, LC_ALL: "C" },
        });
      } catch (error) {
        finish(null, null, errorInfo(error));
        return;
      }
      const collect =
        (which: 0 | 1) =>
        (chunk: Buffer): void => {
          const room = MAX_OUTPUT_BYTES - size[which]!;
          if (room <= 0) return;
          const kept = chunk.length > room ? chunk.subarray(0, room) : chunk;
          out[which]!.push(kept);
          size[which]! += kept.length;
        };
      child.stdout?.on("data", collect(0));
      child.stderr?.on("data", collect(1));
      timer.handle = setTimeout(() => {
        timedOut = true;
        child.kill("SIGKILL");
      }, options.timeoutMs);
      child.on("error", (error) => finish(null, null, errorInfo(error)));
      child.on("close", (code, signal) => finish(code, signal));
      if (options.input != null && child.stdin != null) {
        // EPIPE when the tool exits before reading everything: its exit status tells why.
        child.stdin.on("error", () => {});
        child.stdin.end(options.input);
      }
    });
}

function errorInfo(error: unknown): { code: string; message: string } {
  const e = error as NodeJS.ErrnoException;
  return {
    code: typeof e?.code === "string" ? e.code : "ERROR",
    message: e instanceof Error ? e.message : String(error),
  };
}
