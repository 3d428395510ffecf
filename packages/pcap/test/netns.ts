/**
 * Test network namespaces and tcpdump for the tests that need root (copied and adapted from
 * packages/knock/test/netns.ts): each test gets its own namespace with only `lo`, so its packets
 * meet nobody else's. Outside CI a missing capability skips with a printed reason; in CI
 * (CI=true) it fails, because CI must run these tests.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { onTestFinished } from "vitest";

/** Why root-only tests cannot run here, or undefined when they can. */
export function rootTestsUnavailable(
  tools: readonly string[] = ["ip", "tcpdump"],
): string | undefined {
  if (process.getuid?.() !== 0)
    return "needs root (network namespaces, packet capture)";
  for (const tool of tools) {
    if (spawnSync("sh", ["-c", `command -v ${tool}`]).status !== 0) {
      return `needs ${tool} (apt-get install ${tool === "ip" ? "iproute2" : tool})`;
    }
  }
  return undefined;
}

/** Skips (locally) or fails (in CI) when root tests cannot run; returns whether to skip. */
export function gateRootTests(tools?: readonly string[]): {
  skip: boolean;
  reason: string;
} {
  const reason = rootTestsUnavailable(tools);
  if (reason != null && process.env.CI) {
    throw new Error(
      `CI must run the root-only tests, but this machine ${reason}`,
    );
  }
  if (reason != null) console.warn(`skipping root-only tests: ${reason}`);
  return { skip: reason != null, reason: reason ?? "" };
}

function run(argv: string[]): string {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: "utf8" });
  if (r.status !== 0)
    throw new Error(
      `${argv.join(" ")} failed: ${r.stderr || r.error?.message}`,
    );
  return r.stdout;
}

/** A namespace: its name and a synchronous runner inside it. */
export interface Netns {
  name: string;
  exec: (argv: string[]) => string;
}

/** A fresh namespace with `lo` up; deleted when the test finishes. */
export function createNetns(): Netns {
  const name = `pk-${randomBytes(4).toString("hex")}`;
  run(["ip", "netns", "add", name]);
  onTestFinished(() => {
    spawnSync("ip", ["netns", "del", name]);
  });
  run(["ip", "netns", "exec", name, "ip", "link", "set", "lo", "up"]);
  return { name, exec: (argv) => run(["ip", "netns", "exec", name, ...argv]) };
}

/** A running tcpdump writing a pcap file. */
export interface PcapWriter {
  /** Stops tcpdump (SIGINT: it flushes the file) and resolves when it has exited. */
  stop(): Promise<void>;
}

/**
 * Starts tcpdump on `iface` in namespace `ns`, writing the packets that match `filter` to `file`
 * (classic pcap, microseconds); resolves once it listens.
 */
export async function startPcapWriter(
  ns: string,
  iface: string,
  filter: string,
  file: string,
): Promise<PcapWriter> {
  const child: ChildProcess = spawn(
    "ip",
    [
      "netns",
      "exec",
      ns,
      "tcpdump",
      "-i",
      iface,
      "-n",
      "--immediate-mode",
      "-U",
      "-w",
      file,
      filter,
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  await new Promise<void>((resolve, reject) => {
    let err = "";
    child.stderr!.on("data", (d: Buffer) => {
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
    async stop(): Promise<void> {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGINT");
      await exited;
    },
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
