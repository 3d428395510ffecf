// The cluster path at scale (issue #19), on a redis-server of our own (a free loopback port, no
// persistence), with the built @portknock/cluster (run `pnpm build` first):
// - knocks/s with 1, 2 and 4 gateways on this machine: each a child process
//   (cluster-gateway.js) with its own link, driving knocks as fast as the path allows with 1 and
//   16 in flight for CLUSTER_BENCH_SECONDS (default 3): per knock the replay claim (waited on),
//   the state store's `add` of a visits counter (queued; its sender drains it), the publish of a
//   cluster grant (waited on). Reported: aggregate knocks/s; the claim round trip (what delays an
//   action) and the whole path (what knockd's one-knock-at-a-time chain waits); Redis CPU (INFO
//   cpu over the run); grant applications/s by the other gateways (the `apply` is a no-op: N−1
//   per knock); at the end the consumer groups' lag and pending, the state outbox, and how long
//   until both are drained.
// - Redis memory (INFO memory used_memory before/after) per 1M replay entries, per 1M state
//   roots, per 100k grant stream entries, in the shapes the package writes.
// - Degraded: a claim's and a publish's added latency while Redis is paused (`CLIENT PAUSE
//   WRITE`: the budget, 50 ms, bounds it) and while it is down (killed: the link fails fast).
// Run: pnpm build && node tools/bench/run.js cluster. Skips with a note without redis-server.
import { fork, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import {
  createClusterLink,
  createClusterReplayCache,
  createClusterStore,
  createGrantBus,
  grantEntryFields,
} from "@portknock/cluster";
import { createMemoryStore } from "@portknock/engine";
import { Redis } from "ioredis";
import { freePort, startServer, waitPing } from "./redis-server.js";

const GATEWAY = fileURLToPath(new URL("cluster-gateway.js", import.meta.url));
const SECONDS = Number(process.env.CLUSTER_BENCH_SECONDS ?? 3);
const GATEWAYS = [1, 2, 4];
const IN_FLIGHT = [1, 16];
const CLAIMS_IN_FLIGHT = 64;
const ROOTS = 1000; // distinct clients (state roots) the knocks come from
const RELOAD_ROOTS = 100_000;
const REPLAY_ENTRIES = 1_000_000;
const STATE_ROOTS = 1_000_000;
const STREAM_ENTRIES = 100_000;
const DRAIN_LIMIT_MS = 30_000;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const hex = (n) => randomBytes(n).toString("hex");

const infoField = (text, field) =>
  Number(new RegExp(`^${field}:([\\d.]+)`, "m").exec(text)?.[1] ?? NaN);

async function redisCpuSeconds(admin) {
  const info = await admin.info("cpu");
  return infoField(info, "used_cpu_user") + infoField(info, "used_cpu_sys");
}

async function usedMemory(admin) {
  return infoField(await admin.info("memory"), "used_memory");
}

// XINFO GROUPS as objects: name, pending, lag (null when Redis cannot tell).
async function groups(admin, stream) {
  let reply;
  try {
    reply = await admin.call("XINFO", "GROUPS", stream);
  } catch {
    return [];
  }
  return reply.map((flat) => {
    const o = {};
    for (let i = 0; i + 1 < flat.length; i += 2) o[flat[i]] = flat[i + 1];
    return o;
  });
}

const quantile = (sorted, q) =>
  sorted.length === 0
    ? NaN
    : sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];

function sortedOf(arrays) {
  const all = new Float64Array(arrays.reduce((n, a) => n + a.length, 0));
  let i = 0;
  for (const a of arrays) for (const x of a) all[i++] = x;
  return all.sort();
}

// Forks `n` gateways on `prefix`, resolves when each has started (store and bus included).
async function startGateways(n, url, prefix) {
  const kids = [];
  for (let i = 1; i <= n; i++) {
    const child = fork(
      GATEWAY,
      [JSON.stringify({ url, name: `gw${i}`, prefix, roots: ROOTS })],
      { stdio: ["ignore", "inherit", "inherit", "ipc"] },
    );
    const exited = new Promise((r) => child.once("exit", r));
    const ready = new Promise((resolve, reject) => {
      child.once("message", (m) =>
        m.ready ? resolve() : reject(new Error(JSON.stringify(m))),
      );
      child.once("exit", (code) =>
        reject(
          new Error(`gateway gw${i} exited (${code}) before it was ready`),
        ),
      );
    });
    kids.push({ child, exited, ready });
  }
  await Promise.all(kids.map((k) => k.ready));
  return kids;
}

function ask(kid, message, answer) {
  return new Promise((resolve) => {
    const on = (m) => {
      if (m[answer] === undefined) return;
      kid.child.off("message", on);
      resolve(m[answer]);
    };
    kid.child.on("message", on);
    kid.child.send(message);
  });
}

async function clusterRun(admin, url, n, inFlight, claimsOnly = false) {
  const prefix = `bench-${n}x${inFlight}${claimsOnly ? "-claims" : ""}`;
  await admin.flushall();
  const kids = await startGateways(n, url, prefix);
  const durationMs = SECONDS * 1000;
  await admin.call("CONFIG", "RESETSTAT");
  const cpu0 = await redisCpuSeconds(admin);
  const t0 = performance.now();
  const stopped = await Promise.all(
    kids.map((k) =>
      ask(k, { go: true, durationMs, inFlight, claimsOnly }, "stopped"),
    ),
  );
  const wallMs = performance.now() - t0;
  const cpu1 = await redisCpuSeconds(admin);
  const commands = await commandStats(admin);
  const stream = `${prefix}:grants`;
  const atStop = await groups(admin, stream);
  const knocks = stopped.reduce((s, r) => s + r.knocks, 0);
  const published = stopped.reduce(
    (s, r) => s + r.results.published + r.results.queued,
    0,
  );
  const outboxAtStop = stopped.reduce((s, r) => s + r.store.outbox, 0);
  // Drained: every group has read and acked everything, every outbox is empty.
  let drainMs = NaN;
  let reports = [];
  const d0 = performance.now();
  while (performance.now() - d0 < DRAIN_LIMIT_MS) {
    const g = await groups(admin, stream);
    reports = await Promise.all(
      kids.map((k) => ask(k, { report: true }, "report")),
    );
    const groupsDone =
      n === 1 ||
      (g.length === n && g.every((x) => x.lag === 0 && x.pending === 0));
    if (groupsDone && reports.every((r) => r.store.outbox === 0)) {
      drainMs = performance.now() - d0;
      break;
    }
    await sleep(50);
  }
  for (const k of kids) k.child.send({ exit: true });
  await Promise.all(kids.map((k) => k.exited));
  const claims = sortedOf(stopped.map((r) => r.claimMs));
  const paths = sortedOf(stopped.map((r) => r.pathMs));
  const sum = (f) => stopped.reduce((s, r) => s + f(r), 0);
  return {
    name: `${claimsOnly ? "claims only: " : ""}${n} gateway${n > 1 ? "s" : ""}, ${inFlight} in flight each`,
    knocksPerSec: (knocks * 1000) / wallMs,
    claimMedian: quantile(claims, 0.5),
    claimP99: quantile(claims, 0.99),
    pathMedian: quantile(paths, 0.5),
    pathP99: quantile(paths, 0.99),
    local: sum((r) => r.results.local),
    queued: sum((r) => r.results.queued),
    redisCpu: (cpu1 - cpu0) / (wallMs / 1000),
    appliedPerSec: (sum((r) => r.applied) * 1000) / wallMs,
    expectedApplications: published * (n - 1),
    appliedTotal: reports.reduce((s, r) => s + r.applied, 0),
    lagAtStop: Math.max(0, ...atStop.map((x) => x.lag ?? NaN)),
    pendingAtStop: Math.max(0, ...atStop.map((x) => x.pending)),
    outboxAtStop,
    storeSent: reports.reduce((s, r) => s + r.store.sent, 0),
    storeDropped: reports.reduce((s, r) => s + r.store.dropped, 0),
    reloads: reports.reduce((s, r) => s + r.store.reloads, 0),
    drainMs,
    commands,
    knocks,
  };
}

// INFO commandstats: calls and µs spent inside each command (not the network I/O around it).
async function commandStats(admin) {
  const text = await admin.info("commandstats");
  const out = [];
  for (const m of text.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) {
    if (m[1] === "info" || m[1] === "config|resetstat") continue;
    out.push({ command: m[1], calls: Number(m[2]), usec: Number(m[3]) });
  }
  return out.sort((a, b) => b.usec - a.usec);
}

// Redis memory of `count` entries written by `write(pipeline, i)` (pipelines of 10,000).
async function memoryOf(admin, count, write) {
  await admin.flushall();
  const before = await usedMemory(admin);
  for (let i = 0; i < count; i += 10_000) {
    const p = admin.pipeline();
    for (let j = i; j < Math.min(count, i + 10_000); j++) write(p, j);
    await p.exec();
  }
  const bytes = (await usedMemory(admin)) - before;
  const keys = await admin.dbsize();
  await admin.flushall();
  return { bytes, keys };
}

async function memoryRows(admin) {
  const keyId = hex(8);
  const now = Math.floor(Date.now() / 1000);
  const replay = await memoryOf(admin, REPLAY_ENTRIES, (p, i) =>
    p.set(
      `portknock:replay:${keyId}:${now}:${hex(16)}`,
      `gw${i % 4}`,
      "NX",
      "PX",
      600_000,
    ),
  );
  const state = await memoryOf(admin, STATE_ROOTS, (p, i) =>
    p.hset(
      `portknock:state:10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
      JSON.stringify(["visits"]),
      String(1 + (i % 50)),
    ),
  );
  const expires = Date.now() + 3_600_000;
  const stream = await memoryOf(admin, STREAM_ENTRIES, (p, i) =>
    p.call(
      "XADD",
      "portknock:grants",
      "MAXLEN",
      "~",
      "100000",
      "*",
      ...grantEntryFields({
        from: `gw${i % 4}`,
        address: `198.51.${(i >> 8) & 255}.${i & 255}`,
        family: 4,
        protocol: "tcp",
        port: 22,
        expiresAtMs: expires + i,
      }),
    ),
  );
  const mib = (b) => `${(b / 2 ** 20).toFixed(1)} MiB`;
  return [
    `replay entries: ${REPLAY_ENTRIES.toLocaleString("en-US")} × SET portknock:replay:<keyId:time:nonce> gw1 NX PX → ${mib(replay.bytes)} (${Math.round(replay.bytes / replay.keys)} bytes each)`,
    `state roots: ${STATE_ROOTS.toLocaleString("en-US")} × HSET portknock:state:<IPv4> '["visits"]' <n> → ${mib(state.bytes)} (${Math.round(state.bytes / state.keys)} bytes each)`,
    `grant stream: ${STREAM_ENTRIES.toLocaleString("en-US")} × XADD portknock:grants MAXLEN ~ 100000 (6 fields) → ${mib(stream.bytes)} (${Math.round(stream.bytes / STREAM_ENTRIES)} bytes each)`,
  ];
}

// A gateway's full reload of the shared state (its start, and after every outage).
async function reloadRow(admin, url) {
  await admin.flushall();
  for (let i = 0; i < RELOAD_ROOTS; i += 10_000) {
    const p = admin.pipeline();
    for (let j = i; j < i + 10_000; j++) {
      p.hset(
        `reload:state:10.${(j >> 16) & 255}.${(j >> 8) & 255}.${j & 255}`,
        JSON.stringify(["visits"]),
        "1",
      );
    }
    await p.exec();
  }
  await admin.set("reload:state-seeded", "gw0");
  const link = createClusterLink({ url, name: "reload", prefix: "reload" });
  const local = createMemoryStore();
  const store = createClusterStore({ link, local });
  try {
    if (!(await link.ready(5000))) throw new Error("reload: no Redis");
    const t0 = performance.now();
    await store.start();
    const ms = performance.now() - t0;
    return `full state reload (a gateway's start, and after every outage): ${RELOAD_ROOTS.toLocaleString("en-US")} roots (SCAN + pipelined HGETALL) into the local mirror in ${Math.round(ms)} ms, ${local.entries().length.toLocaleString("en-US")} entries loaded`;
  } finally {
    await store.close();
    await link.close();
    await admin.flushall();
  }
}

async function timed(count, fn) {
  const samples = [];
  let last;
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    last = await fn(i);
    samples.push(performance.now() - t0);
  }
  return { samples: samples.sort((a, b) => a - b), last };
}

// A claim and a publish while Redis is paused (CLIENT PAUSE WRITE) and while it is killed.
async function degradedRows(admin, url, server) {
  const link = createClusterLink({ url, name: "deg", prefix: "deg" });
  const replay = createClusterReplayCache({ link });
  const bus = createGrantBus({
    link,
    apply: () => Promise.resolve({ ok: true }),
  });
  const grant = {
    address: "192.0.2.1",
    family: 4,
    protocol: "tcp",
    port: 22,
    lifetimeMs: 60_000,
    scope: "cluster",
  };
  const rows = [];
  try {
    if (!(await link.ready(5000))) throw new Error("degraded: no Redis");
    const up = await timed(200, (i) =>
      replay.claim(`up:${i}:${hex(8)}`, 120_000),
    );
    rows.push({ name: "claim, Redis up", ...up });
    await admin.call("CLIENT", "PAUSE", "10000", "WRITE");
    const pausedClaim = await timed(20, (i) =>
      replay.claim(`paused:${i}:${hex(8)}`, 120_000),
    );
    rows.push({ name: "claim, Redis paused", ...pausedClaim });
    const pausedPublish = await timed(20, () =>
      bus.publish(grant, Date.now() + 60_000),
    );
    rows.push({ name: "publish, Redis paused", ...pausedPublish });
    await admin.call("CLIENT", "UNPAUSE");
    await sleep(200);
    server.child.kill("SIGKILL");
    await server.exited;
    for (let i = 0; i < 100 && link.up; i++) await sleep(20);
    const downClaim = await timed(1000, (i) =>
      replay.claim(`down:${i}:${hex(8)}`, 120_000),
    );
    rows.push({ name: "claim, Redis down", ...downClaim });
    const downPublish = await timed(200, () =>
      bus.publish(grant, Date.now() + 60_000),
    );
    rows.push({ name: "publish, Redis down", ...downPublish });
  } finally {
    await bus.close();
    await replay.close();
    await link.close();
  }
  return rows;
}

const us = (ms) => (Number.isNaN(ms) ? "-" : String(Math.round(ms * 1000)));
const ms1 = (ms) => (Number.isNaN(ms) ? "-" : ms.toFixed(1));
const int = (x) =>
  Number.isNaN(x) ? "-" : Math.round(x).toLocaleString("en-US");

function formatRows(columns, rows) {
  const widths = columns.map(([head, f]) =>
    Math.max(head.length, ...rows.map((r) => String(f(r)).length)),
  );
  const line = (cells) =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i])))
      .join("  ");
  return [
    line(columns.map(([h]) => h)),
    ...rows.map((r) => line(columns.map(([, f]) => String(f(r))))),
  ].join("\n");
}

export async function run() {
  const title = "Cluster path: knocks/s, added latency, Redis memory, degraded";
  if (spawnSync("sh", ["-c", "command -v redis-server"]).status !== 0) {
    return {
      title,
      results: [],
      table: `## ${title}\nskipped: needs redis-server (apt-get install redis-server)`,
    };
  }
  const version = spawnSync("redis-server", ["--version"], {
    encoding: "utf8",
  }).stdout.trim();
  const dir = mkdtempSync(join(tmpdir(), "pk-bench-cluster-"));
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}/0`;
  const server = startServer(port, dir);
  const admin = new Redis({ host: "127.0.0.1", port, lazyConnect: true });
  admin.on("error", () => undefined);
  const out = [`## ${title}`, version];
  try {
    await waitPing(port);
    await admin.connect();
    const load0 = loadavg()[0];
    const runs = [];
    for (const n of GATEWAYS) {
      for (const inFlight of IN_FLIGHT) {
        runs.push(await clusterRun(admin, url, n, inFlight));
      }
    }
    // What Redis takes of claims alone, from one and from two client processes.
    for (const n of [1, 2]) {
      runs.push(await clusterRun(admin, url, n, CLAIMS_IN_FLIGHT, true));
    }
    out.push(
      "",
      `### Knock path per gateway: claim (waited) → state add (queued) → grant publish (waited); ${SECONDS} s a row, ${ROOTS} client roots; load average ${load0.toFixed(1)} at the start, ${loadavg()[0].toFixed(1)} at the end`,
      formatRows(
        [
          ["", (r) => r.name],
          ["knocks/s", (r) => int(r.knocksPerSec)],
          ["claim med µs", (r) => us(r.claimMedian)],
          ["claim p99 µs", (r) => us(r.claimP99)],
          ["path med µs", (r) => us(r.pathMedian)],
          ["path p99 µs", (r) => us(r.pathP99)],
          ["over budget", (r) => int(r.local)],
          ["Redis CPU", (r) => `${Math.round(r.redisCpu * 100)}%`],
          ["applied/s", (r) => int(r.appliedPerSec)],
          ["lag at end", (r) => int(r.lagAtStop)],
          ["outbox at end", (r) => int(r.outboxAtStop)],
          ["drained after ms", (r) => int(r.drainMs)],
        ],
        runs,
      ),
      "(claim = SET NX PX GET round trip, what delays an action; path = claim + publish, what knockd's one-knock-at-a-time chain waits; over budget = claims decided locally after 50 ms; applied/s = grants of other gateways applied during the run, N−1 per knock; lag = the largest consumer group lag when the drivers stopped; outbox = state increments not yet in Redis then; drained = until every group has acked everything and every outbox is empty)",
      ...runs.map(
        (r) =>
          `${r.name}: Redis per knock (calls, µs inside the command): ${r.commands
            .slice(0, 8)
            .map(
              (c) =>
                `${c.command} ${(c.calls / r.knocks).toFixed(2)}, ${(c.usec / r.knocks).toFixed(1)} µs`,
            )
            .join(
              "; ",
            )}\n  grant applications ${int(r.appliedTotal)} of ${int(r.expectedApplications)} expected (more: a publish over the budget that still reached Redis is in the stream twice); state ops sent ${int(r.storeSent)}, dropped ${int(r.storeDropped)}, roots reloaded by others ${int(r.reloads)}; grants queued over budget ${int(r.queued)}`,
      ),
    );
    out.push("", "### Redis memory (INFO memory used_memory, before/after)");
    out.push(...(await memoryRows(admin)));
    out.push(await reloadRow(admin, url));
    const degraded = await degradedRows(admin, url, server);
    out.push(
      "",
      "### Degraded: added latency (budget 50 ms)",
      formatRows(
        [
          ["", (r) => r.name],
          ["n", (r) => String(r.samples.length)],
          ["median ms", (r) => ms1(quantile(r.samples, 0.5))],
          ["p99 ms", (r) => ms1(quantile(r.samples, 0.99))],
          ["max ms", (r) => ms1(r.samples[r.samples.length - 1])],
          ["result", (r) => JSON.stringify(r.last)],
        ],
        degraded,
      ),
    );
  } finally {
    admin.disconnect();
    server.child.kill("SIGKILL");
    await server.exited;
    rmSync(dir, { recursive: true, force: true });
  }
  return { title, results: [], table: out.join("\n") };
}
