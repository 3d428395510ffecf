/**
 * Test network namespaces and tcpdump for the tests that need root: each test gets its own namespace with only `lo`, so its packets
 * meet nobody else's. Outside CI a missing capability skips with a printed reason; in CI
 * (CI=true) it fails, because CI must run these tests.
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
  const dump = await spawnTcpdump(ns, [
    "-i",
    iface,
    "-n",
    "--immediate-mode",
    "-U",
    "-w",
    file,
    filter,
  ]);
  return { stop: () => dump.stop() };
}
