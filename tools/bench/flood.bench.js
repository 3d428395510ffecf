// A slow knock under a spoofed SYN flood (issue #20).
//
// In-process: the detector's cost per hit (`pushColumns`, default maxsources) under a flood of
// distinct spoofed IPv4 sources sending one SYN each, and two each.
//
// Live, when root: the built `knockd` in network mode captures on one end of a veth pair in a
// throw-away network namespace ("gw", where iptables DROPs the span, as in the network tests);
// from the other namespace ("client") a sender floods the span with SYNs from distinct spoofed
// sources (the pcap addon's pcap_inject on the veth, paced per 1 ms, one new source per packet,
// or two packets per source), and a knocker sends a real sealed knock at human pace: one TCP
// connect per port, one port per second (what `hping3 -c 1` per port or a bash loop with
// /dev/tcp does), or with longer gaps, so that as many flood sources come between two ports as a
// higher rate would bring in a second when the sender cannot reach it. Per run: accepted or not,
// libpcap's received and dropped counts, knockd's CPU per packet sent (/proc utime + stime), its
// peak RSS (VmHWM), and the queues' evictions.
//
// The previous policy (one LRU list of maxsources queues, before issue #20) is measured by running
// the same bench against a build of the commit before it, given as FLOOD_BASE:
//   mkdir /tmp/pk-base && git archive 71e432d | tar -x -C /tmp/pk-base   (in this repository)
//   cd /tmp/pk-base && pnpm install --offline && (cd packages/pcap && pnpm run install) && pnpm build
//   FLOOD_BASE=/tmp/pk-base node tools/bench/run.js flood
// FLOOD_BASE_LABEL names the base build in the table (default "one LRU"; "objects per packet"
// for 938e5a0, the build before the allocation-free capture lane of #20).
// Other settings: FLOOD_RUNS (runs per row, default 3), FLOOD_ONLY (run only the rows, in-process
// and live, whose label and policy contain this text, e.g. "200k/s" or "FLOOD_BASE"),
// FLOOD_NODE_FLAGS (node options put before knockd's bin, e.g. "--max-semi-space-size=2", to
// measure their effect; "--import ./tools/bench/heap-probe.js" with HEAP_PROBE_OUT=FILE records
// knockd's V8 heap spaces and event-loop stalls, see that file).
// FLOOD_FAMILY=6: the same over IPv6 (floods.md, "IPv6 floods"): 74-byte IPv6 SYNs with valid
// checksums from distinct spoofed sources of 2001:db8:f00d:1::/64 (all 64 bits of the interface
// identifier vary, so most source texts have the full 39 characters), the gateway's and the
// client's addresses fd00:202::2 and ::1 on the veth, ip6tables DROPping the span, and the
// knock sent over IPv6 with an IPv6 CLIENT (sealed: 21 ports where IPv4 takes 14). The
// in-process rows then push IPv6 hits as text (`push`: what knockd's capture hands the detector
// for IPv6 frames, which do not take the allocation-free IPv4 lane).
// FLOOD_FAMILY=6x: as 6, with an 8-byte Destination Options header (a PadN) before each flood
// SYN's TCP header: 82-byte frames that the BPF filter passes at any port (it cannot find their
// TCP header) and that `readIpv6Hit` walks (floods.md, "IPv6 extension headers").
// Run alone (it is a real-time bench): pnpm build && node tools/bench/run.js flood
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  createWriteStream,
  existsSync,
  mkdtempSync,
  realpathSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import { bench } from "./harness.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const BASE = process.env.FLOOD_BASE;
const KEY = "base64:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
const SPAN = "1024-33791";
const KNOCK = {
  format: "sealed",
  knock: "CLIENT,PORT,FLAG0",
  portspan: SPAN,
  key: KEY,
};
const FAMILY = process.env.FLOOD_FAMILY?.startsWith("6") ? 6 : 4;
// FLOOD_FAMILY=6x: IPv6 SYNs with one extension header (8 bytes of Destination Options, a PadN)
// between the IPv6 and TCP headers.
const V6_EXT = process.env.FLOOD_FAMILY === "6x";
if (!["4", "6", "6x", undefined].includes(process.env.FLOOD_FAMILY))
  throw new Error(
    `FLOOD_FAMILY must be 4, 6 or 6x, got ${JSON.stringify(process.env.FLOOD_FAMILY)}`,
  );
const CLIENT_IP = FAMILY === 6 ? "fd00:202::1" : "10.202.0.1";
const GW_IP = FAMILY === 6 ? "fd00:202::2" : "10.202.0.2";
const PREFIX_LEN = FAMILY === 6 ? 64 : 24;
// The spoofed IPv6 sources: 2001:db8:f00d:1: then four groups from a source number `s`, distinct
// for distinct s below 2^32 (the last two groups are an odd multiple of s mod 2^32).
const V6_PREFIX = [0x2001, 0x0db8, 0xf00d, 0x0001];
const v6Groups = (s) => {
  const lo = Math.imul(s, 0x9e3779b1) >>> 0;
  const hi = (Math.imul(s ^ 0x5bd1e995, 0x85ebca6b) ^ 0x8000a000) >>> 0;
  return [hi >>> 16, hi & 0xffff, lo >>> 16, lo & 0xffff];
};
const v6Text = (s) =>
  [...V6_PREFIX, ...v6Groups(s)].map((g) => g.toString(16)).join(":");

const build = (root, path) => join(root, "packages", path);
const builds = () => [
  { policy: "segmented (this build)", root: ROOT },
  ...(BASE
    ? [
        {
          policy: `${process.env.FLOOD_BASE_LABEL ?? "one LRU"} (FLOOD_BASE)`,
          root: BASE,
        },
      ]
    : []),
];

// ---------------------------------------------------------------- in process

async function inProcess() {
  const results = [];
  for (const { policy, root } of builds()) {
    const { createDetector } = await import(
      build(root, "detector/dist/index.js")
    );
    const { compileKnockConfigOrThrow } = await import(
      build(root, "codec/dist/index.js")
    );
    for (const perSource of [1, 2]) {
      const label = `${FAMILY === 6 ? "push (IPv6 text)" : "pushColumns"}, ${perSource} SYN per spoofed source, ${policy}`;
      const only = process.env.FLOOD_ONLY;
      if (only && !label.includes(only)) continue;
      const detector = createDetector({
        knock: compileKnockConfigOrThrow(KNOCK),
        knockTimeoutMs: 30_000,
        maxSources: 65_536,
        sealed: { windowMs: 60_000, requireSource: true },
        onKnock: () => {},
      });
      const B = 1024;
      const columns = {
        length: B,
        v4: new Float64Array(B),
        dstPort: new Int32Array(B),
        srcPort: new Int32Array(B),
        timeMs: 0,
        hit: (i) => ({
          srcIp: "10.0.0.1",
          dstPort: columns.dstPort[i],
          srcPort: columns.srcPort[i],
          timeMs: columns.timeMs,
          origin: "bench",
        }),
      };
      let next = 0;
      const v6 = (n) => {
        for (let done = 0; done < n; done++) {
          const k = next++;
          const src = perSource === 1 ? k : ((k >> 11) << 10) | (k & 1023);
          if ((k & (B - 1)) === 0) columns.timeMs += 5; // 200,000 hits/s
          detector.push({
            srcIp: v6Text(src),
            dstPort: 1024 + ((k * 7919) & 32767),
            srcPort: 1024 + (k & 32767),
            timeMs: columns.timeMs,
            origin: "bench",
          });
        }
      };
      const r = bench(
        label,
        (n) => {
          if (FAMILY === 6) return v6(n);
          for (let done = 0; done < n; done += B) {
            for (let i = 0; i < B; i++) {
              const k = next + i;
              const src = perSource === 1 ? k : ((k >> 11) << 10) | (k & 1023);
              columns.v4[i] = 0x0a000000 + (src % 0xc00000);
              columns.dstPort[i] = 1024 + ((k * 7919) & 32767);
              columns.srcPort[i] = 1024 + (k & 32767);
            }
            next += B;
            columns.timeMs += 5; // 200,000 hits/s
            detector.pushColumns(columns);
          }
        },
        { batch: B * 16 },
      );
      results.push(r);
    }
  }
  return results;
}

// ---------------------------------------------------------------- live

// The sender: SYNs from distinct spoofed sources (10.0.0.0–10.191.255.255, past the client's
// 10.202.0.0/24; with FLOOD_FAMILY=6, 2001:db8:f00d:1::/64, see v6Groups), to random ports of the
// span, at R packets/s for `ms`. With two per source, each block of 1024 new sources is sent
// twice (other ports), the second time right after the first.
const SENDER = (iface, srcMac, dstMac, rate, ms, perSource) => `
const { loadNative } = await import(${JSON.stringify(build(ROOT, "pcap/dist/native-binding.js"))});
const { Capture } = loadNative();
const c = new Capture(${JSON.stringify(iface)}, "ether proto 0x88b5", { snaplen: 64, bufferBytes: 1 << 20,
  promiscuous: false, immediate: true, timeoutMs: 100, batchBytes: 65536, batchPackets: 1024, inbound: true }, () => {});
const V6 = ${FAMILY === 6}, EXT = ${V6_EXT};
const F = V6 ? (EXT ? 82 : 74) : 54, B = 2048;
const IP = 14, TCP = V6 ? (EXT ? 62 : 54) : 34; // offsets of the IP and TCP headers in a frame
const buf = new Uint8Array(B * F);
const mac = (s) => s.split(":").map((h) => parseInt(h, 16));
const dst = mac(${JSON.stringify(dstMac)}), src = mac(${JSON.stringify(srcMac)});
const v6Groups = ${v6Groups.toString()};
const gw = ${JSON.stringify(FAMILY === 6 ? [0xfd, 0, 2, 2, ...Array(11).fill(0), 2] : GW_IP.split(".").map(Number))};
const prefix = ${JSON.stringify(V6_PREFIX)};
for (let i = 0; i < B; i++) {
  const o = i * F;
  buf.set(dst, o); buf.set(src, o + 6);
  if (V6) {
    buf[o + 12] = 0x86; buf[o + 13] = 0xdd;
    buf[o + IP] = 0x60; buf[o + IP + 5] = EXT ? 28 : 20; buf[o + IP + 6] = EXT ? 60 : 6; buf[o + IP + 7] = 64;
    // Destination Options: next header TCP, length 0 (8 bytes), one PadN option of 4 zero bytes
    if (EXT) { buf[o + IP + 40] = 6; buf[o + IP + 41] = 0; buf[o + IP + 42] = 1; buf[o + IP + 43] = 4; }
    for (let g = 0; g < 4; g++) { buf[o + IP + 8 + 2 * g] = prefix[g] >> 8; buf[o + IP + 9 + 2 * g] = prefix[g] & 255; }
    buf.set(gw, o + IP + 24);
  } else {
    buf[o + 12] = 8;
    buf[o + IP] = 0x45; buf[o + IP + 3] = 40; buf[o + IP + 6] = 0x40; buf[o + IP + 8] = 64; buf[o + IP + 9] = 6;
    buf.set(gw, o + IP + 16);
  }
  buf[o + TCP + 12] = 0x50; buf[o + TCP + 13] = 0x02; buf[o + TCP + 14] = 0xfa; buf[o + TCP + 15] = 0xf0;
}
const sum16 = (o, n, init) => { let s = init; for (let k = 0; k < n; k += 2) s += (buf[o + k] << 8) | buf[o + k + 1]; return s; };
const fold = (s) => { while (s > 0xffff) s = (s & 0xffff) + (s >>> 16); return ~s & 0xffff; };
let k = 0; // packets built
const fill = (n) => {
  for (let i = 0; i < n; i++, k++) {
    const o = i * F;
    const s = ${perSource} === 1 ? k : (k >> 11 << 10) | (k & 1023);
    const dport = 1024 + ((k * 7919 + (k >> 10)) & 32767), sport = 1024 + ((k * 40503) & 32767);
    const t = o + TCP;
    buf[t] = sport >> 8; buf[t + 1] = sport & 255; buf[t + 2] = dport >> 8; buf[t + 3] = dport & 255;
    const seq = Math.imul(k, 2654435761) >>> 0;
    buf[t + 4] = seq >>> 24; buf[t + 5] = (seq >>> 16) & 255; buf[t + 6] = (seq >>> 8) & 255; buf[t + 7] = seq & 255;
    buf[t + 16] = 0; buf[t + 17] = 0;
    let tcpsum;
    if (V6) {
      const g = v6Groups(s);
      for (let j = 0; j < 4; j++) { buf[o + IP + 16 + 2 * j] = g[j] >> 8; buf[o + IP + 17 + 2 * j] = g[j] & 255; }
      // pseudo-header: source, destination, upper-layer length (20), next header (6)
      tcpsum = fold(sum16(t, 20, sum16(o + IP + 8, 32, 6 + 20)));
    } else {
      const ip = (0x0a000000 + (s % 0xc00000)) >>> 0;
      buf[o + 18] = (k >> 8) & 255; buf[o + 19] = k & 255; // IP id
      buf[o + 26] = ip >>> 24; buf[o + 27] = (ip >>> 16) & 255; buf[o + 28] = (ip >>> 8) & 255; buf[o + 29] = ip & 255;
      buf[o + 24] = 0; buf[o + 25] = 0;
      const ipsum = fold(sum16(o + 14, 20, 0));
      buf[o + 24] = ipsum >> 8; buf[o + 25] = ipsum & 255;
      tcpsum = fold(sum16(t, 20, sum16(o + 26, 8, 6 + 20)));
    }
    buf[t + 16] = tcpsum >> 8; buf[t + 17] = tcpsum & 255;
  }
};
// Paced to R for ${ms} ms by a token bucket (at most 10 ms of packets at once); when the machine
// cannot keep up, it sends what it can (the report shows the rate reached).
const R = ${rate}, MS = ${ms};
const tick = new Int32Array(new SharedArrayBuffer(4));
let sent = 0, built = 0, at = 0, owed = 0;
const t0 = performance.now();
let last = t0;
for (let now = t0; now - t0 < MS; now = performance.now()) {
  owed = Math.min(owed + ((now - last) * R) / 1000, R / 100);
  last = now;
  while (owed >= 1) {
    if (at === built) { fill(B); built = B; at = 0; }
    const m = c.send(buf.subarray(at * F), F, Math.min(Math.floor(owed), built - at));
    sent += m; at += m; owed -= m;
    if (m === 0) break;
  }
  Atomics.wait(tick, 0, 0, 1);
}
const elapsed = performance.now() - t0;
c.close();
process.stdout.write(JSON.stringify({ sent, ms: elapsed }));
`;

// The knocker: a real sealed knock (TIME now, CLIENT its own address), one TCP connect per port,
// `gapsMs[i]` after the one before (1000: one port per second); each connect is dropped by the
// gateway's firewall and abandoned after 900 ms, before the kernel would resend its SYN.
const KNOCKER = (gapsMs) => `
const net = await import("node:net");
const { compileKnockConfigOrThrow, encodeKnock } = await import(${JSON.stringify(build(ROOT, "codec/dist/index.js"))});
const config = compileKnockConfigOrThrow(${JSON.stringify(KNOCK)});
const { ports } = encodeKnock(config, { CLIENT: ${JSON.stringify(CLIENT_IP)}, PORT: 22, FLAG0: 1 });
const gaps = ${JSON.stringify(gapsMs)};
for (const [i, port] of ports.entries()) {
  const t = Date.now();
  const s = net.connect({ host: ${JSON.stringify(GW_IP)}, port, localAddress: ${JSON.stringify(CLIENT_IP)} });
  s.on("error", () => {});
  await new Promise((r) => setTimeout(r, 900));
  s.destroy();
  await new Promise((r) => setTimeout(r, Math.max(0, t + (gaps[i] ?? 1000) - Date.now())));
}
process.stdout.write(JSON.stringify({ ports: ports.length }));
`;

// Everything started in the namespaces, killed (and the namespaces deleted) if the bench is
// interrupted.
const children = new Set();
function track(child) {
  children.add(child);
  child.once("exit", () => children.delete(child));
  return child;
}

function sh(argv) {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: "utf8" });
  if (r.status !== 0)
    throw new Error(`${argv.join(" ")}: ${r.stderr || r.error?.message}`);
  return r.stdout;
}

function output(child) {
  let out = "";
  child.stdout.setEncoding("utf8");
  child.stdout.on("data", (d) => (out += d));
  return new Promise((resolve, reject) =>
    child.on("exit", (code) =>
      code === 0 ? resolve(out) : reject(new Error(`exit ${code}: ${out}`)),
    ),
  );
}

/** knockd's CPU (ms) and memory from /proc. */
function procStats(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = (name) =>
    Number(new RegExp(`${name}:\\s+(\\d+)`).exec(status)[1]);
  return {
    cpuMs: ((Number(f[11]) + Number(f[12])) * 1000) / 100, // utime + stime, CLK_TCK 100
    hwmMiB: kib("VmHWM") / 1024,
    rssMiB: kib("VmRSS") / 1024,
    anonMiB: kib("RssAnon") / 1024,
    fileMiB: kib("RssFile") / 1024,
    shmemMiB: kib("RssShmem") / 1024,
  };
}

// Where knockd's resident memory is, from /proc/PID/smaps (KiB of Rss per mapping, summed by
// kind): the Node binary's file pages, the packet sockets' capture rings (mapped from the
// socket, counted as file pages), other files (shared libraries, the addon), malloc's brk heap,
// and the other anonymous mappings (V8's heap, typed arrays, mmapped malloc arenas, stacks).
function smapsBreakdown(pid) {
  const kinds = { binary: 0, ring: 0, libs: 0, brk: 0, anon: 0 };
  let kind = "anon";
  for (const line of readFileSync(`/proc/${pid}/smaps`, "utf8").split("\n")) {
    if (/^[0-9a-f]+-[0-9a-f]+ /.test(line)) {
      const path = line.split(/\s+/).slice(5).join(" ");
      kind =
        path === "" || path === "[stack]" || path.startsWith("[anon")
          ? "anon"
          : path === "[heap]"
            ? "brk"
            : path.startsWith("socket:")
              ? "ring"
              : path === NODE_BINARY
                ? "binary"
                : path.startsWith("/")
                  ? "libs"
                  : "anon"; // [vdso], [vvar]: not counted in Rss
    } else if (line.startsWith("Rss:")) {
      kinds[kind] += Number(/(\d+)/.exec(line)[1]);
    }
  }
  return kinds;
}
const NODE_BINARY = realpathSync(process.execPath);

/** Samples `smapsBreakdown` every `everyMs` and keeps the peak of each kind and of the total. */
function sampleMemory(pid, everyMs = 100) {
  const peak = { binary: 0, ring: 0, libs: 0, brk: 0, anon: 0, total: 0 };
  const take = () => {
    try {
      const k = smapsBreakdown(pid);
      let total = 0;
      for (const [name, kib] of Object.entries(k)) {
        peak[name] = Math.max(peak[name], kib);
        total += kib;
      }
      peak.total = Math.max(peak.total, total);
    } catch {
      // the process has exited
    }
  };
  take();
  const timer = setInterval(take, everyMs);
  return () => {
    clearInterval(timer);
    take();
    return Object.fromEntries(
      Object.entries(peak).map(([name, kib]) => [name, kib / 1024]),
    );
  };
}

function startKnockd(ns, root, conf, cpu) {
  const argv = [
    process.execPath,
    ...(process.env.FLOOD_NODE_FLAGS?.split(" ").filter(Boolean) ?? []),
    build(root, "knockd/bin/knockd.js"),
    "-conf",
    conf,
    "-test",
    "-logjson",
  ];
  const child = track(
    spawn(
      "ip",
      [
        "netns",
        "exec",
        ns,
        ...(cpu == null ? argv : ["taskset", "-c", String(cpu), ...argv]),
      ],
      {
        stdio: ["ignore", "pipe", "pipe"],
      },
    ),
  );
  let log = "";
  // FLOOD_KNOCKD_STDOUT=FILE keeps what knockd writes on stdout (V8's --trace-gc, say).
  if (process.env.FLOOD_KNOCKD_STDOUT)
    child.stdout.pipe(createWriteStream(process.env.FLOOD_KNOCKD_STDOUT));
  else child.stdout.resume();
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (d) => (log += d));
  const waitFor = async (re, from, ms = 15_000) => {
    const end = Date.now() + ms;
    for (;;) {
      const line = log
        .slice(from)
        .split("\n")
        .find((l) => re.test(l));
      if (line) return line;
      if (child.exitCode != null || Date.now() > end)
        throw new Error(
          `knockd: no ${re} (exit ${child.exitCode}):\n${log.slice(-2000)}`,
        );
      await sleep(20);
    }
  };
  return { child, log: () => log, waitFor };
}

// sealed CLIENT,PORT,FLAG0: 26 bytes with an IPv4 CLIENT, 38 with an IPv6 one
const KNOCK_PORTS = FAMILY === 6 ? 21 : 14;

async function liveRun(env, root, rate, perSource, gapsMs) {
  const { gw, client, a, b, macA, macB, dir, pin } = env;
  const conf = join(dir, "knockdaemon.conf");
  writeFileSync(
    conf,
    [
      "runmode = network",
      `interface = ${b}`,
      ...Object.entries(KNOCK).map(([k, v]) => `${k} = ${v}`),
      "<actions>",
      "  <action>",
      "    template = t",
      "  </action>",
      "  <template t>",
      '    system = "/bin/true CLIENT PORT"',
      "  </template>",
      "</actions>",
    ].join("\n"),
  );
  const d = startKnockd(gw, root, conf, pin ? 1 : undefined);
  try {
    await d.waitFor(/"ready"|\bready\b/, 0);
    await sleep(300);
    const before = procStats(d.child.pid);
    const stopSampling = sampleMemory(d.child.pid);
    const from = d.log().length;
    const leadMs = 1500;
    const floodMs = leadMs + gapsMs.reduce((a, b) => a + b, 0) + 2000;
    const inNs = (ns, cpu, script) =>
      track(
        spawn(
          "ip",
          [
            "netns",
            "exec",
            ns,
            ...(cpu == null ? [] : ["taskset", "-c", String(cpu)]),
            process.execPath,
            "--input-type=module",
            "-e",
            script,
          ],
          { stdio: ["ignore", "pipe", "inherit"] },
        ),
      );
    const sender = output(
      inNs(
        client,
        pin ? 0 : undefined,
        SENDER(a, macA, macB, rate, floodMs, perSource),
      ),
    );
    await sleep(leadMs);
    const knocker = output(inNs(client, undefined, KNOCKER(gapsMs)));
    const [s, k] = await Promise.all([sender, knocker]);
    const { sent, ms } = JSON.parse(s);
    if (JSON.parse(k).ports !== KNOCK_PORTS)
      throw new Error(`the knock has ${k} ports, expected ${KNOCK_PORTS}`);
    await sleep(500); // the capture drains
    const after = procStats(d.child.pid);
    const peak = stopSampling();
    const mark = d.log().length;
    d.child.kill("SIGUSR1");
    const counters = JSON.parse(await d.waitFor(/"event":"counters"/, mark));
    const accepted = d.log().slice(from).includes('"event":"knock.accepted"');
    const pcap = counters.capture?.pcap ?? {};
    return {
      sent,
      offered: (sent * 1000) / ms,
      received: pcap.received,
      dropped: pcap.dropped,
      seen: counters.capture?.seen ?? counters.linesSeen,
      accepted,
      cpuUsPerPacket: ((after.cpuMs - before.cpuMs) * 1000) / Math.max(1, sent),
      hwmMiB: after.hwmMiB,
      rssMiB: after.rssMiB,
      anonMiB: after.anonMiB,
      fileMiB: after.fileMiB,
      shmemMiB: after.shmemMiB,
      peak,
      evicted: counters.queue.sourcesEvicted,
      evictedProbation: counters.queue.evictedProbation,
      evictedProtected: counters.queue.evictedProtected,
    };
  } finally {
    d.child.kill("SIGTERM");
    await new Promise((r) =>
      d.child.exitCode != null ? r() : d.child.once("exit", r),
    );
  }
}

function setUp() {
  const id = randomBytes(3).toString("hex");
  const gw = `pk-fg-${id}`;
  const client = `pk-fc-${id}`;
  const a = `pkfa${id}`;
  const b = `pkfb${id}`;
  sh(["ip", "netns", "add", gw]);
  sh(["ip", "netns", "add", client]);
  const inGw = (...argv) => sh(["ip", "netns", "exec", gw, ...argv]);
  const inClient = (...argv) => sh(["ip", "netns", "exec", client, ...argv]);
  inClient(
    "ip",
    "link",
    "add",
    a,
    "type",
    "veth",
    "peer",
    "name",
    b,
    "netns",
    gw,
  );
  // nodad: an IPv6 address is usable at once (no duplicate address detection to wait for)
  const nodad = FAMILY === 6 ? ["nodad"] : [];
  inClient(
    "ip",
    "addr",
    "add",
    `${CLIENT_IP}/${PREFIX_LEN}`,
    "dev",
    a,
    ...nodad,
  );
  inClient("ip", "link", "set", a, "up");
  inClient("ip", "link", "set", "lo", "up");
  inGw("ip", "addr", "add", `${GW_IP}/${PREFIX_LEN}`, "dev", b, ...nodad);
  inGw("ip", "link", "set", b, "up");
  inGw("ip", "link", "set", "lo", "up");
  inGw(
    FAMILY === 6 ? "ip6tables" : "iptables",
    "-A",
    "INPUT",
    "-i",
    b,
    "-p",
    "tcp",
    "--dport",
    SPAN.replace("-", ":"),
    "-j",
    "DROP",
  );
  const mac = (run, dev) =>
    JSON.parse(run("ip", "-j", "link", "show", "dev", dev))[0].address;
  return {
    gw,
    client,
    a,
    b,
    macA: mac(inClient, a),
    macB: mac(inGw, b),
    dir: mkdtempSync(join(tmpdir(), "pk-flood-")),
    pin:
      spawnSync("sh", ["-c", "command -v taskset"]).status === 0 &&
      availableParallelism() >= 2,
    tearDown() {
      spawnSync("ip", ["netns", "del", client]);
      spawnSync("ip", ["netns", "del", gw]);
      rmSync(this.dir, { recursive: true, force: true });
    },
  };
}

function liveUnavailable() {
  if (process.getuid?.() !== 0) return "needs root (network namespaces)";
  for (const [tool, pkg] of [
    ["ip", "iproute2"],
    [FAMILY === 6 ? "ip6tables" : "iptables", "iptables"],
  ])
    if (spawnSync("sh", ["-c", `command -v ${tool}`]).status !== 0)
      return `needs ${tool} (apt-get install ${pkg})`;
  for (const { root } of builds()) {
    for (const f of [
      "knockd/dist/cli.js",
      "pcap/dist/native-binding.js",
      "codec/dist/index.js",
    ])
      if (!existsSync(build(root, f)))
        return `${build(root, f)} is missing: run pnpm build there`;
  }
  return undefined;
}

const fmt = (n) => (n == null ? "–" : Math.round(n).toLocaleString("en-US"));

async function live() {
  const why = liveUnavailable();
  if (why) return `live measure skipped: ${why}`;
  const runs = Number(process.env.FLOOD_RUNS ?? 3);
  const gaps = (first, rest = 1000) => [
    first,
    ...Array(KNOCK_PORTS - 2).fill(rest),
  ];
  const [segmented, ...previous] = builds();
  const both = [segmented, ...previous];
  // [target rate, SYNs per source, the knock's gaps (13), builds]. The sender may not reach the
  // target (each injected SYN also costs the capture's kernel work on its core): the rows give
  // the rate reached, and the rows with longer gaps put as many flood sources between two
  // ports as the higher rates would in one second.
  const plan = [
    [50_000, 1, gaps(1000), both],
    [100_000, 1, gaps(1000), both],
    [200_000, 1, gaps(1000), both],
    [50_000, 1, gaps(2000), both],
    [50_000, 1, gaps(4000), both],
    [50_000, 1, gaps(12_000), both],
    [50_000, 2, gaps(1000), both],
    [50_000, 2, gaps(3000, 3000), [segmented]],
  ].flatMap(([rate, perSource, gapsMs, bs]) =>
    bs.map((b) => ({ rate, perSource, gapsMs, ...b })),
  );
  const only = process.env.FLOOD_ONLY;
  const env = setUp();
  const interrupted = () => {
    for (const c of children) c.kill("SIGKILL");
    env.tearDown();
    process.exit(130);
  };
  process.once("SIGINT", interrupted);
  process.once("SIGTERM", interrupted);
  const rows = [];
  try {
    for (const { rate, perSource, gapsMs, policy, root } of plan) {
      const label = `${FAMILY === 6 ? (V6_EXT ? "IPv6+DstOpt " : "IPv6 ") : ""}${rate / 1000}k/s, ${perSource} SYN per source, knock gaps ${gapsMs[0] / 1000} s then ${gapsMs[1] / 1000} s`;
      if (only && !`${label} ${policy}`.includes(only)) continue;
      for (let run = 1; run <= runs; run++) {
        const r = await liveRun(env, root, rate, perSource, gapsMs);
        const perGap = (ms) => fmt((r.offered * ms) / 1000 / perSource);
        const evicted =
          r.evictedProbation == null
            ? fmt(r.evicted)
            : `${fmt(r.evictedProbation)} / ${fmt(r.evictedProtected)}`;
        rows.push(
          `| ${label} | ${policy} | ${run} | ${fmt(r.offered)} | ${perGap(gapsMs[0])} / ${perGap(gapsMs[1])} | ${fmt(r.received)} | ${fmt(r.dropped)} | ${r.accepted ? "yes" : "**no**"} | ${r.cpuUsPerPacket.toFixed(2)} | ${r.hwmMiB.toFixed(0)} | ${r.peak.anon.toFixed(0)} / ${r.peak.brk.toFixed(0)} / ${r.peak.binary.toFixed(0)} / ${r.peak.ring.toFixed(0)} / ${r.peak.libs.toFixed(0)} | ${r.anonMiB.toFixed(0)} + ${r.fileMiB.toFixed(0)} + ${r.shmemMiB.toFixed(0)} | ${evicted} |`,
        );
        console.error(rows.at(-1));
      }
    }
  } finally {
    process.off("SIGINT", interrupted);
    process.off("SIGTERM", interrupted);
    env.tearDown();
  }
  return [
    `live veth (sender: pcap_inject of ${FAMILY === 6 ? (V6_EXT ? "82-byte IPv6 SYNs with an 8-byte Destination Options header (sources in 2001:db8:f00d:1::/64)" : "74-byte IPv6 SYNs (sources in 2001:db8:f00d:1::/64)") : "54-byte IPv4 SYNs"} with valid checksums, each from a new spoofed source or two from each, paced per 1 ms, ${env.pin ? "sender on CPU 0, knockd on CPU 1" : "not pinned"}; knockd network mode with default maxsources, -test; the knock: sealed CLIENT,PORT,FLAG0 with an IPv${FAMILY} CLIENT, ${KNOCK_PORTS} ports, one TCP connect each over IPv${FAMILY}, from the client namespace, starting 1.5 s into the flood):`,
    "| flood (target rate) | policy | run | pkt/s reached | new spoofed sources in the knock's first gap / in each other gap | pcap received | pcap dropped | knock accepted | knockd CPU µs/packet | knockd peak RSS MiB (VmHWM) | peaks in smaps per 100 ms, MiB: anonymous / malloc brk / Node binary / capture ring / other files | at the end, MiB: RssAnon + RssFile + RssShmem | evicted (probation / protected) |",
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ...rows,
    BASE
      ? ""
      : "(no FLOOD_BASE: the previous policy was not measured; see the header of tools/bench/flood.bench.js)",
  ].join("\n");
}

export async function run() {
  const results = await inProcess();
  const note = await live();
  return {
    title:
      "flood: the detector under spoofed SYN floods (hits/s), and a slow knock through one",
    results,
    unit: "hits/s",
    notes: [
      `in-process rows: createDetector().${FAMILY === 6 ? "push of IPv6 hits (the source's text formatted per hit)" : "pushColumns"}, default maxsources 65536, batches of 1024 hits 5 ms apart (200,000 hits/s of hit time)`,
      note,
    ].join("\n"),
  };
}

// `node tools/bench/flood.bench.js` runs it alone.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { formatTable } = await import("./harness.js");
  const r = await run();
  console.log(formatTable(r.title, r.results, r.unit));
  console.log(r.notes);
}
