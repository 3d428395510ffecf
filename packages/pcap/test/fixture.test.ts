/**
 * Offline replay of a committed capture (issue #7). `fixtures/knocks.pcap` was written by
 * tcpdump (no filter) on `lo` of a test namespace while the plan below ran: real SYNs to
 * 127.0.0.1 and ::1, one outside the span, a real TCP session, UDP datagrams (with the ICMP
 * port-unreachable answers they draw), a SYN injected twice (a retransmit), an IPv6 SYN with a
 * hop-by-hop header and a VLAN-tagged SYN (both injected with cap's send). Regenerate it, as
 * root, with `PCAP_MAKE_FIXTURE=1 pnpm exec vitest run --config vitest.workspace.ts --project
 * @portknock/pcap test/fixture.test.ts` (source ports and times then change: update the
 * expectations below).
 */
import { copyFileSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import type { KnockHit } from "@portknock/core";
import { createPacketHitSource } from "../src/packet-hit-source.ts";
import type { PacketSourceStats } from "../src/packet-hit-source.ts";
import { replayPcap } from "../src/replay-pcap.ts";
import { ethernet, ipv6, tcp, tcpFrame, toHex } from "./frames.ts";
import {
  createNetns,
  execIn,
  gateRootTests,
  startPcapWriter,
} from "./netns.ts";

const FIXTURE = fileURLToPath(
  new URL("./fixtures/knocks.pcap", import.meta.url),
);
const CHILD = fileURLToPath(new URL("./live-child.js", import.meta.url));
const SPAN: [number, number][] = [[1000, 1999]];

const hopByHopSyn = ethernet(
  ipv6({
    src: "2001:db8::7",
    dst: "::1",
    protocol: 6,
    extensions: [{ type: 0 }],
    payload: tcp({ srcPort: 4322, dstPort: 1006, seq: 777 }),
  }),
);
const vlanSyn = ethernet(
  tcpFrame({
    src: "192.0.2.9",
    dst: "127.0.0.1",
    srcPort: 4323,
    dstPort: 1007,
    seq: 888,
  }).subarray(14),
  [42],
);
const retransmit = tcpFrame({
  src: "10.9.8.7",
  dst: "127.0.0.1",
  srcPort: 4321,
  dstPort: 1005,
  seq: 12345,
});

const PLAN = {
  interfaces: ["lo"],
  ranges: SPAN,
  protocol: "tcp",
  markers: [1999],
  steps: [
    { tcp: { host: "127.0.0.1", port: 1001 } },
    { tcp: { host: "::1", port: 1002 } },
    { tcp: { host: "127.0.0.1", port: 3000 } },
    { udp: { host: "127.0.0.1", port: 1003 } },
    { session: { host: "127.0.0.1", port: 1004 } },
    { inject: { iface: "lo", hex: toHex(retransmit), times: 2 } },
    { inject: { iface: "lo", hex: toHex(hopByHopSyn) } },
    { inject: { iface: "lo", hex: toHex(vlanSyn) } },
    { udp: { host: "::1", port: 1008 } },
    { tcp: { host: "127.0.0.1", port: 1999 } },
  ],
};

const makeFixture = process.env.PCAP_MAKE_FIXTURE === "1";
const gate = makeFixture ? gateRootTests(["ip", "tcpdump"]) : { skip: true };

describe.skipIf(gate.skip)(
  "making fixtures/knocks.pcap (PCAP_MAKE_FIXTURE=1, root)",
  () => {
    it("captures the plan with tcpdump", async () => {
      const ns = createNetns();
      const dir = mkdtempSync(join(tmpdir(), "pk-fixture-"));
      try {
        const file = join(dir, "knocks.pcap");
        const writer = await startPcapWriter(ns.name, "lo", "", file);
        const r = await execIn(ns.name, [
          process.execPath,
          CHILD,
          JSON.stringify(PLAN),
        ]);
        expect(r.code, r.stderr).toBe(0);
        await writer.stop();
        copyFileSync(file, FIXTURE);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  },
);

async function replay(
  protocol: "tcp" | "udp",
): Promise<{ hits: KnockHit[]; stats: PacketSourceStats }> {
  const source = createPacketHitSource({
    file: FIXTURE,
    ranges: SPAN,
    protocol,
  });
  const hits: KnockHit[] = [];
  for await (const hit of source) hits.push(hit);
  return { hits, stats: source.stats };
}

const summary = (h: KnockHit): [string, number, string | undefined] => [
  h.srcIp,
  h.dstPort,
  h.protocol,
];

describe.skipIf(makeFixture)("replaying fixtures/knocks.pcap", () => {
  it("is a small classic pcap file of lo (Ethernet)", async () => {
    expect(existsSync(FIXTURE)).toBe(true);
    const capture = replayPcap(FIXTURE);
    let n = 0;
    for await (const _ of capture) n++;
    expect(capture.linkTypes.get(FIXTURE)).toBe("ethernet");
    expect(n).toBe(capture.stats.decoded);
  });

  it("TCP: the SYNs of the span in order (the retransmit too: the detector drops it), everything else filtered", async () => {
    const { hits, stats } = await replay("tcp");
    expect(hits.map(summary)).toEqual([
      ["127.0.0.1", 1001, "tcp"],
      ["::1", 1002, "tcp"],
      ["127.0.0.1", 1004, "tcp"],
      ["10.9.8.7", 1005, "tcp"],
      ["10.9.8.7", 1005, "tcp"], // the kernel's retransmit of the SYN
      ["2001:db8::7", 1006, "tcp"], // behind a hop-by-hop header
      ["192.0.2.9", 1007, "tcp"], // VLAN 42
      ["127.0.0.1", 1999, "tcp"],
    ]);
    // Record numbers and source ports as `tcpdump -r` lists them.
    expect(
      hits.map((h) => [h.origin.slice(h.origin.lastIndexOf("#")), h.srcPort]),
    ).toEqual([
      ["#1", 55388],
      ["#3", 36220],
      ["#9", 36210],
      ["#17", 4321],
      ["#18", 4321],
      ["#19", 4322],
      ["#20", 4323],
      ["#23", 52642],
    ]);
    expect(hits[0]?.timeMs).toBe(
      Date.parse("2026-11-25T09:41:42.436Z") + 0.421,
    );
    expect(hits.every((h) => h.origin.startsWith(`pcap ${FIXTURE} #`))).toBe(
      true,
    );
    expect(hits.every((h) => h.iface === undefined)).toBe(true);
    expect(stats.notInSpan).toBeGreaterThan(5);
    expect(stats.capture.rejections.FRAME_UNSUPPORTED_PROTOCOL).toBeGreaterThan(
      0,
    ); // ICMP
    expect(stats.capture.seen).toBe(
      stats.capture.decoded +
        Object.values(stats.capture.rejections).reduce((a, b) => a + b, 0),
    );
  });

  it("UDP: the datagrams of the span", async () => {
    const { hits } = await replay("udp");
    expect(hits.map(summary)).toEqual([
      ["127.0.0.1", 1003, "udp"],
      ["::1", 1008, "udp"],
    ]);
  });
});
