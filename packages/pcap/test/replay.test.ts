/**
 * `replayPcap` on real files: both byte orders and timestamp units, records split across read
 * chunks, a file cut mid-record, corrupt and unsupported files, abort, and rejected frames
 * reported as diagnostics.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import type { Diagnostic, Logger } from "@portknock/core";
import type { DecodedPacket } from "../src/decode-frame.ts";
import { PcapError } from "../src/errors.ts";
import type { FrameRejectCode } from "../src/errors.ts";
import { replayPcap } from "../src/replay-pcap.ts";
import type { ReplayPcapOptions } from "../src/replay-pcap.ts";
import { ethernet, ipv4, pcapFile, sll, tcpFrame } from "./frames.ts";
import type { PcapFileSpec } from "./frames.ts";

function tempFile(bytes: Uint8Array): string {
  const dir = mkdtempSync(join(tmpdir(), "pk-replay-"));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, "t.pcap");
  writeFileSync(file, bytes);
  return file;
}

async function collect(
  file: string,
  options?: ReplayPcapOptions,
): Promise<DecodedPacket[]> {
  const out: DecodedPacket[] = [];
  for await (const p of replayPcap(file, options)) out.push(p);
  return out;
}

async function failure(file: string): Promise<unknown> {
  try {
    await collect(file);
  } catch (error) {
    return error;
  }
  return undefined;
}

/** The error's code, and whether its message contains `text`. */
function codeAndMessage(error: unknown, text: string): [string, boolean] {
  return error instanceof PcapError
    ? [error.code, error.message.includes(text)]
    : ["not a PcapError", false];
}

const syn = (dstPort: number): Uint8Array =>
  tcpFrame({ src: "192.0.2.1", dst: "192.0.2.2", srcPort: 40000, dstPort });

/** A logger that records its `warn` calls. */
function logger(): Logger & { warnings: [Record<string, unknown>, string?][] } {
  const warnings: [Record<string, unknown>, string?][] = [];
  const l = {
    warnings,
    debug(): void {},
    info(): void {},
    warn(fields: object, msg?: string): void {
      warnings.push([fields as Record<string, unknown>, msg]);
    },
    error(): void {},
    child: (): Logger => l,
  };
  return l;
}

describe("replayPcap", () => {
  it.each([
    ["little-endian µs", {}],
    ["big-endian µs", { bigEndian: true }],
    ["little-endian ns", { nanoseconds: true }],
    ["big-endian ns", { bigEndian: true, nanoseconds: true }],
  ] as [string, Partial<PcapFileSpec>][])(
    "replays %s files, times from the file",
    async (_n, spec) => {
      const file = tempFile(
        pcapFile({
          linkType: 1,
          ...spec,
          records: [
            { timeMs: 1_700_000_000_250, frame: syn(1001) },
            { timeMs: 1_700_000_001_500, frame: syn(1002) },
          ],
        }),
      );
      const packets = await collect(file);
      expect(
        packets.map((p) => [p.dstPort, p.timeMs, p.origin, p.iface]),
      ).toEqual([
        [1001, 1_700_000_000_250, `pcap ${file} #1`, undefined],
        [1002, 1_700_000_001_500, `pcap ${file} #2`, undefined],
      ]);
    },
  );

  it("reads records split across chunks, and records longer than a chunk", async () => {
    const big = ethernet(
      ipv4({
        src: "10.0.0.1",
        dst: "10.0.0.2",
        protocol: 17,
        payload: new Uint8Array(3000).fill(1),
      }),
    );
    big[14 + 20 + 2] = 0x03; // UDP destination port 0x03xx
    const records = Array.from({ length: 50 }, (_, i) => ({
      timeMs: i,
      frame: i === 25 ? big : syn(1000 + i),
    }));
    const file = tempFile(pcapFile({ linkType: 1, records }));
    for (const chunkBytes of [24, 100, 1 << 20]) {
      const packets = await collect(file, { chunkBytes });
      expect(packets).toHaveLength(50);
      expect(packets[24]?.dstPort).toBe(1024);
      expect(packets[49]?.dstPort).toBe(1049);
    }
  });

  it("decodes the file's link type (Linux cooked)", async () => {
    const frame = sll(
      tcpFrame({ src: "::1", dst: "::1", srcPort: 1, dstPort: 1500 }).subarray(
        14,
      ),
    );
    const packets = await collect(
      tempFile(pcapFile({ linkType: 113, records: [{ timeMs: 0, frame }] })),
    );
    expect(packets.map((p) => [p.linkType, p.srcIp, p.dstPort])).toEqual([
      ["linux-sll", "::1", 1500],
    ]);
  });

  it("stops with a warning at a record cut short", async () => {
    const whole = pcapFile({
      linkType: 1,
      records: [
        { timeMs: 0, frame: syn(1) },
        { timeMs: 0, frame: syn(2) },
      ],
    });
    const log = logger();
    const file = tempFile(whole.subarray(0, whole.length - 10));
    expect(
      (await collect(file, { logger: log })).map((p) => p.dstPort),
    ).toEqual([1]);
    expect(log.warnings.map(([f]) => f)).toEqual([
      { event: "source.truncated", source: `pcap ${file} #2` },
    ]);
  });

  it("counts and reports rejected frames as packet diagnostics", async () => {
    const arp = ethernet(new Uint8Array(28), [], 0x0806);
    const icmp = ethernet(
      ipv4({
        src: "10.1.2.3",
        dst: "10.0.0.2",
        protocol: 1,
        payload: new Uint8Array(8),
      }),
    );
    const file = tempFile(
      pcapFile({
        linkType: 1,
        records: [arp, icmp, syn(5), icmp].map((frame) => ({
          timeMs: 0,
          frame,
        })),
      }),
    );
    const rejected: Diagnostic<FrameRejectCode>[] = [];
    const onReject = (d: Diagnostic<FrameRejectCode>): void => {
      rejected.push(d);
    };
    const log = logger();
    const capture = replayPcap(file, { onReject, logger: log });
    const packets: DecodedPacket[] = [];
    for await (const p of capture) packets.push(p);
    expect(packets.map((p) => p.dstPort)).toEqual([5]);
    expect(capture.stats).toMatchObject({
      seen: 4,
      decoded: 1,
      rejections: { FRAME_NOT_IP: 1, FRAME_UNSUPPORTED_PROTOCOL: 2 },
    });
    expect(rejected.map((d) => [d.code, d.where])).toEqual([
      ["FRAME_NOT_IP", { kind: "packet", iface: file, srcIp: "unknown" }],
      [
        "FRAME_UNSUPPORTED_PROTOCOL",
        { kind: "packet", iface: file, srcIp: "10.1.2.3" },
      ],
      [
        "FRAME_UNSUPPORTED_PROTOCOL",
        { kind: "packet", iface: file, srcIp: "10.1.2.3" },
      ],
    ]);
    // Logged once per reason (rate-limited), the bytes as hex.
    expect(log.warnings.map(([f]) => f.code)).toEqual([
      "FRAME_NOT_IP",
      "FRAME_UNSUPPORTED_PROTOCOL",
    ]);
    const fields: Record<string, unknown> = log.warnings[1]?.[0] ?? {};
    expect(fields).toMatchObject({
      event: "source.rejected",
      source: `pcap ${file} #2`,
      ip: "10.1.2.3",
    });
    expect(fields.input).toMatch(/^000000000000000000000000080045/);
  });

  it("stops when aborted", async () => {
    const file = tempFile(
      pcapFile({
        linkType: 1,
        records: Array.from({ length: 10 }, (_, i) => ({
          timeMs: i,
          frame: syn(i),
        })),
      }),
    );
    const controller = new AbortController();
    const seen: number[] = [];
    for await (const p of replayPcap(file, { signal: controller.signal })) {
      seen.push(p.dstPort);
      if (seen.length === 3) controller.abort();
    }
    expect(seen).toEqual([0, 1, 2]);
  });

  it("rejects missing, foreign, pcapng, unsupported-link and corrupt files with codes", async () => {
    expect(await failure("/nonexistent/x.pcap")).toMatchObject({
      code: "PCAP_READ_FAILED",
    });
    expect(
      await failure(
        tempFile(new TextEncoder().encode("hello, world, this is text\n")),
      ),
    ).toMatchObject({
      code: "PCAP_FILE_UNSUPPORTED",
    });
    const ng = new Uint8Array(32);
    ng.set([0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a]);
    const ngError = await failure(tempFile(ng));
    expect(ngError).toBeInstanceOf(PcapError);
    expect(codeAndMessage(ngError, "pcapng")).toEqual([
      "PCAP_FILE_UNSUPPORTED",
      true,
    ]);
    const linkError = await failure(
      tempFile(pcapFile({ linkType: 239, records: [] })),
    );
    expect(codeAndMessage(linkError, "link type 239")).toEqual([
      "PCAP_FILE_UNSUPPORTED",
      true,
    ]);
    const corrupt = pcapFile({
      linkType: 1,
      records: [
        { timeMs: 0, frame: syn(1) },
        { timeMs: 0, frame: syn(2) },
      ],
    });
    new DataView(corrupt.buffer).setUint32(
      24 + 16 + syn(1).length + 8,
      0x7fffffff,
      true,
    );
    const file = tempFile(corrupt);
    const got: number[] = [];
    let error: unknown;
    try {
      for await (const p of replayPcap(file)) got.push(p.dstPort);
    } catch (e) {
      error = e;
    }
    expect(got).toEqual([1]);
    expect(codeAndMessage(error, "record 2")).toEqual([
      "PCAP_FILE_CORRUPT",
      true,
    ]);
  });

  it("map chooses what to yield", async () => {
    const file = tempFile(
      pcapFile({
        linkType: 1,
        records: [1, 2, 3, 4].map((p) => ({ timeMs: 0, frame: syn(p) })),
      }),
    );
    const got: string[] = [];
    const capture = replayPcap(file, {
      map: (p) => (p.dstPort % 2 === 0 ? `port ${p.dstPort}` : undefined),
    });
    for await (const s of capture) got.push(s);
    expect(got).toEqual(["port 2", "port 4"]);
    expect(capture.stats.decoded).toBe(4);
  });

  it("an empty file of records replays nothing", async () => {
    expect(
      await collect(tempFile(pcapFile({ linkType: 1, records: [] }))),
    ).toEqual([]);
  });
});
