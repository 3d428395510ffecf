/**
 * Test network namespaces and packet capture for the tests that need root: each test gets its own
 * namespace with only `lo`, so its packets meet nobody else's. Outside CI a missing capability
 * skips with a printed reason; in CI (CI=true) it fails, because CI must run these tests.
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

/** A fresh namespace with `lo` up; deleted when the test finishes. */
export function createNetns(): {
  name: string;
  exec: (argv: string[]) => string;
} {
  const name = `pk-${randomBytes(4).toString("hex")}`;
  run(["ip", "netns", "add", name]);
  onTestFinished(() => {
    spawnSync("ip", ["netns", "del", name]);
  });
  run(["ip", "netns", "exec", name, "ip", "link", "set", "lo", "up"]);
  return { name, exec: (argv) => run(["ip", "netns", "exec", name, ...argv]) };
}

/** One captured packet. */
export interface Captured {
  family: 4 | 6;
  proto: "tcp" | "udp";
  srcPort: number;
  dstPort: number;
  syn: boolean;
}

/** A running tcpdump on `lo` inside a namespace. */
export interface Capture {
  stop(): Promise<Captured[]>;
}

/** Starts tcpdump on `lo` in namespace `ns` with a BPF `filter`; resolves once it listens. */
export async function startCapture(
  ns: string,
  filter: string,
): Promise<Capture> {
  const child: ChildProcess = spawn(
    "ip",
    [
      "netns",
      "exec",
      ns,
      "tcpdump",
      "-i",
      "lo",
      "-n",
      "-l",
      "--immediate-mode",
      "-tt",
      filter,
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let out = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
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
    async stop(): Promise<Captured[]> {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGINT");
      await exited;
      return parseTcpdump(out);
    },
  };
}

// 1700000000.123456 IP 127.0.0.1.40000 > 127.0.0.1.1000: Flags [S], seq 1, …
// 1700000000.123456 IP6 ::1.40000 > ::1.1000: UDP, length 0
const LINE = /^\S+ (IP6?) (\S+)\.(\d+) > (\S+)\.(\d+): (.*)$/;

function parseTcpdump(text: string): Captured[] {
  const out: Captured[] = [];
  for (const line of text.split("\n")) {
    const m = LINE.exec(line);
    if (m == null) continue;
    const rest = m[6]!;
    const udp = rest.startsWith("UDP");
    out.push({
      family: m[1] === "IP6" ? 6 : 4,
      proto: udp ? "udp" : "tcp",
      srcPort: Number(m[3]),
      dstPort: Number(m[5]),
      syn: !udp && /Flags \[S\]/.test(rest),
    });
  }
  return out;
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

/** tcpdump -vv on `lo` (checksums verified); `stop()` resolves with its text output. */
export async function startVerboseCapture(
  ns: string,
  filter: string,
): Promise<{ stop(): Promise<string> }> {
  const child = spawn(
    "ip",
    [
      "netns",
      "exec",
      ns,
      "tcpdump",
      "-i",
      "lo",
      "-n",
      "-l",
      "-vv",
      "--immediate-mode",
      filter,
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
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
    async stop(): Promise<string> {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGINT");
      await exited;
      // -vv prints the IP header on one line and TCP on the next: join them per packet.
      return out.replace(/\n\s+/g, " ");
    },
  };
}
