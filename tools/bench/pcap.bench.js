// Network mode throughput (issue #7). In-process: decodeFrame, the span rule, an ethfilter and the
// SYN dedupe over synthetic Ethernet frames (packets/s on one core). Live, when root: a capture
// process on `lo` of a throw-away network namespace (createPacketHitSource, the BPF filter of a
// 32768-port span) while a second process injects prebuilt SYN frames with cap's send at a target
// rate; loss = sent − seen (cap has no pcap_stats), CPU from process.cpuUsage of the capture.
// Run: pnpm build && node tools/bench/run.js pcap
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createRequire } from "node:module";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import { bench } from "./harness.js";

const P = await import("@portknock/pcap");
// The capture child runs in a network namespace outside the workspace: it imports the build.
const DIST = new URL("../../packages/pcap/dist/index.js", import.meta.url);
const CAP = createRequire(
  new URL("../../packages/pcap/package.json", import.meta.url),
).resolve("cap");

const SPAN = [[1024, 33791]];

/** An Ethernet/IPv4 (or IPv6) TCP frame, checksums zero. */
function frame({ v6 = false, src, dstPort, srcPort, seq, flags = 0x02 }) {
  const tcp = Buffer.alloc(20);
  tcp.writeUInt16BE(srcPort, 0);
  tcp.writeUInt16BE(dstPort, 2);
  tcp.writeUInt32BE(seq >>> 0, 4);
  tcp[12] = 0x50;
  tcp[13] = flags;
  tcp.writeUInt16BE(64240, 14);
  let ip;
  if (v6) {
    ip = Buffer.alloc(40);
    ip[0] = 0x60;
    ip.writeUInt16BE(20, 4);
    ip[6] = 6;
    ip[7] = 64;
    ip.writeUInt32BE(0x20010db8, 8);
    ip.writeUInt32BE(src >>> 0, 20);
    ip[39] = 1;
  } else {
    ip = Buffer.alloc(20);
    ip[0] = 0x45;
    ip.writeUInt16BE(40, 2);
    ip[8] = 64;
    ip[9] = 6;
    ip.writeUInt32BE((0x0a000000 | (src & 0xffffff)) >>> 0, 12);
    ip.writeUInt32BE(0x7f000001, 16);
  }
  const eth = Buffer.alloc(14);
  eth.writeUInt16BE(v6 ? 0x86dd : 0x0800, 12);
  return Buffer.concat([eth, ip, tcp]);
}

function synthetic(n, v6Share) {
  const frames = [];
  for (let i = 0; i < n; i++) {
    frames.push(
      frame({
        v6: i % Math.round(1 / v6Share) === 0,
        src: i * 2654435761,
        dstPort: 1024 + ((i * 7919) % 40000), // ~18% outside the span
        srcPort: 32768 + (i % 28000),
        seq: i * 40503,
      }),
    );
  }
  return frames;
}

function inProcess() {
  const frames = synthetic(4096, 0.25);
  const meta = { timeMs: 0, origin: "pcap lo #1", iface: "lo" };
  const where = { kind: "config", file: "bench.conf", line: 1 };
  const { filter } = P.compileEthFilter({
    name: "bench",
    where,
    properties: new Map([
      ["proto", { text: "IP_PROTO_TCP", where }],
      ["flags", { text: "SYN", where }],
      ["dest_ip", { text: "127\\.0\\.0\\.1|::1", where }],
    ]),
  });
  const isCandidate = P.createSpanMatcher(SPAN, "tcp");
  let t = 0;
  const dedupe = P.createSynDedupe({ windowMs: 3000, clock: { now: () => t } });
  let sink = 0;
  const results = [
    bench("decodeFrame (75% IPv4, 25% IPv6)", (n) => {
      for (let i = 0; i < n; i++) {
        if (P.decodeFrame(frames[i & 4095], "ethernet", meta).ok) sink++;
      }
    }),
    bench("decode + span + ethfilter (regex) + dedupe", (n) => {
      for (let i = 0; i < n; i++) {
        t += 0.01;
        const r = P.decodeFrame(frames[i & 4095], "ethernet", meta);
        if (
          r.ok &&
          isCandidate(r.packet) &&
          P.matchEthFilter(filter, r.packet) &&
          !dedupe.isDuplicate(r.packet)
        )
          sink++;
      }
    }),
    bench("... + packetToHit", (n) => {
      for (let i = 0; i < n; i++) {
        t += 0.01;
        const r = P.decodeFrame(frames[i & 4095], "ethernet", meta);
        if (
          r.ok &&
          isCandidate(r.packet) &&
          !dedupe.isDuplicate(r.packet) &&
          P.packetToHit(r.packet).dstPort > 0
        )
          sink++;
      }
    }),
  ];
  if (sink === 0) throw new Error("benchmark optimised away");
  return results;
}

// The capture side, inside the namespace: "start" snapshots counters, "stop" prints deltas.
const CAPTURE_CHILD = (bufferMiB) => `
const P = await import(${JSON.stringify(DIST.href)});
const src = P.createPacketHitSource({ interfaces: ["lo"], ranges: ${JSON.stringify(SPAN)},
  protocol: "tcp", bufferBytes: ${bufferMiB} << 20 });
(async () => { for await (const _ of src) {} })();
let start;
const snap = () => ({ seen: src.stats.capture.seen, hits: src.stats.hits,
  dropped: src.stats.capture.dropped, cpu: process.cpuUsage(), t: performance.now() });
process.stdin.setEncoding("utf8");
process.stdin.on("data", async (d) => {
  for (const cmd of d.split("\\n")) {
    if (cmd === "start") { start = snap(); process.stdout.write("started\\n"); }
    if (cmd === "stop") {
      const end = snap();
      process.stdout.write(JSON.stringify({ seen: end.seen - start.seen, hits: end.hits - start.hits,
        dropped: end.dropped - start.dropped,
        cpuMs: (end.cpu.user - start.cpu.user + end.cpu.system - start.cpu.system) / 1000 }) + "\\n");
      await src.close(); process.exit(0);
    }
  }
});
process.stdout.write("ready\\n");
`;

// The sender: prebuilt distinct SYN frames, paced by a busy loop (rate 0 = as fast as possible).
const SENDER_CHILD = (count, rate) => `
import { createRequire } from "node:module";
import { availableParallelism } from "node:os";
const { Cap } = createRequire(import.meta.url)(${JSON.stringify(CAP)});
const c = new Cap();
c.open("lo", "ether proto 0x88b5", 1 << 20, Buffer.alloc(1514));
const frames = [];
for (let i = 0; i < 65536; i++) {
  const f = Buffer.alloc(54);
  f.writeUInt16BE(0x0800, 12);
  f[14] = 0x45; f.writeUInt16BE(40, 16); f[22] = 64; f[23] = 6;
  f.writeUInt32BE((0x0a000000 | i) >>> 0, 26); f.writeUInt32BE(0x7f000001, 30);
  f.writeUInt16BE(32768 + (i % 28000), 34); f.writeUInt16BE(1024 + (i % 32768), 36);
  f.writeUInt32BE((i * 40503) >>> 0, 38); f[46] = 0x50; f[47] = 0x02; f.writeUInt16BE(64240, 48);
  frames.push(f);
}
const N = ${count}, R = ${rate};
const tick = new Int32Array(new SharedArrayBuffer(4));
const t0 = performance.now();
let sent = 0;
while (sent < N) {
  const due = R > 0 ? Math.min(N, Math.floor(((performance.now() - t0) * R) / 1000)) : N;
  while (sent < due) { c.send(frames[sent & 65535], 54); sent++; }
  if (R > 0) Atomics.wait(tick, 0, 0, 1); // sleep ~1 ms: a sender that leaves the CPU alone
}
const ms = performance.now() - t0;
c.close();
process.stdout.write(JSON.stringify({ sent, ms }));
`;

function lines(child) {
  let buf = "";
  const waiting = [];
  child.stdout.setEncoding("utf8");
  child.stdout.on("data", (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      waiting.shift()?.(line);
    }
  });
  return () => new Promise((resolve) => waiting.push(resolve));
}

// Capture and sender on separate cores when possible, as on a server where knockd does not share
// a core with the traffic's source (the kernel's receive work runs on the sender's core).
const PIN =
  spawnSync("sh", ["-c", "command -v taskset"]).status === 0 &&
  availableParallelism() >= 2;
const pinned = (cpu, argv) =>
  PIN ? ["taskset", "-c", String(cpu), ...argv] : argv;

async function liveRun(ns, count, rate, bufferMiB) {
  const capture = spawn(
    "ip",
    [
      "netns",
      "exec",
      ns,
      ...pinned(1, [
        process.execPath,
        "--input-type=module",
        "-e",
        CAPTURE_CHILD(bufferMiB),
      ]),
    ],
    { stdio: ["pipe", "pipe", "ignore"] },
  );
  const next = lines(capture);
  if ((await next()) !== "ready") throw new Error("capture did not start");
  await sleep(100);
  capture.stdin.write("start\n");
  await next();
  const s = spawnSync(
    "ip",
    [
      "netns",
      "exec",
      ns,
      ...pinned(0, [
        process.execPath,
        "--input-type=module",
        "-e",
        SENDER_CHILD(count, rate),
      ]),
    ],
    { encoding: "utf8" },
  );
  if (s.status !== 0) throw new Error(`sender failed: ${s.stderr}`);
  const { sent, ms } = JSON.parse(s.stdout);
  await sleep(500); // let the capture drain its ring
  capture.stdin.write("stop\n");
  const r = JSON.parse(await next());
  return { sent, sendMs: ms, ...r };
}

async function live() {
  if (process.getuid?.() !== 0)
    return { results: [], note: "live measure skipped: needs root" };
  const ns = `pk-bench-${randomBytes(3).toString("hex")}`;
  if (spawnSync("ip", ["netns", "add", ns]).status !== 0)
    return {
      results: [],
      note: "live measure skipped: cannot create a network namespace",
    };
  try {
    spawnSync("ip", ["netns", "exec", ns, "ip", "link", "set", "lo", "up"]);
    const results = [];
    const rows = [];
    let lossFree = 0;
    const plan = [
      [10_000, 16],
      [25_000, 16],
      [50_000, 16],
      [100_000, 16],
      [200_000, 16],
      [0, 16],
      [50_000, 64],
      [100_000, 64],
      [200_000, 64],
    ];
    for (const [rate, bufferMiB] of plan) {
      const count = rate === 0 ? 200_000 : Math.max(20_000, rate * 2);
      const runs = [];
      for (let k = 0; k < 2; k++)
        runs.push(await liveRun(ns, count, rate, bufferMiB));
      runs.sort((a, b) => b.seen - a.seen);
      const best = runs[0];
      const offered = (best.sent * 1000) / best.sendMs;
      const seenRate = (best.seen * 1000) / best.sendMs;
      const loss = runs.map((r) => (100 * (r.sent - r.seen)) / r.sent);
      const cpuPct = (100 * best.cpuMs) / best.sendMs;
      if (loss.every((l) => l === 0) && bufferMiB === 16)
        lossFree = Math.max(lossFree, offered);
      const label = `${rate === 0 ? "unpaced" : `${rate / 1000}k/s`}, ${bufferMiB} MiB ring`;
      results.push({
        name: `live lo, offered ${label} (${Math.round(offered / 1000)}k/s): seen/s`,
        opsPerSec: seenRate,
        medianOpsPerSec: (runs[1].seen * 1000) / runs[1].sendMs,
      });
      rows.push(
        `  ${label.padEnd(21)} offered ${Math.round(offered).toLocaleString("en-US").padStart(8)}/s  loss ${loss.map((l) => l.toFixed(2) + "%").join(", ")}  capture CPU ${cpuPct.toFixed(0)}% of a core = ${((cpuPct * 10_000) / Math.max(1, offered)).toFixed(1)}% per 10,000 pkt/s  (queue drops ${best.dropped})`,
      );
    }
    return {
      results,
      note: [
        `live lo (sender: cap.send of prebuilt IPv4 SYNs from another process, paced in 1 ms batches; ${PIN ? "sender on CPU 0, capture on CPU 1" : "not pinned to cores"}; 2 runs per rate):`,
        ...rows,
        `  highest rate with no loss in both runs (default 16 MiB ring): ${lossFree > 0 ? Math.round(lossFree).toLocaleString("en-US") + " pkt/s" : "none of those tried"}`,
      ].join("\n"),
    };
  } finally {
    spawnSync("ip", ["netns", "del", ns]);
  }
}

export async function run() {
  const results = inProcess();
  const l = await live();
  return {
    title: "pcap: network mode (packets/s)",
    results: [...results, ...l.results],
    unit: "packets/s",
    notes: [
      "in-process rows: one core, synthetic Ethernet frames (25% IPv6, ~18% outside the span)",
      l.note,
    ].join("\n"),
  };
}

// `node tools/bench/pcap.bench.js` runs it alone.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { formatTable } = await import("./harness.js");
  const r = await run();
  console.log(formatTable(r.title, r.results, r.unit));
  console.log(r.notes);
}
