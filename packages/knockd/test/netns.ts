/**
 * Test network namespaces for knockd's root-only tests (copied and extended from
 * packages/knock/test/netns.ts): each test gets its own namespace with only `lo`, so its packets,
 * firewall rules and NFLOG groups meet nobody else's. Outside CI a missing capability skips with a
 * printed reason; in CI (CI=true) it fails, because CI must run these tests.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { onTestFinished } from "vitest";
import { KNOCKD } from "./helpers.ts";

// The namespace core is shared by every package's root-only tests.
export {
  createNetns,
  execIn,
  gateRootTests,
  rootTestsUnavailable,
} from "@portknock/test-utils";
export type { Netns } from "@portknock/test-utils";

/** A long-running process inside a namespace whose stderr lines can be awaited. */
export interface NsProcess {
  child: ChildProcess;
  stderr(): string;
  /** Resolves with the first stderr line matching `re` after `from` (default: any so far). */
  waitForLine(re: RegExp, timeoutMs?: number, from?: number): Promise<string>;
  /** Sends a signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Starts `argv` inside namespace `ns` in the foreground. `ip netns exec` execs the command in
 * place (no fork outside batch mode), so the child's pid is the command's own: signals reach it.
 * Killed (SIGKILL) when the test finishes if still running.
 */
export function spawnIn(ns: string, argv: string[]): NsProcess {
  const child = spawn("ip", ["netns", "exec", ns, ...argv], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let err = "";
  const waiters: Array<() => void> = [];
  const wake = (): void => {
    for (const w of waiters.splice(0)) w();
  };
  child.stderr.on("data", (d: Buffer) => {
    err += d.toString();
    wake();
  });
  child.stdout.resume();
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => {
      wake();
      resolve(code);
    }),
  );
  onTestFinished(async () => {
    if (child.exitCode == null && child.signalCode == null) {
      child.kill("SIGKILL");
      await exited;
    }
  });
  return {
    child,
    stderr: () => err,
    waitForLine(re, timeoutMs = 10_000, from = 0): Promise<string> {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(
              new Error(
                `${argv[0]}: no line matching ${re} within ${timeoutMs} ms; stderr:\n${err}`,
              ),
            ),
          timeoutMs,
        );
        const check = (): void => {
          const line = err
            .slice(from)
            .split("\n")
            .find((l) => re.test(l));
          if (line != null) {
            clearTimeout(timer);
            resolve(line);
          } else if (child.exitCode != null || child.signalCode != null) {
            clearTimeout(timer);
            reject(
              new Error(
                `${argv[0]} exited ${child.exitCode ?? child.signalCode} before a line matching ${re}; stderr:\n${err}`,
              ),
            );
          } else {
            waiters.push(check);
          }
        };
        check();
      });
    },
    async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<number | null> {
      if (child.exitCode == null && child.signalCode == null)
        child.kill(signal);
      return exited;
    },
  };
}

/** Spawns the built `knockd` inside namespace `ns` and waits for its `ready` line. */
export async function spawnDaemonIn(
  ns: string,
  args: string[],
): Promise<NsProcess> {
  const daemon = spawnIn(ns, [process.execPath, KNOCKD, ...args]);
  await daemon.waitForLine(/\bready\b/);
  return daemon;
}
