// Network mode throughput (issue #7). In-process: decodeFrame, the span rule, an ethfilter and the
// hit conversion over synthetic Ethernet frames (packets/s on one core). Live, when root: a capture
// process on `lo` of a throw-away network namespace (createPacketHitSource, the BPF filter of a
// 32768-port span) while a second process floods the span with SYNs from 262,144 spoofed sources
// (the addon's pcap_inject, paced in 1 ms steps) and sends one valid knock (compat profile, 9
// SYNs from 198.51.100.7) half-way through. Per rate: sent, what libpcap received and dropped
// (pcap_stats), what reached JavaScript, whether the knock decoded, and the capture process's CPU.
// Run: pnpm build && node tools/bench/run.js pcap   (live rows need root)
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import {
  compileKnockConfigOrThrow,
  decodeKnock,
  encodeKnock,
} from "@portknock/codec";
import { bench } from "./harness.js";

const P = await import("@portknock/pcap");
// The children run in a network namespace outside the workspace: they import the build.
const DIST = new URL("../../packages/pcap/dist/index.js", import.meta.url);
const NATIVE = new URL(
  "../../packages/pcap/dist/native-binding.js",
  import.meta.url,
);

const SPAN = [[1024, 33791]];
const KNOCKER = "198.51.100.7";

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
  let sink = 0;
  const results = [
    bench("decodeFrame (75% IPv4, 25% IPv6)", (n) => {
      for (let i = 0; i < n; i++) {
        if (P.decodeFrame(frames[i & 4095], "ethernet", meta).ok) sink++;
      }
    }),
    bench("decode + span + ethfilter (regex)", (n) => {
      for (let i = 0; i < n; i++) {
        const r = P.decodeFrame(frames[i & 4095], "ethernet", meta);
        if (r.ok && isCandidate(r.packet) && P.matchEthFilter(filter, r.packet))
          sink++;
      }
    }),
    bench("... + packetToHit", (n) => {
      for (let i = 0; i < n; i++) {
        const r = P.decodeFrame(frames[i & 4095], "ethernet", meta);
        if (
          r.ok &&
          isCandidate(r.packet) &&
          P.packetToHit(r.packet).dstPort > 0
        )
          sink++;
      }
    }),
  ];
  if (sink === 0) throw new Error("benchmark optimised away");
  return results;
}

// The capture side, inside the namespace: "start" snapshots counters; "stop" waits until every
// packet the kernel took is either delivered or counted as dropped, then prints the deltas.
const CAPTURE_CHILD = ({ bufferMiB, immediate }) => `
const P = await import(${JSON.stringify(DIST.href)});
const src = P.createPacketHitSource({ interfaces: ["lo"], ranges: ${JSON.stringify(SPAN)},
  protocol: "tcp", bufferBytes: ${bufferMiB} << 20, immediate: ${immediate} });
const knock = [];
(async () => { for await (const h of src) if (h.srcIp === ${JSON.stringify(KNOCKER)}) knock.push(h.dstPort); })();
let start;
const snap = () => ({ seen: src.stats.capture.seen, hits: src.stats.hits,
  queueDropped: src.stats.capture.dropped, pcap: src.pcapStats(), cpu: process.cpuUsage(),
  t: performance.now() });
const delta = (a, b) => ({ seen: b.seen - a.seen, hits: b.hits - a.hits,
  queueDropped: b.queueDropped - a.queueDropped, received: b.pcap.received - a.pcap.received,
  dropped: b.pcap.dropped - a.pcap.dropped, ifDropped: b.pcap.ifDropped - a.pcap.ifDropped,
  cpuMs: (b.cpu.user - a.cpu.user + b.cpu.system - a.cpu.system) / 1000, ms: b.t - a.t });
process.stdin.setEncoding("utf8");
process.stdin.on("data", async (d) => {
  for (const cmd of d.split("\\n")) {
    if (cmd === "start") { start = snap(); process.stdout.write("started\\n"); }
    if (cmd.startsWith("stop ")) {
      const sent = Number(cmd.slice(5));
      let end = snap();
      // Drained: the kernel took everything it will take, and each packet is seen or dropped.
      for (let i = 0; i < 300; i++) {
        await new Promise((r) => setTimeout(r, 10));
        const next = snap();
        const d = delta(start, next);
        const settled = d.received === delta(start, end).received &&
          d.seen + d.dropped >= d.received;
        end = next;
        if (settled && (d.received >= sent || i >= 50)) break;
      }
      process.stdout.write(JSON.stringify({ ...delta(start, end), knock }) + "\\n");
      await src.close(); process.exit(0);
    }
  }
});
process.stdout.write("ready\\n");
`;

// The sender: 262,144 distinct prebuilt SYNs into the span (spoofed 10.0.0.0/14 sources), sent
// with the addon's pcap_inject at a target rate (0 = as fast as it can), and the knock's SYNs
// half-way through. Paced per 1 ms: a sender that sleeps when it is ahead.
const SENDER_CHILD = (count, rate, knockPorts) => `
const { loadNative } = await import(${JSON.stringify(NATIVE.href)});
const { Capture } = loadNative();
const c = new Capture("lo", "ether proto 0x88b5", { snaplen: 64, bufferBytes: 1 << 20,
  promiscuous: false, immediate: true, timeoutMs: 100, batchBytes: 65536, batchPackets: 1024, inbound: true }, () => {});
const F = 54, N = 1 << 18;
function syn(b, o, src, srcPort, dstPort, seq) {
  b[o + 12] = 8; b[o + 14] = 0x45; b[o + 17] = 40; b[o + 22] = 64; b[o + 23] = 6;
  b[o + 26] = src >>> 24; b[o + 27] = (src >>> 16) & 255; b[o + 28] = (src >>> 8) & 255; b[o + 29] = src & 255;
  b[o + 30] = 127; b[o + 33] = 1;
  b[o + 34] = srcPort >> 8; b[o + 35] = srcPort & 255; b[o + 36] = dstPort >> 8; b[o + 37] = dstPort & 255;
  b[o + 38] = seq >>> 24; b[o + 39] = (seq >>> 16) & 255; b[o + 40] = (seq >>> 8) & 255; b[o + 41] = seq & 255;
  b[o + 46] = 0x50; b[o + 47] = 0x02; b[o + 48] = 0xfa; b[o + 49] = 0xf0;
}
const frames = new Uint8Array(N * F);
for (let i = 0; i < N; i++)
  syn(frames, i * F, (0x0a000000 | i) >>> 0, 1024 + (i % 60000), 1024 + ((i * 7919) % 32768), (i * 40503) >>> 0);
const ports = ${JSON.stringify(knockPorts)};
const knock = new Uint8Array(ports.length * F);
ports.forEach((port, i) => syn(knock, i * F, 0xc6336407, 40000, port, 1000 + i)); // 198.51.100.7
const total = ${count}, R = ${rate};
const tick = new Int32Array(new SharedArrayBuffer(4));
let sent = 0, knocked = false;
const sendNoise = (n) => {
  while (n > 0) {
    const at = sent % N, k = Math.min(n, N - at, 4096);
    const m = c.send(frames.subarray(at * F), F, k);
    sent += m; n -= m;
    if (m < k) break; // ENOBUFS: try again on the next step
  }
};
const t0 = performance.now();
while (sent < total) {
  const due = R > 0 ? Math.min(total, Math.floor(((performance.now() - t0) * R) / 1000)) : total;
  if (!knocked && sent >= total / 2) { c.send(knock, F, ports.length); knocked = true; }
  sendNoise(Math.min(due - sent, R > 0 ? Infinity : 4096));
  if (R > 0 && sent >= due) Atomics.wait(tick, 0, 0, 1);
}
const ms = performance.now() - t0;
c.close();
process.stdout.write(JSON.stringify({ sent: sent + ports.length, ms }));
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
// a core with the traffic's source. On lo the kernel's receive work (BPF filter, copy into the
// capture's ring) runs in the sender's context, on the sender's core.
const PIN =
  spawnSync("sh", ["-c", "command -v taskset"]).status === 0 &&
  availableParallelism() >= 2;
const pinned = (cpu, argv) =>
  PIN ? ["taskset", "-c", String(cpu), ...argv] : argv;

const KNOCK_SETTINGS = {
  knock: "CLIENT,PORT,FLAG0,CHECKSUM",
  portspan: "1024-33791",
  encrypt: true,
  key: "password",
  cipher: "Blowfish",
  iv: false,
  padding: "right",
};
const KNOCK_VALUES = { CLIENT: KNOCKER, PORT: 22, FLAG0: 1 };

async function liveRun(ns, count, rate, capture, knockPorts) {
  const child = spawn(
    "ip",
    [
      "netns",
      "exec",
      ns,
      ...pinned(1, [
        process.execPath,
        "--input-type=module",
        "-e",
        CAPTURE_CHILD(capture),
      ]),
    ],
    { stdio: ["pipe", "pipe", "inherit"] },
  );
  const next = lines(child);
  if ((await next()) !== "ready") throw new Error("capture did not start");
  await sleep(100);
  child.stdin.write("start\n");
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
        SENDER_CHILD(count, rate, knockPorts),
      ]),
    ],
    { encoding: "utf8", maxBuffer: 1 << 20 },
  );
  if (s.status !== 0) throw new Error(`sender failed: ${s.stderr}`);
  const { sent, ms } = JSON.parse(s.stdout);
  child.stdin.write(`stop ${sent}\n`);
  const r = JSON.parse(await next());
  return { sent, sendMs: ms, ...r };
}

const fmt = (n) => Math.round(n).toLocaleString("en-US");

async function live() {
  if (process.getuid?.() !== 0)
    return { results: [], note: "live measure skipped: needs root" };
  const ns = `pk-bench-${randomBytes(3).toString("hex")}`;
  if (spawnSync("ip", ["netns", "add", ns]).status !== 0)
    return {
      results: [],
      note: "live measure skipped: cannot create a network namespace",
    };
  const config = compileKnockConfigOrThrow(KNOCK_SETTINGS);
  const knockPorts = encodeKnock(config, KNOCK_VALUES).ports;
  try {
    spawnSync("ip", ["netns", "exec", ns, "ip", "link", "set", "lo", "up"]);
    const results = [];
    const rows = [];
    const batched = { bufferMiB: 16, immediate: false };
    const plan = [
      [50_000, batched],
      [100_000, batched],
      [200_000, batched],
      [300_000, batched],
      [400_000, batched],
      [0, batched],
      [200_000, { bufferMiB: 4, immediate: false }],
      [200_000, { bufferMiB: 16, immediate: true }],
      [0, { bufferMiB: 16, immediate: true }],
    ];
    const seconds = Number(process.env.PCAP_BENCH_SECONDS ?? 2);
    for (const [rate, capture] of plan) {
      const count = Math.round((rate === 0 ? 500_000 : rate) * seconds);
      const runs = [];
      for (let k = 0; k < 2; k++)
        runs.push(await liveRun(ns, count, rate, capture, knockPorts));
      const label = `${rate === 0 ? "unpaced" : `${rate / 1000}k/s`}, ${capture.bufferMiB} MiB, ${capture.immediate ? "immediate" : "batched"}`;
      results.push({
        name: `live lo, ${label}: packets/s reaching JavaScript`,
        opsPerSec: Math.max(...runs.map((r) => (r.seen * 1000) / r.sendMs)),
        medianOpsPerSec: Math.min(
          ...runs.map((r) => (r.seen * 1000) / r.sendMs),
        ),
      });
      for (const r of runs) {
        const offered = (r.sent * 1000) / r.sendMs;
        const cpuPct = (100 * r.cpuMs) / r.sendMs;
        const decoded = decodeKnock(config, r.knock);
        const accepted =
          decoded.ok &&
          JSON.stringify(decoded.knock.values) === JSON.stringify(KNOCK_VALUES);
        const lost = r.sent - r.seen;
        rows.push(
          `| ${label} | ${fmt(offered)} | ${fmt(r.sent)} | ${fmt(r.received)} | ${fmt(r.seen)} | ${fmt(r.dropped)} | ${fmt(r.ifDropped)} | ${((100 * lost) / r.sent).toFixed(2)}% | ${r.queueDropped} | ${accepted ? "yes" : `NO (${r.knock.length} of ${knockPorts.length} ports)`} | ${cpuPct.toFixed(0)}% | ${((cpuPct * 10_000) / offered).toFixed(2)}% |`,
        );
      }
    }
    return {
      results,
      note: [
        `live lo (sender: the addon's pcap_inject of 54-byte IPv4 SYNs from 262,144 spoofed sources into the span, paced per 1 ms, ${seconds} s per run; one compat knock of ${knockPorts.length} SYNs half-way; ${PIN ? "sender pinned to CPU 0, capture to CPU 1" : "not pinned to cores"}; 2 runs per row):`,
        "| capture | offered pkt/s | sent | pcap received | seen by JS | pcap dropped | pcap ifDropped | loss (sent − seen) | queue drops | knock accepted | capture CPU (% of a core) | CPU % per 10k pkt/s |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        ...rows,
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
