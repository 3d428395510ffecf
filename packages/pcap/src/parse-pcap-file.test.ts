import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { pcapFile, tcpFrame } from "../test/frames.ts";
import { parsePcapHeader, readPcapRecords } from "./parse-pcap-file.ts";
import type { PcapFileHeader } from "./parse-pcap-file.ts";

const frame = tcpFrame({
  src: "127.0.0.1",
  dst: "127.0.0.1",
  srcPort: 1,
  dstPort: 2,
});

function header(bytes: Uint8Array): PcapFileHeader {
  const r = parsePcapHeader(bytes);
  if (!r.ok) throw new Error(r.reason);
  return r.header;
}

describe("classic pcap files", () => {
  it.each([
    ["little-endian µs", false, false],
    ["big-endian µs", true, false],
    ["little-endian ns", false, true],
    ["big-endian ns", true, true],
  ])(
    "reads %s files (fractions of ms kept)",
    (_name, bigEndian, nanoseconds) => {
      const file = pcapFile({
        linkType: 1,
        bigEndian,
        nanoseconds,
        snapLength: 1500,
        records: [
          { timeMs: 1_700_000_000_123.5, frame },
          {
            timeMs: 1_700_000_001_000,
            frame: frame.subarray(0, 30),
            originalLength: frame.length,
          },
        ],
      });
      const h = header(file);
      expect(h).toMatchObject({
        littleEndian: !bigEndian,
        nanoseconds,
        versionMajor: 2,
        versionMinor: 4,
        snapLength: 1500,
        linkTypeNumber: 1,
        linkType: "ethernet",
      });
      const records = [...readPcapRecords(file, h)];
      expect(
        records.map((r) => [r.timeMs, r.capturedLength, r.originalLength]),
      ).toEqual([
        [
          nanoseconds ? 1_700_000_000_123.5 : 1_700_000_000_123.5,
          frame.length,
          frame.length,
        ],
        [1_700_000_001_000, 30, frame.length],
      ]);
      expect(records[0]?.frame).toEqual(frame);
    },
  );

  it("refuses pcapng (with a hint), other magics and versions", () => {
    const reason = (bytes: Uint8Array): string => {
      const r = parsePcapHeader(bytes);
      return r.ok ? "ok" : r.reason;
    };
    const ng = new Uint8Array(28);
    ng.set([0x0a, 0x0d, 0x0d, 0x0a]);
    expect(reason(ng)).toContain("pcapng");
    expect(reason(new Uint8Array(24))).toContain("magic");
    const v3 = pcapFile({ linkType: 1, records: [] });
    v3[4] = 3;
    expect(reason(v3)).toContain("version 3");
    expect(reason(new Uint8Array(10))).toContain("shorter");
  });

  it("maps link types, and leaves unknown ones undefined", () => {
    expect(header(pcapFile({ linkType: 113, records: [] })).linkType).toBe(
      "linux-sll",
    );
    expect(header(pcapFile({ linkType: 101, records: [] })).linkType).toBe(
      "raw",
    );
    expect(
      header(pcapFile({ linkType: 0x10000001, records: [] })).linkType,
    ).toBe("ethernet");
    expect(
      header(pcapFile({ linkType: 239, records: [] })).linkType,
    ).toBeUndefined();
  });

  it("stops at a last record cut short, and reports an impossible length", () => {
    const file = pcapFile({
      linkType: 1,
      records: [
        { timeMs: 0, frame },
        { timeMs: 0, frame },
      ],
    });
    expect([
      ...readPcapRecords(file.subarray(0, file.length - 1), header(file)),
    ]).toHaveLength(1);
    const corrupt = file.slice();
    new DataView(corrupt.buffer).setUint32(24 + 8, 1 << 20, true);
    let at = -1;
    expect([
      ...readPcapRecords(corrupt, header(corrupt), (o) => (at = o)),
    ]).toHaveLength(0);
    expect(at).toBe(24);
  });

  it("never throws on arbitrary bytes", () => {
    const valid = pcapFile({ linkType: 1, records: [{ timeMs: 0, frame }] });
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 200 }),
        fc.boolean(),
        (bytes, withHeader) => {
          const input = withHeader
            ? Uint8Array.from([...valid.subarray(0, 24), ...bytes])
            : bytes;
          const r = parsePcapHeader(input);
          if (r.ok)
            for (const rec of readPcapRecords(input, r.header))
              expect(rec.frame.length).toBe(rec.capturedLength);
        },
      ),
    );
  });
});
