/**
 * `nextColumns` on a replayed file (blocks, fast lane, worker threads) against `nextBatch` on
 * the same file (one text at a time, `decodeLogLine` on every line): the same hits, numbers,
 * line numbers, counters and rejections, whatever the block size and the number of workers.
 * The workers run the built `dist/replay-worker.js` (CI builds before testing).
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Diagnostic } from "@portknock/config";
import { describe, expect, it } from "vitest";
import type { RejectCode } from "../src/errors.ts";
import { createLogHitSource } from "../src/log-hit-source.ts";
import type { CompiledLogFormat } from "../src/log-format.ts";
import { builtinLogFormat, compileLogFormat } from "../src/log-format.ts";
import { parseBlock } from "../src/read-block.ts";
import type { KnockHit } from "../src/types.ts";
import { fixture, tempDir } from "./helpers.ts";
import { openSync, closeSync, statSync } from "node:fs";

const format = builtinLogFormat("iptables");
const clock = { now: (): number => 1000 };

const record = (src: string, dst: string, sport: string, dport: string) =>
  `Nov 25 08:23:27 gw kernel: [ 12.5] KNOCK IN=eth0 OUT= MAC=52:54:00:12:34:56:52:54:00:65:43:21:08:00 SRC=${src} DST=${dst} LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=0 DF PROTO=TCP SPT=${sport} DPT=${dport} WINDOW=65495 RES=0x00 SYN URGP=0`;

/** Every fixture line, and the lines the fast lane must leave to `decodeLogLine`. */
function corpus(): string[] {
  const lines: string[] = [];
  for (const f of [
    "journalctl-short.log",
    "nftables.log",
    "noise.log",
    "rsyslog-traditional.log",
    "ufw.log",
    "ulogd-logemu.log",
  ]) {
    lines.push(...readFileSync(fixture(f), "utf8").split("\n").filter(Boolean));
  }
  lines.push(
    record("203.0.113.7", "192.0.2.1", "40000", "2345"),
    record("0.0.0.0", "255.255.255.255", "0", "65535"),
    record("2001:db8::7", "2001:db8::1", "40000", "2346"), // IPv6: slow lane
    record("010.0.0.1", "192.0.2.1", "40000", "2347"), // leading zero: \S+ branch
    record("203.0.113.7", "192.0.2.001", "40000", "2348"), // DST not a strict quad
    record("256.1.1.1", "192.0.2.1", "40000", "2349"),
    record("203.0.113.7", "192.0.2.1", "70000", "2350"), // bad source port
    record("203.0.113.7", "192.0.2.1", "40000", "99999"), // bad port
    record("203.0.113.7", "192.0.2.1", "40000", "123456"),
    record("203.0.113.7", "192.0.2.1", "40000", "2351") + "\r", // CRLF
    "Nov 25 08:23:27 gw sshd[9]: " +
      record("198.51.100.1", "192.0.2.1", "1", "2").slice(27),
    "Nov 25 08:23:27 gw kernel: note: " +
      record("198.51.100.2", "192.0.2.1", "1", "2").slice(27),
    "IN=eth0 OUT= SRC=198.51.100.3 DST=192.0.2.1 PROTO=UDP SPT=53 DPT=2352",
    "Nov 25 08:23:27 gw kernel: KNOCK IN=eth0 OUT= SRC=198.51.100.4 DST=192.0.2.1 PROTO=ICMP TYPE=8",
    "Nov 25 08:23:27 gw kernel: KNOCK IN=IN=eth0 OUT= SRC=198.51.100.5 DST=192.0.2.1 PROTO=TCP SPT=1 DPT=2353",
    "Nov 25 08:23:27 hôte kernel: " +
      record("198.51.100.6", "192.0.2.1", "1", "2354").slice(27), // UTF-8
    record("198.51.100.7", "192.0.2.1", "1", "2355") + " " + "x".repeat(4200), // too long
    "",
    "no newline-free tricks here: SRC=1.2.3.4 DPT=5",
  );
  return lines;
}

interface Seen {
  hits: Omit<KnockHit, "timeMs">[];
  lines: number;
  rejections: [RejectCode, number][];
  counts: Record<RejectCode, number>;
}

const plain = (h: KnockHit): Omit<KnockHit, "timeMs"> => {
  const { timeMs: _t, ...rest } = JSON.parse(JSON.stringify(h)) as KnockHit;
  return rest;
};

async function viaBatches(path: string, f: CompiledLogFormat): Promise<Seen> {
  const rejections: [RejectCode, number][] = [];
  const source = createLogHitSource({
    path,
    replay: true,
    format: f,
    clock,
    retransmitWindowMs: 0,
    onReject: (d: Diagnostic<RejectCode>) =>
      rejections.push([d.code, d.where.kind === "log" ? d.where.line : -1]),
  });
  const hits: Omit<KnockHit, "timeMs">[] = [];
  for (let b = await source.nextBatch(); b; b = await source.nextBatch()) {
    hits.push(...b.map(plain));
  }
  return {
    hits,
    lines: source.stats.lines,
    rejections,
    counts: source.stats.rejections,
  };
}

async function viaColumns(
  path: string,
  f: CompiledLogFormat,
  workers: number,
  blockBytes: number,
): Promise<Seen & { fast: number }> {
  const rejections: [RejectCode, number][] = [];
  const source = createLogHitSource({
    path,
    replay: true,
    format: f,
    clock,
    retransmitWindowMs: 0,
    replayWorkers: workers,
    replayBlockBytes: blockBytes,
    onReject: (d: Diagnostic<RejectCode>) =>
      rejections.push([d.code, d.where.kind === "log" ? d.where.line : -1]),
  });
  const hits: Omit<KnockHit, "timeMs">[] = [];
  let fast = 0;
  for (let c = await source.nextColumns(); c; c = await source.nextColumns()) {
    expect(c.timeMs).toBe(1000);
    for (let i = 0; i < c.length; i++) {
      const h = c.hit(i);
      expect(h.timeMs).toBe(1000);
      if (c.v4[i]! >= 0) {
        fast++;
        // The numbers are the hit's.
        const q = h.srcIp.split(".").map(Number);
        expect(q[0]! * 2 ** 24 + q[1]! * 65536 + q[2]! * 256 + q[3]!).toBe(
          c.v4[i],
        );
        expect([c.dstPort[i], c.srcPort[i]]).toEqual([h.dstPort, h.srcPort]);
      }
      hits.push(plain(h));
    }
  }
  return {
    hits,
    lines: source.stats.lines,
    rejections,
    counts: source.stats.rejections,
    fast,
  };
}

function writeCorpus(
  dir: string,
  copies: number,
  finalNewline: boolean,
): string {
  const lines = corpus();
  const all: string[] = [];
  for (let k = 0; k < copies; k++) all.push(...lines);
  const path = join(dir, "mixed.log");
  writeFileSync(path, all.join("\n") + (finalNewline ? "\n" : ""));
  return path;
}

describe("nextColumns on a replayed file", () => {
  it.each([
    [0, 1024 * 1024],
    [0, 700],
    [2, 700],
    [1, 97], // blocks shorter than most lines: many own no line
    [2, 4096],
  ])(
    "gives nextBatch's hits (workers %i, blocks of %i bytes)",
    async (workers, blockBytes) => {
      const path = writeCorpus(tempDir(), 12, blockBytes !== 4096);
      const expected = await viaBatches(path, format);
      const got = await viaColumns(path, format, workers, blockBytes);
      expect(got.hits).toEqual(expected.hits);
      expect(got.lines).toBe(expected.lines);
      expect(got.counts).toEqual(expected.counts);
      expect(got.rejections).toEqual(expected.rejections);
      // Some hits went through the fast lane (not those of 64 KiB texts with UTF-8 in them).
      if (blockBytes < 4096) expect(got.fast).toBeGreaterThan(0);
      expect(got.fast).toBeLessThan(expected.hits.length);
    },
  );

  it("takes the usual IPv4 records through the fast lane (ASCII text)", async () => {
    const dir = tempDir();
    const path = join(dir, "ascii.log");
    const lines = corpus().filter((l) => Buffer.byteLength(l) === l.length);
    writeFileSync(path, lines.join("\n"));
    const expected = await viaBatches(path, format);
    const got = await viaColumns(path, format, 0, 1024 * 1024);
    expect(got.hits).toEqual(expected.hits);
    expect(got.fast).toBeGreaterThan(expected.hits.length / 2);
  });

  it("gives nextBatch's hits with a <logformat> block (no fast lane)", async () => {
    const r = compileLogFormat({
      name: "custom",
      where: { kind: "config", file: "t.conf", line: 1 },
      required: {
        text: "KNOCK",
        where: { kind: "config", file: "t.conf", line: 2 },
      },
      ipclient: {
        text: "SRC=(\\S+)",
        where: { kind: "config", file: "t.conf", line: 3 },
      },
      port: {
        text: "DPT=(\\S+)",
        where: { kind: "config", file: "t.conf", line: 4 },
      },
    });
    const f = r.format!;
    const path = writeCorpus(tempDir(), 5, true);
    const expected = await viaBatches(path, f);
    const got = await viaColumns(path, f, 2, 512);
    expect(got.hits).toEqual(expected.hits);
    expect(got.rejections).toEqual(expected.rejections);
    expect(got.fast).toBe(0);
    expect(expected.hits.length).toBeGreaterThan(0);
  });

  it("an empty file and a missing one", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "empty.log"), "");
    expect(
      await viaColumns(join(dir, "empty.log"), format, 2, 64),
    ).toMatchObject({
      hits: [],
      lines: 0,
    });
    await expect(
      viaColumns(join(dir, "nope.log"), format, 2, 64),
    ).rejects.toMatchObject({
      code: "ENOENT",
    });
  });
});

describe("parseBlock", () => {
  it("each line belongs to the block it starts in", () => {
    const dir = tempDir();
    const path = join(dir, "b.log");
    // Lines of 10 bytes with the newline: blocks of 25 bytes start mid-line.
    writeFileSync(
      path,
      ["aaaaaaaaa", "bbbbbbbbb", "ccccccccc", "ddddddddd", "eee"].join("\n"),
    );
    const fd = openSync(path, "r");
    try {
      const size = statSync(path).size;
      const lines = [0, 1].map(
        (b) => parseBlock(fd, size, b, 25, format).lines,
      );
      // Block 0 = bytes 0-24: lines starting at 0, 10, 20; block 1: at 30, 40.
      expect(lines).toEqual([3, 2]);
      // A line that starts exactly at a block's first byte is that block's.
      expect(
        [0, 1, 2, 3, 4].map((b) => parseBlock(fd, size, b, 10, format).lines),
      ).toEqual([1, 1, 1, 1, 1]);
    } finally {
      closeSync(fd);
    }
  });
});
