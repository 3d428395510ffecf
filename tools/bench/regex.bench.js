// User regexes on the linear-time engine (issue #16): re2js, through `compileLogFormat` and
// `parseLogLine` as the daemon runs them. Rows: the worst case per line on hostile patterns and
// lines (the issue's `^.*,.*,.*,.*,.*,(\d+)$`, `(a|aa)*b`, `(\w+\s?)*$`), V8's RegExp on the
// same patterns where it finishes at all, the usual cost of a <logformat> per line (V8 and
// re2js), and `knockd -test -replay` with a <logformat> block over a 1M-line log.
// Run: pnpm build && node tools/bench/run.js regex
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { performance } from "node:perf_hooks";

import * as L from "@portknock/logsource";

const KNOCKD = fileURLToPath(
  new URL("../../packages/knockd/bin/knockd.js", import.meta.url),
);
const at = (line) => ({ kind: "config", file: "bench.conf", line });

/** A <logformat> compiled for the linear engine; `keys`: key → regex source. */
function linearFormat(keys) {
  const block = { name: "bench", where: at(1) };
  for (const [k, v] of Object.entries(keys))
    block[k] = { text: v, where: at(2) };
  const { format, diagnostics } = L.compileLogFormat(block);
  if (!format) throw new Error(JSON.stringify(diagnostics));
  return format;
}

/** The same keys as V8 RegExps, through the same parseLogLine path (the old engine). */
function v8Format(keys) {
  const f = { name: "bench", builtin: undefined };
  for (const k of ["required", "interface", "protocol", "ipserver", "srcport"])
    f[k] = keys[k] === undefined ? undefined : new RegExp(keys[k]);
  f.ipclient = new RegExp(keys.ipclient);
  f.port = new RegExp(keys.port);
  return f;
}

/** Lines per second of `parseLogLine(line, format)`: best and median of 5 timed rounds. */
function rate(format, line, minMs = 200) {
  parseLogLine(format, line); // warm up
  const rates = [];
  for (let r = 0; r < 5; r++) {
    let n = 0;
    const t0 = performance.now();
    let t = t0;
    while (t - t0 < minMs) {
      for (let i = 0; i < 8; i++) parseLogLine(format, line);
      n += 8;
      t = performance.now();
    }
    rates.push((n * 1000) / (t - t0));
  }
  rates.sort((a, b) => b - a);
  return { opsPerSec: rates[0], medianOpsPerSec: rates[2] };
}

function parseLogLine(format, line) {
  return L.parseLogLine(line, format, "bench:1", 0);
}

const HIT =
  "Nov 25 08:00:05 gw kernel: [ 1234.567890] portknock IN=eth0 OUT= MAC=52:54:00:12:34:56:52:54:00:65:43:21:08:00 SRC=10.1.2.3 DST=192.0.2.1 LEN=60 TOS=0x00 PREC=0x00 TTL=57 ID=54321 DF PROTO=TCP SPT=40000 DPT=2222 WINDOW=64240 RES=0x00 SYN URGP=0";
const NOISE =
  "Nov 25 08:00:01 gw sshd[811]: Invalid user admin from 203.0.113.9 port 50022";
// The README's example format.
const USUAL = {
  required: "portknock",
  ipclient: "SRC=([0-9a-f.:]+)",
  port: "DPT=([0-9]+)",
  protocol: "PROTO=(\\w+)",
  ipserver: "DST=(\\S+)",
  interface: "IN=(\\S*)",
};

function ip(i) {
  return `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
}

function replay(conf, file) {
  const r = spawnSync(
    process.execPath,
    [KNOCKD, "-conf", conf, "-test", "-quiet", "-logjson", "-replay", file],
    { encoding: "utf8", maxBuffer: 1 << 24 },
  );
  if (r.status !== 0) throw new Error(`knockd failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

export async function run() {
  const results = [];
  const notes = [];
  const perLine = (name, r, n) => {
    results.push({ name, ...r });
    notes.push(
      `${name}: ${(1e6 / r.medianOpsPerSec).toFixed(1)} µs per ${n.toLocaleString("en-US")}-character line`,
    );
  };

  // The worst cases: hostile pattern, hostile line (no match, the slowest outcome).
  const issue = "^.*,.*,.*,.*,.*,(\\d+)$";
  const csv = linearFormat({ ipclient: "^([^,]+),", port: issue });
  for (const n of [300, 4096]) {
    perLine(
      `re2js ${issue}, line "a,a,…" of ${n}`,
      rate(csv, "a,".repeat(n / 2)),
      n,
    );
  }
  // Over 4,096 characters parseLogLine skips a line unmatched; the engine alone on 30,000:
  const issueRegex = csv.port;
  const long = "a,".repeat(15_000);
  issueRegex.exec(long);
  const t0 = performance.now();
  for (let i = 0; i < 5; i++) issueRegex.exec(long);
  const longMs = (performance.now() - t0) / 5;
  results.push({
    name: `re2js ${issue} alone, line of 30,000 (lines/s)`,
    opsPerSec: 1000 / longMs,
    medianOpsPerSec: 1000 / longMs,
  });
  notes.push(
    `re2js ${issue} on a 30,000-character line: ${longMs.toFixed(1)} ms`,
  );
  for (const [pattern, unit, n] of [
    ["(a|aa)*b", "a", 4096],
    ["(\\w+\\s?)*$", "a ", 4096],
  ]) {
    const f = linearFormat({
      ipclient: "^(x)",
      port: "^(x)",
      required: pattern,
    });
    perLine(
      `re2js ${pattern} (required), line of ${n}`,
      rate(f, unit.repeat(n / unit.length).slice(0, n - 1) + "!"),
      n,
    );
  }
  // V8 on the same patterns, on lines short enough to finish.
  for (const [pattern, line] of [
    [issue, "a,".repeat(12)],
    ["(a|aa)*b", "a".repeat(24)],
  ]) {
    const f = v8Format({ ipclient: "^(x)", port: pattern });
    perLine(
      `V8 ${pattern}, line of only ${line.length}`,
      rate(f, line, 100),
      line.length,
    );
  }
  {
    const re = new RegExp(issue);
    const line = "a,".repeat(50);
    const t = performance.now();
    re.exec(line);
    const ms = performance.now() - t;
    notes.push(
      `V8 ${issue} on a 100-character line: ${ms.toFixed(0)} ms (300 characters: ~6 s; 4,096: does not finish)`,
    );
  }

  // The usual cost: a hit line and a noise line through the README's example format.
  const linear = linearFormat(USUAL);
  const v8 = v8Format(USUAL);
  perLine("re2js README <logformat>, hit line", rate(linear, HIT), HIT.length);
  perLine(
    "V8 README <logformat>, hit line (before #16)",
    rate(v8, HIT),
    HIT.length,
  );
  perLine(
    "re2js README <logformat>, noise line",
    rate(linear, NOISE),
    NOISE.length,
  );
  perLine(
    "V8 README <logformat>, noise line (before #16)",
    rate(v8, NOISE),
    NOISE.length,
  );

  // knockd -test -replay with that <logformat>, 1M lines (50% hits).
  const dir = mkdtempSync(join(tmpdir(), "pk-bench-regex-"));
  try {
    const file = join(dir, "mixed.log");
    const lines = [];
    for (let i = 0; i < 1_000_000; i++) {
      lines.push(
        i % 2 === 0
          ? HIT.replace(
              "SRC=10.1.2.3",
              `SRC=${ip((i >> 1) % 300_000)}`,
            ).replace("DPT=2222", `DPT=${1024 + ((i * 7919) % 32768)}`)
          : NOISE,
      );
    }
    writeFileSync(file, lines.join("\n") + "\n");
    const conf = join(dir, "knockdaemon.conf");
    writeFileSync(
      conf,
      [
        "knock = CLIENT,PORT,FLAG0,TIME,CHECKSUM",
        "portspan = 1024-33791",
        "encrypt = yes",
        "cipher = Blowfish",
        "key = benchmark passphrase",
        "iv = yes",
        "<logformat mine>",
        ...Object.entries(USUAL).map(([k, v]) => `  ${k} = ${v}`),
        "</logformat>",
        "uselogformat = mine",
        "<actions>",
        "<action>",
        "condition = PORT == 22",
        "template = t",
        "</action>",
        "<template t>",
        'system = "/bin/true CLIENT"',
        "</template>",
        "</actions>",
      ].join("\n"),
    );
    const runs = Array.from({ length: 3 }, () => replay(conf, file));
    const r = runs.map((c) => c.linesPerSecond).sort((a, b) => b - a);
    results.push({
      name: "knockd -test -replay, README <logformat>, 1M lines, pipeline",
      opsPerSec: r[0],
      medianOpsPerSec: r[1],
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return {
    title: "user regexes (#16): re2js, linear time (lines/s)",
    results,
    unit: "lines/s",
    notes: notes.join("\n"),
  };
}
