/**
 * Live capture on real packets (issue #7): inside a fresh network namespace, the built package
 * captures on `lo` (and a veth, and `any`) while the kernel sends real SYNs and datagrams
 * (`net.connect` to closed ports, a real TCP session, `dgram`), and frames are injected with
 * the addon's `send` (pcap_inject). `stats.capture.seen` counts every frame libpcap delivers, so
 * it proves that what the kernel filter should drop never reaches JavaScript; libpcap's own
 * `received` counter agrees.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it, onTestFinished } from "vitest";
import type { KnockHit } from "@portknock/core";
import { buildBpfFilter, ipv6ExtensionBranch } from "../src/bpf-filter.ts";
import { createPacketHitSource } from "../src/packet-hit-source.ts";
import type { PacketSourceStats } from "../src/packet-hit-source.ts";
import type { PcapStats } from "../src/pcap-stats.ts";
import { ethernet, ipv6, tcp, tcpFrame, toHex } from "./frames.ts";
import {
  createNetns,
  execIn,
  gateRootTests,
  startPcapWriter,
} from "./netns.ts";

const gate = gateRootTests(["ip", "tcpdump"]);
const CHILD = fileURLToPath(new URL("./live-child.js", import.meta.url));
const DIST = fileURLToPath(new URL("../dist/index.js", import.meta.url));
const SPAN: [number, number][] = [[1000, 1999]];
const MARKER = 1999;

interface Plan {
  interfaces: string[];
  ranges: [number, number][];
  protocol: "tcp" | "udp";
  ethfilter?: Record<string, string>;
  destinations?: "local" | "any";
  markers: number[];
  /** Hits through `onHit` and `onColumns` instead of the iterator. */
  columns?: boolean;
  steps: (
    | { tcp: { host: string; port: number } }
    | { session: { host: string; port: number } }
    | { udp: { host: string; port: number } }
    | { inject: { iface: string; hex: string; times?: number } }
  )[];
}

interface ChildResult {
  lanes: string[];
  mismatches: string[];
  bpfFilter: string;
  hits: KnockHit[];
  stats: PacketSourceStats;
  pcap: PcapStats;
  timedOut: boolean;
}

async function runChild(ns: string, plan: Plan): Promise<ChildResult> {
  expect(
    existsSync(DIST),
    "the live tests run the built package: pnpm build",
  ).toBe(true);
  const r = await execIn(ns, [process.execPath, CHILD, JSON.stringify(plan)]);
  expect(r.code, r.stderr).toBe(0);
  const result = JSON.parse(r.stdout) as ChildResult;
  expect(result.timedOut).toBe(false);
  return result;
}

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "pk-pcap-"));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const summary = (h: KnockHit): [string, number, string | undefined, string] => [
  h.srcIp,
  h.dstPort,
  h.protocol,
  h.origin,
];

describe.skipIf(gate.skip)("live capture in a test namespace (root)", () => {
  it("TCP on lo: SYNs to 127.0.0.1 and ::1 in order; nothing else reaches JavaScript; a retransmitted SYN counts once; the same capture replayed from tcpdump's file gives the same hits", async () => {
    const ns = createNetns();
    const dir = tempDir();
    const file = join(dir, "live.pcap");
    const filter = buildBpfFilter({ ranges: SPAN, protocol: "tcp" });
    const writer = await startPcapWriter(ns.name, "lo", filter, file);
    const retransmit = tcpFrame({
      src: "10.9.8.7",
      dst: "127.0.0.1",
      srcPort: 4321,
      dstPort: 1005,
      seq: 12345,
    });
    const live = await runChild(ns.name, {
      interfaces: ["lo"],
      ranges: SPAN,
      protocol: "tcp",
      markers: [MARKER],
      steps: [
        { tcp: { host: "127.0.0.1", port: 1001 } },
        { tcp: { host: "::1", port: 1002 } },
        { tcp: { host: "127.0.0.1", port: 3000 } }, // outside the span
        { udp: { host: "127.0.0.1", port: 1003 } }, // UDP when filtering TCP
        { session: { host: "127.0.0.1", port: 1004 } }, // SYN, then ACKs and data to 1004
        { inject: { iface: "lo", hex: toHex(retransmit), times: 2 } },
        { tcp: { host: "127.0.0.1", port: MARKER } },
      ],
    });
    expect(live.bpfFilter).toBe(filter);
    expect(live.hits.map(summary)).toEqual([
      ["127.0.0.1", 1001, "tcp", "pcap lo #1"],
      ["::1", 1002, "tcp", "pcap lo #2"],
      ["127.0.0.1", 1004, "tcp", "pcap lo #3"],
      ["10.9.8.7", 1005, "tcp", "pcap lo #4"],
      // The retransmit is a hit too: the detector drops it (one rule for both modes, #14).
      ["10.9.8.7", 1005, "tcp", "pcap lo #5"],
      ["127.0.0.1", MARKER, "tcp", "pcap lo #6"],
    ]);
    expect(live.hits.map((h) => [h.dstIp, h.iface])).toEqual([
      ["127.0.0.1", "lo"],
      ["::1", "lo"],
      ["127.0.0.1", "lo"],
      ["127.0.0.1", "lo"],
      ["127.0.0.1", "lo"],
      ["127.0.0.1", "lo"],
    ]);
    expect(live.hits[3]?.srcPort).toBe(4321);
    expect(live.hits[4]?.srcPort).toBe(4321);
    // 5 SYNs + the retransmit: the out-of-span SYN, the UDP datagram, the session's ACK/data/FIN
    // packets and every RST never woke the process.
    expect(live.stats).toMatchObject({
      capture: { seen: 6, decoded: 6, dropped: 0 },
      notInSpan: 0,
      filteredOut: 0,
      hits: 6,
    });
    expect(live.pcap).toEqual({
      received: 6,
      dropped: 0,
      ifDropped: 0,
      interfaces: { lo: { received: 6, dropped: 0, ifDropped: 0 } },
    });

    await writer.stop();
    const replay = createPacketHitSource({
      file,
      ranges: SPAN,
      protocol: "tcp",
    });
    const replayed: KnockHit[] = [];
    for await (const hit of replay) replayed.push(hit);
    const key = (h: KnockHit): unknown[] => [
      h.srcIp,
      h.srcPort,
      h.dstIp,
      h.dstPort,
      h.protocol,
    ];
    expect(replayed.map(key)).toEqual(live.hits.map(key));
    expect(replayed.map((h) => h.origin)).toEqual(
      live.hits.map((h) => h.origin.replace("pcap lo", `pcap ${file}`)),
    );
    expect(replay.stats.hits).toBe(6);
  });

  it("onColumns (#20): IPv4 and IPv6 SYNs and datagrams through the columns, ::1 through onHit, in capture order, the same hits as the iterator gives", async () => {
    const ns = createNetns();
    const steps: Plan["steps"] = [
      { tcp: { host: "127.0.0.1", port: 1001 } },
      { tcp: { host: "::1", port: 1002 } },
      { tcp: { host: "127.0.0.1", port: 3000 } }, // outside the span
      {
        inject: {
          iface: "lo",
          hex: toHex(
            tcpFrame({
              src: "10.9.8.7",
              dst: "127.0.0.1",
              srcPort: 4321,
              dstPort: 1005,
              seq: 12345,
            }),
          ),
          times: 2,
        },
      },
      { tcp: { host: "::1", port: 1006 } },
      {
        inject: {
          iface: "lo",
          hex: toHex(
            tcpFrame({
              src: "2001:db8:f00d::9",
              dst: "::1",
              srcPort: 4322,
              dstPort: 1007,
              seq: 0xfedcba98,
            }),
          ),
        },
      },
      { tcp: { host: "127.0.0.1", port: MARKER } },
    ];
    const plan = { interfaces: ["lo"], ranges: SPAN, protocol: "tcp" as const };
    const columns = await runChild(ns.name, {
      ...plan,
      markers: [MARKER],
      columns: true,
      steps,
    });
    const queued = await runChild(ns.name, {
      ...plan,
      markers: [MARKER],
      steps,
    });
    // (Source ports differ between the two runs' connects: compared where injected.)
    const fields = (h: KnockHit): unknown[] => [
      ...summary(h),
      h.dstIp,
      h.iface,
    ];
    expect(columns.hits.map(summary)).toEqual([
      ["127.0.0.1", 1001, "tcp", "pcap lo #1"],
      ["::1", 1002, "tcp", "pcap lo #2"],
      ["10.9.8.7", 1005, "tcp", "pcap lo #3"],
      ["10.9.8.7", 1005, "tcp", "pcap lo #4"],
      ["::1", 1006, "tcp", "pcap lo #5"],
      ["2001:db8:f00d::9", 1007, "tcp", "pcap lo #6"],
      ["127.0.0.1", MARKER, "tcp", "pcap lo #7"],
    ]);
    // ::1 as a source is left to decodeFrame (a martian unless towards ::1): the object lane.
    expect(columns.lanes).toEqual([
      "columns",
      "object",
      "columns",
      "columns",
      "object",
      "columns",
      "columns",
    ]);
    expect(columns.mismatches).toEqual([]);
    expect(columns.hits.map((h) => typeof h.srcPort)).toEqual(
      Array(7).fill("number"),
    );
    expect([columns.hits[5]?.srcPort, columns.hits[5]?.seq]).toEqual([
      4322, 0xfedcba98,
    ]);
    expect([columns.hits[2]?.srcPort, columns.hits[3]?.srcPort]).toEqual([
      4321, 4321,
    ]);
    // The sequence number rides in the columns too (the detector's retransmit rule, #16).
    expect([columns.hits[2]?.seq, columns.hits[3]?.seq]).toEqual([
      12345, 12345,
    ]);
    expect(columns.hits.map(fields)).toEqual(queued.hits.map(fields));
    expect(queued.lanes.every((l) => l === "queued")).toBe(true);
    expect(columns.stats).toEqual(queued.stats);
  });

  it("UDP on lo: datagrams to 127.0.0.1 and ::1; TCP SYNs and other ports never reach JavaScript", async () => {
    const ns = createNetns();
    const r = await runChild(ns.name, {
      interfaces: ["lo"],
      ranges: SPAN,
      protocol: "udp",
      markers: [MARKER],
      steps: [
        { udp: { host: "127.0.0.1", port: 1001 } },
        { tcp: { host: "127.0.0.1", port: 1002 } },
        { udp: { host: "127.0.0.1", port: 3000 } },
        { udp: { host: "::1", port: 1003 } },
        { udp: { host: "127.0.0.1", port: MARKER } },
      ],
    });
    expect(r.bpfFilter).toBe(
      `(udp and dst portrange 1000-1999) or ${ipv6ExtensionBranch("udp")}`,
    );
    expect(r.hits.map(summary)).toEqual([
      ["127.0.0.1", 1001, "udp", "pcap lo #1"],
      ["::1", 1003, "udp", "pcap lo #2"],
      ["127.0.0.1", MARKER, "udp", "pcap lo #3"],
    ]);
    expect(r.stats.capture.seen).toBe(3);
  });

  it("the manual's tcplo ethfilter: dest_ip goes into the kernel filter, so ::1 never reaches JavaScript", async () => {
    const ns = createNetns();
    const r = await runChild(ns.name, {
      interfaces: ["lo"],
      ranges: SPAN,
      protocol: "tcp",
      ethfilter: { proto: "IP_PROTO_TCP", flags: "SYN", dest_ip: "127.0.0.1" },
      markers: [MARKER],
      steps: [
        { tcp: { host: "::1", port: 1001 } },
        { tcp: { host: "127.0.0.1", port: 1002 } },
        { tcp: { host: "127.0.0.1", port: MARKER } },
      ],
    });
    expect(r.bpfFilter).toMatch(/ and dst host 127\.0\.0\.1\) or /);
    expect(r.hits.map(summary)).toEqual([
      ["127.0.0.1", 1002, "tcp", "pcap lo #1"],
      ["127.0.0.1", MARKER, "tcp", "pcap lo #2"],
    ]);
    expect(r.stats.capture.seen).toBe(2);
    expect(r.stats.filteredOut).toBe(0);
  });

  it("several interfaces (lo and a veth) merge into one source, numbered per interface", async () => {
    const ns = createNetns();
    ns.exec([
      "ip",
      "link",
      "add",
      "pk0",
      "type",
      "veth",
      "peer",
      "name",
      "pk1",
    ]);
    ns.exec(["ip", "link", "set", "pk0", "up"]);
    ns.exec(["ip", "link", "set", "pk1", "up"]);
    ns.exec(["ip", "addr", "add", "192.0.2.2/24", "dev", "pk0"]);
    const onVeth = (dstPort: number): string =>
      toHex(
        tcpFrame({
          src: "192.0.2.1",
          dst: "192.0.2.2",
          srcPort: 5555,
          dstPort,
          seq: dstPort,
        }),
      );
    const r = await runChild(ns.name, {
      interfaces: ["lo", "pk0"],
      ranges: SPAN,
      protocol: "tcp",
      markers: [1501, MARKER],
      steps: [
        { inject: { iface: "pk1", hex: onVeth(1500) } },
        { inject: { iface: "pk1", hex: onVeth(3000) } },
        { inject: { iface: "pk1", hex: onVeth(1501) } },
        { tcp: { host: "127.0.0.1", port: MARKER } },
      ],
    });
    const byIface = (iface: string): unknown[] =>
      r.hits.filter((h) => h.iface === iface).map(summary);
    expect(byIface("pk0")).toEqual([
      ["192.0.2.1", 1500, "tcp", "pcap pk0 #1"],
      ["192.0.2.1", 1501, "tcp", "pcap pk0 #2"],
    ]);
    expect(byIface("lo")).toEqual([["127.0.0.1", MARKER, "tcp", "pcap lo #1"]]);
    expect(r.stats.capture.seen).toBe(3);
    expect(Object.keys(r.pcap.interfaces)).toEqual(["lo", "pk0"]);
    expect(r.pcap).toMatchObject({
      received: 3,
      dropped: 0,
      interfaces: { lo: { received: 1 }, pk0: { received: 2 } },
    });
  });

  it("a veth sees frames for other hosts: only those to its addresses are knocks, its own address is no source; IPv6 SYNs behind extension headers pass live as in a replay (#16)", async () => {
    const ns = createNetns();
    const dir = tempDir();
    const file = join(dir, "veth.pcap");
    ns.exec([
      "ip",
      "link",
      "add",
      "pk0",
      "type",
      "veth",
      "peer",
      "name",
      "pk1",
    ]);
    ns.exec(["ip", "link", "set", "pk0", "up"]);
    ns.exec(["ip", "link", "set", "pk1", "up"]);
    ns.exec(["ip", "addr", "add", "192.0.2.2/24", "dev", "pk0"]);
    ns.exec([
      "ip",
      "-6",
      "addr",
      "add",
      "2001:db8::2/64",
      "dev",
      "pk0",
      "nodad",
    ]);
    const v4 = (src: string, dst: string, dstPort: number): string =>
      toHex(tcpFrame({ src, dst, srcPort: 5555, dstPort, seq: dstPort }));
    const v6 = (dst: string, dstPort: number, types: number[]): string =>
      toHex(
        ethernet(
          ipv6({
            src: "2001:db8::1",
            dst,
            protocol: 6,
            payload: tcp({ srcPort: 6666, dstPort, seq: dstPort }),
            extensions: types.map((type) => ({ type })),
          }),
        ),
      );
    const filter = buildBpfFilter({ ranges: SPAN, protocol: "tcp" });
    const writer = await startPcapWriter(ns.name, "pk0", filter, file);
    const steps = [
      v4("192.0.2.1", "192.0.2.2", 1500), // to us
      v4("192.0.2.1", "192.0.2.9", 1501), // to another host on the link
      v4("192.0.2.2", "192.0.2.2", 1502), // from our own address
      v6("2001:db8::2", 1503, [0, 60]), // hop-by-hop, destination options
      v6("2001:db8::2", 1504, [44]), // a first (and only) fragment
      v6("2001:db8::2", 1505, [43, 51]), // routing, AH
      v6("2001:db8::9", 1506, [0]), // another host
      v6("2001:db8::2", 3000, [0]), // outside the span: passed, matched in JavaScript
      // An MLD report (hop-by-hop, then ICMPv6, to a group): on every IPv6 link, kept in the kernel.
      toHex(
        ethernet(
          ipv6({
            src: "fe80::1",
            dst: "ff02::16",
            protocol: 58,
            payload: new Uint8Array(8),
            extensions: [{ type: 0 }],
          }),
        ),
      ),
      v4("192.0.2.1", "192.0.2.2", 1599),
    ].map((hex) => ({ inject: { iface: "pk1", hex } }));
    const live = await runChild(ns.name, {
      interfaces: ["pk0"],
      ranges: SPAN,
      protocol: "tcp",
      markers: [1599],
      steps,
    });
    await writer.stop();
    const port = (h: KnockHit): [string, number] => [h.srcIp, h.dstPort];
    expect(live.hits.map(port)).toEqual([
      ["192.0.2.1", 1500],
      ["2001:db8::1", 1503],
      ["2001:db8::1", 1504],
      ["2001:db8::1", 1505],
      ["192.0.2.1", 1599],
    ]);
    expect(live.stats.capture.rejections).toMatchObject({
      FRAME_NOT_FOR_US: 2,
      FRAME_MARTIAN_SOURCE: 1,
    });
    expect(live.stats.notInSpan).toBe(1);
    expect(live.stats.capture.seen).toBe(9);

    // The allocation-free lanes (#20) decide the frames by the same address rules: the same
    // hits (with their sequence numbers), the same rejections and counters; the IPv6 SYNs behind
    // extension headers take the IPv6 lane too.
    const fast = await runChild(ns.name, {
      interfaces: ["pk0"],
      ranges: SPAN,
      protocol: "tcp",
      markers: [1599],
      columns: true,
      steps,
    });
    expect(fast.hits.map(port)).toEqual(live.hits.map(port));
    expect(fast.hits.map((h) => [h.origin, h.seq])).toEqual(
      live.hits.map((h) => [h.origin, h.seq]),
    );
    expect(fast.lanes).toEqual([
      "columns",
      "columns",
      "columns",
      "columns",
      "columns",
    ]);
    expect(fast.mismatches).toEqual([]);
    expect(fast.stats).toEqual(live.stats);

    // The replay of tcpdump's file (the same kernel filter) decodes the same IPv6 frames; it
    // cannot know the capturing host's addresses, so it takes every destination.
    const replay = createPacketHitSource({
      file,
      ranges: SPAN,
      protocol: "tcp",
    });
    const replayed: KnockHit[] = [];
    for await (const hit of replay) replayed.push(hit);
    expect(replayed.map(port)).toEqual([
      ["192.0.2.1", 1500],
      ["192.0.2.1", 1501],
      ["192.0.2.2", 1502],
      ["2001:db8::1", 1503],
      ["2001:db8::1", 1504],
      ["2001:db8::1", 1505],
      ["2001:db8::1", 1506],
      ["192.0.2.1", 1599],
    ]);
    expect(replay.stats.notInSpan).toBe(1);

    // destinations "any" (or an ethfilter with dest_ip) takes frames for other hosts.
    const any = await runChild(ns.name, {
      interfaces: ["pk0"],
      ranges: SPAN,
      protocol: "tcp",
      destinations: "any",
      markers: [1599],
      steps,
    });
    expect(any.hits.map(port)).toEqual(replayed.map(port));
    const fastAny = await runChild(ns.name, {
      interfaces: ["pk0"],
      ranges: SPAN,
      protocol: "tcp",
      destinations: "any",
      markers: [1599],
      columns: true,
      steps,
    });
    expect(fastAny.hits.map(port)).toEqual(replayed.map(port));
    expect(fastAny.stats).toEqual(any.stats);
  });

  it("`any` (Linux cooked frames) sees IPv4 and IPv6 SYNs once each", async () => {
    const ns = createNetns();
    const r = await runChild(ns.name, {
      interfaces: ["any"],
      ranges: SPAN,
      protocol: "tcp",
      markers: [MARKER],
      steps: [
        { tcp: { host: "::1", port: 1001 } },
        { tcp: { host: "127.0.0.1", port: MARKER } },
      ],
    });
    expect(r.hits.map(summary)).toEqual([
      ["::1", 1001, "tcp", "pcap any #1"],
      ["127.0.0.1", MARKER, "tcp", "pcap any #2"],
    ]);
    expect(r.stats.capture.rejections.FRAME_OUTGOING).toBe(0);
  });
});
