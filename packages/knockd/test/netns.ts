/**
 * Test network namespaces for knockd's root-only tests (copied and extended from
 * packages/knock/test/netns.ts): each test gets its own namespace with only `lo`, so its packets,
 * firewall rules and NFLOG groups meet nobody else's. Outside CI a missing capability skips with a
 * printed reason; in CI (CI=true) it fails, because CI must run these tests.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { onTestFinished } from "vitest";
import { KNOCKD } from "./helpers.ts";

/** The Debian package that ships a tool, for the skip message. */
const PACKAGE: Record<string, string> = {
  ip: "iproute2",
  iptables: "iptables",
  ip6tables: "iptables",
  nft: "nftables",
  ulogd: "ulogd2",
  tcpdump: "tcpdump",
};

/** Why root-only tests cannot run here, or undefined when they can. */
export function rootTestsUnavailable(
  tools: readonly string[] = ["ip"],
): string | undefined {
  if (process.getuid?.() !== 0)
    return "needs root (network namespaces, firewall rules)";
  for (const tool of tools) {
    if (spawnSync("sh", ["-c", `command -v ${tool}`]).status !== 0) {
      return `needs ${tool} (apt-get install ${PACKAGE[tool] ?? tool})`;
    }
  }
  return undefined;
}

/**
 * Skips (locally) or fails (in CI) when root tests cannot run; returns whether to skip. `extra`
 * adds a reason found by the caller (a missing plugin directory, say).
 */
export function gateRootTests(
  tools?: readonly string[],
  extra?: () => string | undefined,
): { skip: boolean; reason: string } {
  const reason = rootTestsUnavailable(tools) ?? extra?.();
  if (reason != null && process.env.CI) {
    throw new Error(
      `CI must run the root-only tests, but this machine ${reason}`,
    );
  }
  if (reason != null) console.warn(`skipping root-only tests: ${reason}`);
  return { skip: reason != null, reason: reason ?? "" };
}

function run(argv: string[], input?: string): string {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: "utf8", input });
  if (r.status !== 0)
    throw new Error(
      `${argv.join(" ")} failed: ${r.stderr || r.error?.message}`,
    );
  return r.stdout;
}

/** A namespace: its name and a synchronous runner (optionally with stdin) inside it. */
export interface Netns {
  name: string;
  exec: (argv: string[], input?: string) => string;
}

/** A fresh namespace with `lo` up; deleted when the test finishes. */
export function createNetns(): Netns {
  const name = `pk-${randomBytes(4).toString("hex")}`;
  run(["ip", "netns", "add", name]);
  onTestFinished(() => {
    spawnSync("ip", ["netns", "del", name]);
  });
  run(["ip", "netns", "exec", name, "ip", "link", "set", "lo", "up"]);
  return {
    name,
    exec: (argv, input) => run(["ip", "netns", "exec", name, ...argv], input),
  };
}

/** Runs a command inside the namespace and resolves with its exit code and output. */
export function execIn(
  ns: string,
  argv: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn("ip", ["netns", "exec", ns, ...argv], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

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
