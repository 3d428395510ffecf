import { appendFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Diagnostic } from "@portknock/core";
import { describe, expect, it } from "vitest";
import type { RejectCode } from "../src/errors.ts";
import { createLogHitSource } from "../src/log-hit-source.ts";
import { builtinLogFormat, compileLogFormat } from "../src/log-format.ts";
import type { KnockHit } from "@portknock/core";
import type { LogLine } from "../src/types.ts";
import { customFormat } from "./replay-helpers.ts";
import {
  collect,
  events,
  fixture,
  recordingLogger,
  tempDir,
} from "./helpers.ts";

const format = builtinLogFormat("iptables");
const record = (src: string, sport: number, dport: number): string =>
  `Nov 25 08:23:27 gw kernel: KNOCK IN=lo OUT= MAC= SRC=${src} DST=127.0.0.1 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=0 DF PROTO=TCP SPT=${sport} DPT=${dport} WINDOW=65495 RES=0x00 SYN URGP=0`;

describe("createLogHitSource", () => {
  it("replays a file: hits in order (a repeated line too: retransmits are the detector's), rejections counted and logged", async () => {
    const path = fixture("rsyslog-traditional.log");
    const logger = recordingLogger();
    const rejected: [Diagnostic<RejectCode>, string][] = [];
    const source = createLogHitSource({
      path,
      replay: true,
      format,
      clock: { now: () => 1000 },
      logger,
      onReject: (d, line) => rejected.push([d, line]),
    });
    const hits: KnockHit[] = [];
    for await (const hit of source) hits.push(hit);
    expect(hits.map((h) => [h.origin, h.srcIp, h.dstPort])).toEqual([
      [`${path}:1`, "203.0.113.9", 2345],
      [`${path}:2`, "203.0.113.9", 2346],
      [`${path}:3`, "2001:db8::9", 2347],
      [`${path}:4`, "2001:db8::9", 2348],
      [`${path}:6`, "203.0.113.9", 2345],
      [`${path}:11`, "192.0.2.1", 443],
      [`${path}:12`, "10.0.0.5", 2349],
    ]);
    expect(source.stats).toEqual({
      lines: 12,
      hits: 7,
      rejections: {
        LOG_BAD_IP: 0,
        LOG_BAD_PORT: 0,
        LOG_NO_MATCH: 2,
        LOG_LINE_BEFORE_START: 0,
        LOG_LINE_TOO_LONG: 0,
        LOG_NOT_REGULAR: 0,
      },
      // Not read in blocks (nextColumns only).
      blocks: 0,
      blocksByWorkers: 0,
      blocksTakenOver: 0,
      workersTakenOver: 0,
    });
    expect(rejected.map(([d]) => [d.code, d.where])).toEqual([
      ["LOG_NO_MATCH", { kind: "log", file: path, line: 8 }],
      ["LOG_NO_MATCH", { kind: "log", file: path, line: 9 }],
    ]);
    // Once per reason per minute, with the origin.
    expect(events(logger, "source.rejected")).toMatchObject([
      { level: "warn", fields: { code: "LOG_NO_MATCH", source: `${path}:8` } },
    ]);
  });

  it("replays with a <logformat> block: every line is tried, numbered across chunks", async () => {
    const path = join(tempDir(), "app.log");
    // About 2 MB: two chunks of the reader.
    const lines = Array.from({ length: 100_000 }, (_, i) =>
      i % 40_000 === 7
        ? `knock from 10.0.0.${i % 250} to ${i % 50_000}`
        : `other line ${i}`,
    );
    writeFileSync(path, lines.join("\r\n"));
    const { format: mine } = compileLogFormat({
      name: "mine",
      where: { kind: "config", file: "k.conf", line: 1 },
      ipclient: {
        text: "from (\\S+)",
        where: { kind: "config", file: "k.conf", line: 2 },
      },
      port: {
        text: "to (\\d+)$",
        where: { kind: "config", file: "k.conf", line: 3 },
      },
    });
    if (!mine) throw new Error("no format");
    const source = createLogHitSource({ path, replay: true, format: mine });
    const hits: KnockHit[] = [];
    for await (const hit of source) hits.push(hit);
    expect(hits.map((h) => [h.origin, h.srcIp, h.dstPort])).toEqual([
      [`${path}:8`, "10.0.0.7", 7],
      [`${path}:40008`, "10.0.0.7", 40007],
      [`${path}:80008`, "10.0.0.7", 30007],
    ]);
    expect(source.stats.lines).toBe(100_000);
  });

  it("logs a suppressed count when a reason comes back after a minute", async () => {
    let t = 0;
    const logger = recordingLogger();
    const bad = (n: number): LogLine => ({
      text: record("1.2.3.999", 1, 2),
      file: "/var/log/firewall",
      lineNo: n,
    });
    async function* lines(): AsyncGenerator<LogLine> {
      yield bad(1);
      yield bad(2);
      yield bad(3);
      await Promise.resolve();
      t = 60_000;
      yield bad(4);
    }
    const source = createLogHitSource({
      lines: lines(),
      format,
      clock: { now: () => t },
      logger,
    });
    for await (const _ of source) expect.unreachable();
    expect(source.stats.rejections.LOG_BAD_IP).toBe(4);
    expect(
      events(logger, "source.rejected").map((e) => [
        e.fields.source,
        e.fields.suppressed,
      ]),
    ).toEqual([
      ["/var/log/firewall:1", undefined],
      ["/var/log/firewall:4", 2],
    ]);
  });

  it("follows a file and stops on close (idempotent)", async () => {
    const path = join(tempDir(), "fw.log");
    writeFileSync(path, `${record("10.0.0.1", 1, 1)}\n`);
    let ready!: () => void;
    const isReady = new Promise<void>((resolve) => (ready = resolve));
    const source = createLogHitSource({
      path,
      format,
      pollIntervalMs: 25,
      onReady: () => ready(),
    });
    const got = collect(source);
    await isReady;
    appendFileSync(
      path,
      `noise\n${record("10.0.0.2", 2, 2)}\n${record("10.0.0.2", 2, 2)}\n`,
    );
    appendFileSync(path, `${record("10.0.0.3", 3, 3)}\n`);
    await got.waitFor((hits) => hits.length === 2);
    await source.close();
    await source.close();
    expect(await got.ended).toBeUndefined();
    expect(got.items.map((h) => [h.srcIp, h.origin])).toEqual([
      ["10.0.0.2", `${path}:2`],
      ["10.0.0.2", `${path}:3`],
      ["10.0.0.3", `${path}:4`],
    ]);
    expect(source.stats).toMatchObject({ lines: 4, hits: 3 });
  });

  it("setFormat: lines read after it use the new format, the file is not reopened (#14)", async () => {
    const path = join(tempDir(), "fw.log");
    writeFileSync(path, "");
    let ready!: () => void;
    const isReady = new Promise<void>((resolve) => (ready = resolve));
    const source = createLogHitSource({
      path,
      format,
      pollIntervalMs: 25,
      onReady: () => ready(),
    });
    const got = collect(source);
    await isReady;
    appendFileSync(path, `${record("10.0.0.1", 1, 1001)}\n`);
    await got.waitFor((hits) => hits.length === 1);
    source.setFormat(customFormat());
    // A netfilter record without the KNOCK prefix the custom format requires: skipped now.
    const plain = record("10.0.0.4", 4, 1004).replace("KNOCK ", "");
    appendFileSync(
      path,
      `KNOCK SRC=10.0.0.2 DPT=1002\n${plain}\nKNOCK SRC=10.0.0.3 DPT=1003\n`,
    );
    await got.waitFor((hits) => hits.length === 3);
    await source.close();
    expect(got.items.map((h) => [h.srcIp, h.dstPort, h.origin])).toEqual([
      ["10.0.0.1", 1001, `${path}:1`],
      ["10.0.0.2", 1002, `${path}:2`],
      ["10.0.0.3", 1003, `${path}:4`],
    ]);
    expect(source.stats).toMatchObject({ lines: 4, hits: 3 });
  });

  it("setFormat is refused by a replay in blocks, whose format is fixed", async () => {
    const path = join(tempDir(), "fw.log");
    writeFileSync(path, `${record("10.0.0.1", 1, 1001)}\n`);
    const source = createLogHitSource({ path, replay: true, format });
    expect(await source.nextColumns()).toBeDefined();
    expect(() => source.setFormat(customFormat())).toThrow(
      expect.objectContaining({ code: "LOG_FORMAT_FIXED" }) as Error,
    );
    await source.close();
  });

  it("reads a command's output, and stops on the caller's signal", async () => {
    const dir = tempDir();
    const controller = new AbortController();
    const source = createLogHitSource({
      argv: [
        process.execPath,
        fixture("log-command.js"),
        join(dir, "runs"),
        "stay",
        // No time stamp: kept (an old stamp would be dropped, below).
        record("10.9.8.7", 5, 6).replace(/^\w+ \d+ [\d:]+ /, ""),
      ],
      format,
      signal: controller.signal,
    });
    const got = collect(source);
    await got.waitFor((hits) => hits.length === 1);
    controller.abort();
    expect(await got.ended).toBeUndefined();
    expect(got.items[0]).toMatchObject({
      srcIp: "10.9.8.7",
      dstPort: 6,
      origin: "node:1",
    });
  });

  it("drops a command's lines stamped before it started: counted, passed to onReject, not parsed (#15)", async () => {
    const dir = tempDir();
    const controller = new AbortController();
    const rejected: [Diagnostic<RejectCode>, string][] = [];
    const old = record("10.9.8.1", 5, 6); // Nov 25 08:23:27, before any start
    const fresh = `${new Date(Date.now() + 60_000).toISOString()} gw kernel: KNOCK IN=lo OUT= MAC= SRC=10.9.8.2 DST=127.0.0.1 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=0 DF PROTO=TCP SPT=5 DPT=7 WINDOW=65495 RES=0x00 SYN URGP=0`;
    const source = createLogHitSource({
      argv: [
        process.execPath,
        fixture("log-command.js"),
        join(dir, "runs"),
        "stay",
        old,
        fresh,
      ],
      format,
      signal: controller.signal,
      onReject: (d, line) => rejected.push([d, line]),
    });
    const got = collect(source);
    await got.waitFor((hits) => hits.length === 1);
    controller.abort();
    await got.ended;
    expect(got.items.map((h) => [h.srcIp, h.origin])).toEqual([
      ["10.9.8.2", "node:2"],
    ]);
    expect(source.stats.rejections.LOG_LINE_BEFORE_START).toBe(1);
    expect(rejected.map(([d, line]) => [d.code, d.where, line])).toEqual([
      [
        "LOG_LINE_BEFORE_START",
        { kind: "log", file: "node", line: 1 },
        `${old} run=1`,
      ],
    ]);
  });
});
