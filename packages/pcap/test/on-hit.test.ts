/**
 * `createPacketHitSource({ onHit })` (issue #20): hits handed on where they are decoded, in
 * order, instead of queued for the iterator, which then only ends or fails. On a real pcap file;
 * knockd's network tests run the same path on a live capture.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import type { KnockHit } from "@portknock/core";
import { createPacketHitSource } from "../src/packet-hit-source.ts";
import { pcapFile, tcpFrame } from "./frames.ts";

function tempPcap(ports: number[]): string {
  const dir = mkdtempSync(join(tmpdir(), "pk-onhit-"));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, "t.pcap");
  const records = ports.map((dstPort, i) => ({
    timeMs: 1_700_000_000_000 + i,
    frame: tcpFrame({
      src: "192.0.2.1",
      dst: "192.0.2.2",
      srcPort: 40000 + i,
      dstPort,
    }),
  }));
  writeFileSync(file, pcapFile({ linkType: 1, records }));
  return file;
}

describe("createPacketHitSource with onHit", () => {
  it("hands each hit to onHit in order, counts it, and yields nothing", async () => {
    const file = tempPcap([1001, 80, 1002, 1003]);
    const handed: KnockHit[] = [];
    const source = createPacketHitSource({
      file,
      ranges: [[1000, 1999]],
      protocol: "tcp",
      onHit: (hit) => handed.push(hit),
    });
    const yielded: KnockHit[] = [];
    for await (const hit of source) yielded.push(hit);
    expect(yielded).toEqual([]);
    expect(handed.map((h) => [h.srcIp, h.dstPort, h.srcPort])).toEqual([
      ["192.0.2.1", 1001, 40000],
      ["192.0.2.1", 1002, 40002],
      ["192.0.2.1", 1003, 40003],
    ]);
    expect(handed.map((h) => h.origin)).toEqual([
      `pcap ${file} #1`,
      `pcap ${file} #3`,
      `pcap ${file} #4`,
    ]);
    expect(source.stats).toMatchObject({ hits: 3, notInSpan: 1 });
  });

  it("rejects the iteration with what onHit threw, and stops there", async () => {
    const file = tempPcap([1001, 1002, 1003]);
    const seen: number[] = [];
    const source = createPacketHitSource({
      file,
      ranges: [[1000, 1999]],
      protocol: "tcp",
      onHit: (hit) => {
        seen.push(hit.dstPort);
        if (hit.dstPort === 1002) throw new RangeError("consumer broke");
      },
    });
    let failure: unknown;
    try {
      for await (const _ of source) void _;
    } catch (e) {
      failure = e;
    }
    expect(failure).toBeInstanceOf(RangeError);
    expect(seen).toEqual([1001, 1002]);
  });
});
