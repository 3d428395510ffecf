/**
 * Test network namespaces for the root-only tests of every package: each test gets its own
 * namespace with only `lo`, so its packets, firewall rules and NFLOG groups meet nobody else's.
 * Outside CI a missing capability skips with a printed reason; in CI (CI=true) it fails, because
 * CI must run these tests.
 */
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { onTestFinished } from "vitest";

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
