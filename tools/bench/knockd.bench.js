// knockd file mode, whole pipeline (issue #6): `knockd -test -replay` over a 1M-line log,
// 50% in-span netfilter hits from 300,000 distinct sources and 50% other programs' lines, against
// a bare Perl regex loop over the same file; and the peak RSS with 1,000,000 distinct spoofed
// sources under the default maxsources (65536).
// Run: pnpm build && node tools/bench/run.js knockd
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync, createWriteStream } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { performance } from "node:perf_hooks";

const KNOCKD = fileURLToPath(
  new URL("../../packages/knockd/bin/knockd.js", import.meta.url),
);

const NOISE = [
  "Nov 25 08:00:01 gw sshd[811]: Invalid user admin from 203.0.113.9 port 50022",
  "Nov 25 08:00:02 gw CRON[900]: (root) CMD (run-parts /etc/cron.hourly)",
  "Nov 25 08:00:03 gw systemd[1]: Started Session 42 of user root.",
  "Nov 25 08:00:04 gw postfix/smtpd[2211]: connect from unknown[198.51.100.23]",
];

function ip(i) {
  return `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
}

function hitLine(src, dport, sport) {
  return `Nov 25 08:00:05 gw kernel: [ 1234.567890] portknock IN=eth0 OUT= MAC=52:54:00:12:34:56:52:54:00:65:43:21:08:00 SRC=${src} DST=192.0.2.1 LEN=60 TOS=0x00 PREC=0x00 TTL=57 ID=54321 DF PROTO=TCP SPT=${sport} DPT=${dport} WINDOW=64240 RES=0x00 SYN URGP=0`;
}

async function writeLines(path, n, line) {
  const out = createWriteStream(path);
  let buf = [];
  for (let i = 0; i < n; i++) {
    buf.push(line(i));
    if (buf.length === 10_000) {
      if (!out.write(buf.join("\n") + "\n"))
        await new Promise((r) => out.once("drain", r));
      buf = [];
    }
  }
  if (buf.length) out.write(buf.join("\n") + "\n");
  await new Promise((r) => out.end(r));
}

/** Whether `taskset` (util-linux) can pin a process to one CPU here. */
function hasTaskset() {
  return spawnSync("taskset", ["-c", "0", "true"]).status === 0;
}

/** `knockd -test -replay`; `oneCore`: pinned to CPU 0 (then it starts no worker thread). */
function replay(conf, file, oneCore = false) {
  const t0 = performance.now();
  const args = [
    KNOCKD,
    "-conf",
    conf,
    "-test",
    "-quiet",
    "-logjson",
    "-replay",
    file,
  ];
  const r = oneCore
    ? spawnSync("taskset", ["-c", "0", process.execPath, ...args], {
        encoding: "utf8",
        maxBuffer: 1 << 24,
      })
    : spawnSync(process.execPath, args, {
        encoding: "utf8",
        maxBuffer: 1 << 24,
      });
  const wallMs = performance.now() - t0;
  if (r.status !== 0) throw new Error(`knockd failed: ${r.stderr}`);
  return { wallMs, counters: JSON.parse(r.stdout) };
}

export async function run() {
  const dir = mkdtempSync(join(tmpdir(), "pk-bench-"));
  try {
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
    const N = 1_000_000;
    const mixed = join(dir, "mixed.log");
    await writeLines(mixed, N, (i) =>
      i % 2 === 0
        ? hitLine(
            ip((i >> 1) % 300_000),
            1024 + ((i * 7919) % 32768),
            1024 + (i % 60000),
          )
        : NOISE[(i >> 1) % NOISE.length],
    );
    const spoofed = join(dir, "spoofed.log");
    await writeLines(spoofed, N, (i) =>
      hitLine(ip(i), 1024 + ((i * 7919) % 32768), 40000),
    );

    const results = [];
    const runs = Array.from({ length: 5 }, () => replay(conf, mixed));
    runs.sort((a, b) => a.wallMs - b.wallMs);
    const best = runs[0];
    const median = runs[2];
    results.push({
      name: "knockd -test -replay, whole process (start-up included)",
      opsPerSec: (N * 1000) / best.wallMs,
      medianOpsPerSec: (N * 1000) / median.wallMs,
    });
    const pipe = runs
      .map((r) => r.counters.linesPerSecond)
      .sort((a, b) => b - a);
    results.push({
      name: "knockd pipeline only (read + parse + queues + decode)",
      opsPerSec: pipe[0],
      medianOpsPerSec: pipe[2],
    });
    const perCpu = runs
      .map((r) => r.counters.linesPerCpuSecond)
      .sort((a, b) => b - a);
    results.push({
      name: "knockd pipeline only, per CPU second (GC and I/O threads included)",
      opsPerSec: perCpu[0],
      medianOpsPerSec: perCpu[2],
    });

    if (hasTaskset()) {
      // The pipeline target is for one core: the same replay pinned to CPU 0 (Node
      // counts one available core, so knockd starts no worker thread).
      const one = Array.from({ length: 5 }, () => replay(conf, mixed, true));
      const rates = one
        .map((r) => r.counters.linesPerSecond)
        .sort((a, b) => b - a);
      results.push({
        name: "knockd pipeline only, one core (taskset -c 0, no worker thread)",
        opsPerSec: rates[0],
        medianOpsPerSec: rates[2],
      });
      one.sort((a, b) => a.wallMs - b.wallMs);
      results.push({
        name: "knockd -test -replay, whole process on one core",
        opsPerSec: (N * 1000) / one[0].wallMs,
        medianOpsPerSec: (N * 1000) / one[2].wallMs,
      });
    }

    const perlRates = [];
    for (let k = 0; k < 5; k++) {
      const t0 = performance.now();
      const p = spawnSync(
        "perl",
        ["-ne", "$n++ if /SRC=(\\S+) .*DPT=(\\d+)/; END { print $n }", mixed],
        { encoding: "utf8" },
      );
      if (p.status !== 0) break;
      perlRates.push((N * 1000) / (performance.now() - t0));
    }
    if (perlRates.length) {
      perlRates.sort((a, b) => b - a);
      results.push({
        name: "bare Perl regex loop, same file (reference)",
        opsPerSec: perlRates[0],
        medianOpsPerSec: perlRates[1] ?? perlRates[0],
      });
    }

    const flood = replay(conf, spoofed);
    const notes = [
      `mixed: ${best.counters.hits} hits from ${300_000} sources, ${best.counters.queue.sourcesEvicted} evictions, peak RSS ${best.counters.maxRssMiB} MiB`,
      `1,000,000 distinct spoofed sources: peak RSS ${flood.counters.maxRssMiB} MiB, ${flood.counters.sources} sources kept (maxsources 65536, and 4 × as many one-hit sources in probation), ${flood.counters.queue.sourcesEvicted} evicted, ${Math.round((N * 1000) / flood.wallMs).toLocaleString("en-US")} lines/s`,
    ].join("\n");
    return {
      title: "knockd file mode (lines/s)",
      results,
      unit: "lines/s",
      notes,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
