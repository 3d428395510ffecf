/**
 * Test network namespaces and packet capture for the tests that need root: each test gets its own
 * namespace with only `lo`, so its packets meet nobody else's. Outside CI a missing capability
 * skips with a printed reason; in CI (CI=true) it fails, because CI must run these tests.
 */
import { spawnTcpdump } from "@portknock/test-utils";

// The namespace core is shared by every package's root-only tests.
export {
  createNetns,
  execIn,
  gateRootTests,
  rootTestsUnavailable,
} from "@portknock/test-utils";
export type { Netns } from "@portknock/test-utils";

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
  const dump = await spawnTcpdump(ns, [
    "-i",
    "lo",
    "-n",
    "-l",
    "--immediate-mode",
    "-tt",
    filter,
  ]);
  let out = "";
  dump.child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  return {
    async stop(): Promise<Captured[]> {
      await dump.stop();
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

/** tcpdump -vv on `lo` (checksums verified); `stop()` resolves with its text output. */
export async function startVerboseCapture(
  ns: string,
  filter: string,
): Promise<{ stop(): Promise<string> }> {
  const dump = await spawnTcpdump(ns, [
    "-i",
    "lo",
    "-n",
    "-l",
    "-vv",
    "--immediate-mode",
    filter,
  ]);
  let out = "";
  dump.child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  return {
    async stop(): Promise<string> {
      await dump.stop();
      // -vv prints the IP header on one line and TCP on the next: join them per packet.
      return out.replace(/\n\s+/g, " ");
    },
  };
}
