/**
 * tcpdump inside a test network namespace, for the tests that look at what reaches the wire.
 */
import { spawn } from "node:child_process";
import type { ChildProcessByStdio } from "node:child_process";
import type { Readable } from "node:stream";
import { onTestFinished } from "vitest";

/** A running tcpdump: its process, and `stop()` (SIGINT, so it flushes; resolves on exit). */
export interface Tcpdump {
  child: ChildProcessByStdio<null, Readable, Readable>;
  stop(): Promise<void>;
}

/**
 * Starts `tcpdump ...args` in namespace `ns` and resolves once it listens (rejects with its
 * stderr if it exits first). It is killed when the test ends, if still running.
 */
export async function spawnTcpdump(
  ns: string,
  args: readonly string[],
): Promise<Tcpdump> {
  const child = spawn("ip", ["netns", "exec", ns, "tcpdump", ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  await new Promise<void>((resolve, reject) => {
    let err = "";
    child.stderr.on("data", (d: Buffer) => {
      err += d.toString();
      if (err.includes("listening on")) resolve();
    });
    child.once("exit", (code) =>
      reject(new Error(`tcpdump exited ${code}: ${err}`)),
    );
  });
  onTestFinished(() => {
    child.kill("SIGKILL");
  });
  return {
    child,
    async stop(): Promise<void> {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGINT");
      await exited;
    },
  };
}
