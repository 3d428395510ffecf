// Log source throughput (issue #6 target: ≥ 2,000,000 lines/s on one core through reading,
// parsing and the retransmit filter, for a 1M-line file: 50% in-span iptables hits from
// ~300,000 distinct sources, 50% other programs' lines).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";

import * as L from "@portknock/logsource";
import { formatTable } from "./harness.js";

const LINES = 1_000_000;
const SOURCES = 300_000;
const ROUNDS = 5;

/** A small deterministic PRNG (mulberry32), so every run reads the same file. */
function rng(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NOISE = [
  (r) =>
    `sshd[${1000 + Math.floor(r() * 9000)}]: Failed password for invalid user admin from 203.0.113.${Math.floor(r() * 256)} port ${1024 + Math.floor(r() * 60000)} ssh2`,
  () =>
    "CRON[2211]: (root) CMD (command -v debian-sa1 > /dev/null && debian-sa1 1 1)",
  () => "systemd[1]: Started session-4711.scope - Session 4711 of User alice.",
  (r) =>
    `postfix/smtpd[${Math.floor(r() * 30000)}]: connect from unknown[198.51.100.${Math.floor(r() * 256)}]`,
  () =>
    "kernel: [812345.123456] usb 1-1: new high-speed USB device number 5 using xhci_hcd",
];

function generate(path) {
  const r = rng(6);
  const out = [];
  for (let i = 0; i < LINES; i++) {
    const head = `Nov 25 08:${String(i % 60).padStart(2, "0")}:27 gw `;
    if (i % 2 === 0) {
      const src = Math.floor(r() * SOURCES);
      const ip = `10.${(src >> 16) & 255}.${(src >> 8) & 255}.${src & 255}`;
      const port = 1024 + Math.floor(r() * 32768);
      out.push(
        `${head}kernel: [12345.678901] portknock IN=eth0 OUT= MAC=52:54:00:12:34:56:52:54:00:65:43:21:08:00 SRC=${ip} DST=192.0.2.1 LEN=60 TOS=0x00 PREC=0x00 TTL=63 ID=${i & 0xffff} DF PROTO=TCP SPT=${32768 + Math.floor(r() * 28000)} DPT=${port} WINDOW=64240 RES=0x00 SYN URGP=0`,
      );
    } else {
      out.push(head + NOISE[i % NOISE.length](r));
    }
  }
  writeFileSync(path, out.join("\n") + "\n");
}

/**
 * Rates of `pass` (which returns the lines it read) by wall-clock time, and by the CPU time of
 * the whole process (all its threads: I/O and GC helpers too), which other processes on a
 * shared machine do not inflate.
 */
async function measure(name, pass) {
  await pass(); // warm up
  const wall = [];
  const cpu = [];
  for (let i = 0; i < ROUNDS; i++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const n = await pass();
    const { user, system } = process.cpuUsage(c0);
    wall.push((n * 1000) / (performance.now() - t0));
    cpu.push((n * 1e6) / (user + system));
  }
  const row = (label, rates) => {
    rates.sort((a, b) => a - b);
    return {
      name: label,
      opsPerSec: rates[rates.length - 1],
      medianOpsPerSec: rates[Math.floor(rates.length / 2)],
    };
  };
  return [row(name, wall), row(`${name} (per CPU second)`, cpu)];
}

/**
 * Issue #16: replaying a file with one line of LONG_MB MB (an `IN=` and then `x`s, between two
 * short lines), median of three, milliseconds. Before the fix it was quadratic (the block reader
 * grew its buffer by 16 KiB and searched the whole line again each time: 8 MB took 2.5 s).
 */
async function longLines(dir, format, clock) {
  const file = join(dir, "long.log");
  const out = [];
  for (const mb of [8, 32]) {
    writeFileSync(file, `a\nIN=${"x".repeat(mb * 1024 * 1024)}\nb\n`);
    for (const how of ["nextColumns", "nextBatch"]) {
      const ms = [];
      for (let i = 0; i < 3; i++) {
        const source = L.createLogHitSource({
          path: file,
          replay: true,
          format,
          clock,
          replayWorkers: 0,
        });
        const t0 = performance.now();
        while ((await source[how]()) !== undefined);
        ms.push(performance.now() - t0);
        if (
          source.stats.lines !== 3 ||
          source.stats.rejections.LOG_LINE_TOO_LONG !== 1
        )
          throw new Error("long line: wrong count");
      }
      ms.sort((x, y) => x - y);
      out.push(
        `${how.padEnd(12)} ${String(mb).padStart(3)} MB line: ${ms[1].toFixed(0).padStart(6)} ms`,
      );
    }
  }
  return [
    "replay of one long line (median of 3, ms; linear: 4x the line, ~4x the time)",
    ...out,
  ].join("\n");
}

/**
 * The built-in format's worst lines (issue #16): the record finder on crafted lines of
 * `MAX_RECORD_CHARS` (longer ones are not parsed), each shape a way to make it test many places
 * where a record could start. Per line, median of 5 rounds, against a usual record.
 */
export function worstCaseLines(format) {
  const max = 4096;
  const fill = (head, unit) => {
    let line = head;
    while (line.length + unit.length <= max) line += unit;
    return line;
  };
  const record =
    "IN=eth0 OUT= MAC=52:54:00:12:34:56:52:54:00:65:43:21:08:00 SRC=203.0.113.9 DST=192.0.2.1 LEN=60 TOS=0x00 PREC=0x00 TTL=52 ID=1 DF PROTO=TCP SPT=51234 DPT=2345 WINDOW=64240 RES=0x00 SYN URGP=0";
  const k = "Nov 25 08:23:27 gw kernel: ";
  const shapes = [
    ["a usual record (kernel tag)", `${k}[12345.678901] knock: ${record}`],
    [
      "a usual record (dmesg, prefix with ': ')",
      `[12345.678901] fw: drop in: ${record}`,
    ],
    ["kernel: then IN=IN=IN=… (one run)", fill(k, "IN=")],
    ["kernel: then 'IN= OUT= ' repeated", fill(k, "IN= OUT= ")],
    [
      "kernel: then every optional field, repeated",
      fill(k, "IN= OUT= PHYSIN= PHYSOUT= MACSRC= MACDST= MACPROTO= TUNNEL= "),
    ],
    ["kernel: then record starts only, repeated", fill(k, "IN=a OUT= SRC=1 ")],
    [
      "kernel: record starts, then a real record",
      fill(k, "IN=a OUT= SRC=1 ").slice(0, max - record.length - 1) +
        " " +
        record,
    ],
    [
      "a record with 1,000 fields before PROTO=",
      fill(`${k}IN=eth0 OUT= SRC=203.0.113.9 DST=192.0.2.1 `, "x ").slice(
        0,
        max - 30,
      ) + "PROTO=TCP SPT=1 DPT=2",
    ],
    ["untagged 'a: IN= OUT= ' repeated", fill("", "a: IN= OUT= SRC=1 ")],
    [
      "another program's line, record pieces",
      fill("Nov 25 08:23:27 gw sshd[1]: ", "IN=a OUT= SRC=1 "),
    ],
    ["no IN= at all", fill(k, "x")],
  ];
  // Warm every path first, so that no shape pays for compiling another's.
  for (let i = 0; i < 2000; i++) {
    for (const [, line] of shapes) L.parseLogLine(line, format, "b", 0);
  }
  const rows = [];
  for (const [name, line] of shapes) {
    if (line.length > max) throw new Error(`${name}: ${line.length} chars`);
    const per = [];
    for (let round = 0; round < 5; round++) {
      let n = 0;
      const t0 = performance.now();
      do {
        for (let i = 0; i < 100; i++) L.parseLogLine(line, format, "b", 0);
        n += 100;
      } while (performance.now() - t0 < 100);
      per.push(((performance.now() - t0) * 1000) / n);
    }
    per.sort((x, y) => x - y);
    rows.push(
      `${name.padEnd(44)} ${String(line.length).padStart(5)} chars ${per[2].toFixed(2).padStart(8)} µs/line`,
    );
  }
  return [
    "built-in format, worst lines for the record finder (median of 5, µs per line)",
    ...rows,
  ].join("\n");
}

export async function run() {
  const dir = mkdtempSync(join(tmpdir(), "portknock-bench-"));
  const file = join(dir, "firewall.log");
  try {
    generate(file);
    const format = L.builtinLogFormat("iptables");
    const clock = { now: () => 0 };
    let hits = 0;
    const results = [
      ...(await measure("readLogFile only", async () => {
        let n = 0;
        for await (const line of L.readLogFile(file))
          n += line.lineNo > 0 ? 1 : 0;
        return n;
      })),
      ...(await measure("readLogFile + parseLogRecord", async () => {
        let n = 0;
        for await (const line of L.readLogFile(file)) {
          n++;
          const r = L.parseLogRecord(line, format, clock);
          if (r.kind === "hit") hits++;
        }
        return n;
      })),
      ...(await measure("createLogHitSource (replay)", async () => {
        const source = L.createLogHitSource({
          path: file,
          replay: true,
          format,
          clock,
        });
        for await (const hit of source) hits += hit.dstPort > 0 ? 1 : 0;
        return source.stats.lines;
      })),
      // knockd -replay's path: blocks through the WebAssembly scanner, hits as numbers.
      ...(await measure(
        "createLogHitSource nextColumns (replay, this thread only)",
        async () => {
          const source = L.createLogHitSource({
            path: file,
            replay: true,
            format,
            clock,
            replayWorkers: 0,
          });
          for (
            let c = await source.nextColumns();
            c;
            c = await source.nextColumns()
          )
            hits += c.length;
          return source.stats.lines;
        },
      )),
    ];
    if (hits === 0) throw new Error("benchmark found no hits");
    const title = `logsource (lines/s, one core, ${LINES.toLocaleString("en-US")}-line file, 50% hits from ${SOURCES.toLocaleString("en-US")} sources)`;
    return {
      title,
      results,
      unit: "lines/s",
      table:
        formatTable(title, results, "lines/s") +
        "\n\n" +
        (await longLines(dir, format, clock)) +
        "\n\n" +
        worstCaseLines(format),
      notes:
        "Wall-clock rows are slowed by other processes on a shared machine; " +
        "'per CPU second' rows divide by the CPU time of the whole process (I/O and GC threads included).",
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
