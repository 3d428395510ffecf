import { parseDaemonConfig } from "@portknock/config";
import { describe, expect, it } from "vitest";
import {
  buildBpfFilter,
  ipv6ExtensionBranch,
  mergePortRanges,
} from "./bpf-filter.ts";
import type { CompiledEthFilter } from "./ethfilter.ts";
import { compileEthFilter } from "./ethfilter.ts";

/** The expression with its IPv6 extension-header branch (#16). */
const ext = (knocks: string): string =>
  `(${knocks}) or ${ipv6ExtensionBranch(knocks.startsWith("udp") ? "udp" : "tcp")}`;

const SYN_ONLY =
  "(tcp[tcpflags] & (tcp-syn|tcp-ack) = tcp-syn or (ip6 and ip6[53] & 0x12 = 0x02))";

function ethfilter(body: string): CompiledEthFilter {
  const text = `knock = IP,PORT,CHECKSUM\nportspan = 1024-2047\nkey = k\nuseethfilter = f\n<ethfilter f>\n${body}</ethfilter>\n`;
  const block = parseDaemonConfig(text, {
    file: "k.conf",
  }).config?.ethfilters.get("f");
  if (block === undefined) throw new Error("no block");
  const r = compileEthFilter(block);
  if (r.filter === undefined) throw new Error(JSON.stringify(r.diagnostics));
  return r.filter;
}

describe("buildBpfFilter", () => {
  it("TCP: the span, SYN without ACK, with the explicit IPv6 branch", () => {
    expect(buildBpfFilter({ ranges: [[1000, 2000]], protocol: "tcp" })).toBe(
      ext(`tcp and dst portrange 1000-2000 and ${SYN_ONLY}`),
    );
  });

  it("UDP: the span only", () => {
    expect(
      buildBpfFilter({
        ranges: [
          [1000, 1000],
          [1500, 1600],
        ],
        protocol: "udp",
      }),
    ).toBe(ext("udp and (dst port 1000 or dst portrange 1500-1600)"));
  });

  it("writes the manual's split span as one test per piece, merged and sorted", () => {
    const ranges = [
      [968, 1023],
      [600, 699],
      [900, 900],
      [800, 898],
    ] as const;
    expect(buildBpfFilter({ ranges, protocol: "tcp" })).toBe(
      ext(
        `tcp and (dst portrange 600-699 or dst portrange 800-898 or dst port 900 or dst portrange 968-1023) and ${SYN_ONLY}`,
      ),
    );
  });

  it("falls back to the bounding range above maxRanges", () => {
    const ranges = Array.from(
      { length: 300 },
      (_, i) => [1000 + 2 * i, 1000 + 2 * i] as const,
    );
    expect(buildBpfFilter({ ranges, protocol: "udp" })).toBe(
      ext("udp and dst portrange 1000-1598"),
    );
    expect(
      buildBpfFilter({ ranges, protocol: "udp", maxRanges: 300 }),
    ).toContain("dst port 1598)");
  });

  it("passes every IPv6 packet whose first header is an extension: JavaScript follows the chain (#16)", () => {
    expect(ipv6ExtensionBranch("tcp")).toBe(
      "(ip6 and not ip6 multicast and (ip6[6] = 0 or ip6[6] = 43 or ip6[6] = 44 or ip6[6] = 60 or ip6[6] = 51) and (ip6[40] = 6 or ip6[40] = 0 or ip6[40] = 43 or ip6[40] = 44 or ip6[40] = 60 or ip6[40] = 51))",
    );
    expect(ipv6ExtensionBranch("udp")).toContain("(ip6[40] = 17 or ");
    expect(buildBpfFilter({ ranges: [[1, 2]], protocol: "tcp" })).toMatch(
      /^\(tcp and .*\) or \(ip6 and /,
    );
  });

  it("adds what the ethfilter says exactly: addresses and ports", () => {
    const tcplo = ethfilter(
      "proto = IP_PROTO_TCP\nflags = SYN\ndest_ip = 127.0.0.1\n",
    );
    expect(
      buildBpfFilter({
        ranges: [[1000, 2000]],
        protocol: "tcp",
        ethfilter: tcplo,
      }),
    ).toBe(
      ext(
        `tcp and dst portrange 1000-2000 and ${SYN_ONLY} and dst host 127.0.0.1`,
      ),
    );
    const both = ethfilter(
      "dest_ip = 127.0.0.1|::1\nsrc_ip = 10.0.0.1\nsrc_port = 40000|040001\ndest_port = 1500\n",
    );
    expect(
      buildBpfFilter({
        ranges: [[1000, 2000]],
        protocol: "udp",
        ethfilter: both,
      }),
    ).toBe(
      ext(
        "udp and dst portrange 1000-2000 and (dst host 127.0.0.1 or dst host ::1) and src host 10.0.0.1 and src port 40000 and dst port 1500",
      ),
    );
  });

  it("leaves regexes and other properties to JavaScript", () => {
    const f = ethfilter("dest_ip = 10\\.0\\..*\nttl = 64\nsrc_port = 0\\d+\n");
    expect(
      buildBpfFilter({ ranges: [[1, 2]], protocol: "udp", ethfilter: f }),
    ).toBe(ext("udp and dst portrange 1-2"));
  });

  it("refuses bad ranges", () => {
    expect(() => buildBpfFilter({ ranges: [], protocol: "tcp" })).toThrow(
      RangeError,
    );
    expect(() => buildBpfFilter({ ranges: [[5, 4]], protocol: "tcp" })).toThrow(
      RangeError,
    );
    expect(() =>
      buildBpfFilter({ ranges: [[1, 65536]], protocol: "tcp" }),
    ).toThrow(RangeError);
    expect(() =>
      buildBpfFilter({ ranges: [[1, 2]], protocol: "tcp", maxRanges: 0 }),
    ).toThrow(RangeError);
  });
});

describe("mergePortRanges", () => {
  it("sorts and merges overlapping and adjacent ranges", () => {
    expect(
      mergePortRanges([
        [10, 20],
        [1, 5],
        [6, 8],
        [15, 30],
        [40, 40],
      ]),
    ).toEqual([
      [1, 8],
      [10, 30],
      [40, 40],
    ]);
  });
});
