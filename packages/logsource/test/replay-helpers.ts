/** Shared by the replay tests: a corpus of lines, and the hits of both replay paths. */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Diagnostic } from "@portknock/core";
import { expect } from "vitest";
import type { RejectCode } from "../src/errors.ts";
import type {
  LogHitSource,
  LogHitSourceOptions,
  LogSourceStats,
} from "../src/log-hit-source.ts";
import { createLogHitSource } from "../src/log-hit-source.ts";
import type { CompiledLogFormat } from "../src/log-format.ts";
import { builtinLogFormat, compileLogFormat } from "../src/log-format.ts";
import type { PrestartedReplay } from "../src/prestart-replay.ts";
import type { KnockHit } from "@portknock/core";
import { fixture } from "./helpers.ts";

export const format: CompiledLogFormat = builtinLogFormat("iptables");
const clock = { now: (): number => 1000 };

const record = (src: string, dst: string, sport: string, dport: string) =>
  `Nov 25 08:23:27 gw kernel: [ 12.5] KNOCK IN=eth0 OUT= MAC=52:54:00:12:34:56:52:54:00:65:43:21:08:00 SRC=${src} DST=${dst} LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=0 DF PROTO=TCP SPT=${sport} DPT=${dport} WINDOW=65495 RES=0x00 SYN URGP=0`;

/** Every fixture line, and the lines the fast lane must leave to `decodeLogLine`. */
export function corpus(): string[] {
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

export interface Seen {
  hits: Omit<KnockHit, "timeMs">[];
  lines: number;
  rejections: [RejectCode, number][];
  counts: Record<RejectCode, number>;
}

const plain = (h: KnockHit): Omit<KnockHit, "timeMs"> => {
  const { timeMs: _t, ...rest } = JSON.parse(JSON.stringify(h)) as KnockHit;
  return rest;
};

/** A replaying source of `path` and the (code, line) of each line it rejects. */
function replaySource(
  path: string,
  f: CompiledLogFormat,
  more: Partial<LogHitSourceOptions> = {},
): { source: LogHitSource; rejections: [RejectCode, number][] } {
  const rejections: [RejectCode, number][] = [];
  const source = createLogHitSource({
    path,
    replay: true,
    format: f,
    clock,
    onReject: (d: Diagnostic<RejectCode>) =>
      rejections.push([d.code, d.where.kind === "log" ? d.where.line : -1]),
    ...more,
  });
  return { source, rejections };
}

export async function viaBatches(
  path: string,
  f: CompiledLogFormat,
): Promise<Seen> {
  const { source, rejections } = replaySource(path, f);
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

/** A fast-lane hit's numbers are its hit's: the source as an IPv4 number, the ports. */
export function expectNumbersOf(
  h: KnockHit,
  v4: number,
  dstPort: number,
  srcPort: number,
): void {
  const q = h.srcIp.split(".").map(Number);
  expect(q[0]! * 2 ** 24 + q[1]! * 65536 + q[2]! * 256 + q[3]!).toBe(v4);
  expect([dstPort, srcPort]).toEqual([h.dstPort, h.srcPort]);
}

/** Who parsed the blocks of a `nextColumns` replay (the source's counters). */
export type BlockCounts = Pick<
  LogSourceStats,
  "blocks" | "blocksByWorkers" | "blocksTakenOver" | "workersTakenOver"
>;

export async function viaColumns(
  path: string,
  f: CompiledLogFormat,
  workers: number | "auto" | PrestartedReplay,
  blockBytes?: number,
): Promise<Seen & { fast: number; blocks: BlockCounts }> {
  const { source, rejections } = replaySource(path, f, {
    replayWorkers: workers,
    ...(blockBytes !== undefined ? { replayBlockBytes: blockBytes } : {}),
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
        expectNumbersOf(h, c.v4[i]!, c.dstPort[i]!, c.srcPort[i]!);
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
    blocks: {
      blocks: source.stats.blocks,
      blocksByWorkers: source.stats.blocksByWorkers,
      blocksTakenOver: source.stats.blocksTakenOver,
      workersTakenOver: source.stats.workersTakenOver,
    },
  };
}

/** A `<logformat>` block: KNOCK lines, SRC= and DPT= (no fast lane). */
export function customFormat(): CompiledLogFormat {
  const at = (line: number) =>
    ({ kind: "config", file: "t.conf", line }) as const;
  return compileLogFormat({
    name: "custom",
    where: at(1),
    required: { text: "KNOCK", where: at(2) },
    ipclient: { text: "SRC=(\\S+)", where: at(3) },
    port: { text: "DPT=(\\S+)", where: at(4) },
  }).format!;
}

export function writeCorpus(
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
