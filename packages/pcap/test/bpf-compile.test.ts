/**
 * libpcap compiles every expression `buildBpfFilter` writes: offline with `tcpdump -d` on an
 * empty pcap file (no privilege needed), and by opening a real capture on `lo` with it, as knockd
 * does (root). A span of hundreds of pieces stays within libpcap's limits.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { EthFilterConfig } from "@portknock/config";
import { buildBpfFilter } from "../src/bpf-filter.ts";
import type { PortRange } from "../src/bpf-filter.ts";
import { compileEthFilter } from "../src/ethfilter.ts";
import type { CompiledEthFilter } from "../src/ethfilter.ts";
import { openCapture } from "../src/open-capture.ts";
import { pcapFile } from "./frames.ts";
import { gateRootTests } from "./netns.ts";

function ethfilter(properties: Record<string, string>): CompiledEthFilter {
  const where = { kind: "config" as const, file: "t.conf", line: 1 };
  const config: EthFilterConfig = {
    name: "t",
    where,
    properties: new Map(
      Object.entries(properties).map(([k, v]) => [k, { text: v, where }]),
    ),
  };
  const r = compileEthFilter(config);
  if (r.filter === undefined) throw new Error(JSON.stringify(r.diagnostics));
  return r.filter;
}

const singles = (n: number): PortRange[] =>
  Array.from({ length: n }, (_, i) => [1024 + 2 * i, 1024 + 2 * i] as const);

const CASES: [string, string][] = [
  [
    "one range, TCP",
    buildBpfFilter({ ranges: [[1000, 2000]], protocol: "tcp" }),
  ],
  [
    "one range, UDP",
    buildBpfFilter({ ranges: [[1000, 2000]], protocol: "udp" }),
  ],
  [
    "the manual's split span (256 ports, 4 pieces)",
    buildBpfFilter({
      ranges: [
        [600, 699],
        [800, 898],
        [900, 900],
        [968, 1023],
      ],
      protocol: "tcp",
    }),
  ],
  [
    "the manual's 32768-port span (3 pieces)",
    buildBpfFilter({
      ranges: [
        [1024, 5000],
        [6000, 25000],
        [26000, 35789],
      ],
      protocol: "tcp",
    }),
  ],
  [
    "256 single-port pieces",
    buildBpfFilter({ ranges: singles(256), protocol: "tcp" }),
  ],
  [
    "16384 single-port pieces (bounding range)",
    buildBpfFilter({ ranges: singles(16384), protocol: "tcp" }),
  ],
  [
    "ethfilter addresses (IPv4 and IPv6) and ports",
    buildBpfFilter({
      ranges: [[1000, 2000]],
      protocol: "tcp",
      ethfilter: ethfilter({
        dest_ip: "127.0.0.1|::1",
        src_ip: "2001:db8::7",
        src_port: "40000|40001",
      }),
    }),
  ],
];

const tcpdumpMissing =
  spawnSync("sh", ["-c", "command -v tcpdump"]).status === 0
    ? undefined
    : "needs tcpdump (apt-get install tcpdump)";
if (tcpdumpMissing !== undefined) {
  if (process.env.CI)
    throw new Error(`CI must run the BPF compile tests: ${tcpdumpMissing}`);
  console.warn(`skipping the tcpdump -d tests: ${tcpdumpMissing}`);
}

describe.skipIf(tcpdumpMissing !== undefined)(
  "libpcap compiles the expressions (tcpdump -d)",
  () => {
    const dir = mkdtempSync(join(tmpdir(), "pk-bpf-"));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const files = {
      ethernet: join(dir, "eth.pcap"),
      sll: join(dir, "sll.pcap"),
    };
    writeFileSync(files.ethernet, pcapFile({ linkType: 1, records: [] }));
    writeFileSync(files.sll, pcapFile({ linkType: 113, records: [] }));

    it.each(CASES)("%s", (_name, expression) => {
      for (const file of Object.values(files)) {
        const r = spawnSync("tcpdump", ["-r", file, "-d", expression], {
          encoding: "utf8",
        });
        expect(r.status, r.stderr).toBe(0);
        const instructions = r.stdout.trim().split("\n").length;
        // The kernel's limit for a classic BPF socket filter (BPF_MAXINSNS).
        expect(instructions).toBeLessThanOrEqual(4096);
      }
    });
  },
);

const gate = gateRootTests(["ip"]);

describe.skipIf(gate.skip)(
  "libpcap opens a capture on lo with each expression (root)",
  () => {
    it.each(CASES)("%s", (_name, expression) => {
      const capture = openCapture({ interfaces: ["lo"], filter: expression });
      expect(capture.linkTypes.get("lo")).toBe("ethernet");
      void capture.close();
    });
  },
);
