// Why @portknock/cluster uses ioredis (issue #19): ioredis 6.0.0 against @redis/client 6.x on a
// redis-server of our own (a free loopback port, no persistence), with the settings of the
// cluster link (no offline queue, a per-command timeout, a 50 ms reconnect delay):
// - round trip of the replay cache's `SET key gw1 NX PX 600000` (20,000 sequential calls:
//   median and p99) and throughput with 64 in flight;
// - how fast a command fails while Redis is down, and what happens on reconnect (in-flight
//   command, time until a command succeeds again after a restart);
// - Redis memory per 1M replay entries (INFO memory used_memory before and after 1,000,000
//   `SET P:replay:<32 hex> gw1 NX PX 600000` in pipelines).
// Runs only where redis-server exists. @redis/client is not a dependency of the repository:
// install it in a scratch directory and name it, e.g.
//   npm install --prefix /tmp/clientcmp @redis/client@6
//   REDIS_CLIENT_DIR=/tmp/clientcmp node tools/bench/run.js redis-client
// Without it, its rows are skipped with a note.
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import { Redis } from "ioredis";
import { freePort, startServer, waitPing } from "./redis-server.js";

const SEQUENTIAL = 20_000;
const IN_FLIGHT = 64;
const PARALLEL_TOTAL = 100_000;
const ENTRIES = 1_000_000;
const TIMEOUT_MS = 1000; // a per-command timeout as the link sets one (not hit here)

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const hex32 = () => randomBytes(16).toString("hex");

async function loadRedisClient() {
  const dirs = [process.env.REDIS_CLIENT_DIR, undefined];
  for (const dir of dirs) {
    try {
      const req = createRequire(
        dir === undefined ? import.meta.url : join(dir, "noop.js"),
      );
      const path = req.resolve("@redis/client");
      const version = req("@redis/client/package.json").version;
      return { mod: await import(pathToFileURL(path).href), version };
    } catch {
      // try the next place
    }
  }
  return undefined;
}

// The two clients behind one shape: setNx(key) → "OK" | null, plus up/close.
function ioredisClient(port) {
  const r = new Redis({
    host: "127.0.0.1",
    port,
    lazyConnect: true,
    enableOfflineQueue: false,
    commandTimeout: TIMEOUT_MS,
    maxRetriesPerRequest: 0,
    retryStrategy: () => 50,
  });
  r.on("error", () => undefined);
  return {
    name: "ioredis 6.0.0",
    connect: () => r.connect(),
    setNx: (key) => r.set(key, "gw1", "PX", 600000, "NX"),
    ready: () =>
      r.status === "ready"
        ? Promise.resolve()
        : new Promise((res) => r.once("ready", res)),
    close: async () => r.disconnect(),
  };
}

function redisClientClient(mod, version, port) {
  const c = mod.createClient({
    socket: { host: "127.0.0.1", port, reconnectStrategy: () => 50 },
    disableOfflineQueue: true,
    commandOptions: { timeout: TIMEOUT_MS },
  });
  c.on("error", () => undefined);
  return {
    name: `@redis/client ${version}`,
    connect: () => c.connect(),
    setNx: (key) => c.set(key, "gw1", { NX: true, PX: 600000 }),
    ready: () =>
      c.isReady
        ? Promise.resolve()
        : new Promise((res) => c.once("ready", res)),
    close: async () => {
      try {
        c.destroy();
      } catch {
        // already closed
      }
    },
  };
}

async function sequential(client) {
  const samples = [];
  for (let i = 0; i < SEQUENTIAL; i++) {
    const t0 = performance.now();
    await client.setNx(`b:replay:${hex32()}`);
    samples.push(performance.now() - t0);
  }
  return samples;
}

async function parallel(client) {
  let left = PARALLEL_TOTAL;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (left-- > 0) await client.setNx(`b:replay:${hex32()}`);
    }),
  );
  return (PARALLEL_TOTAL * 1000) / (performance.now() - t0);
}

// Kills the server with a command in flight, measures how fast commands fail while it is down,
// restarts it and measures the time until a command succeeds again.
async function outage(client, server, restart) {
  await client.setNx(`b:x:${hex32()}`);
  server.child.kill("SIGKILL");
  const inFlight = client.setNx(`b:x:${hex32()}`).then(
    () => "resolved",
    (e) => `rejected: ${String(e.message).slice(0, 60)}`,
  );
  await server.exited;
  const inFlightResult = await inFlight;
  await sleep(100); // the client has seen the close
  const failMs = [];
  let failMessage = "";
  for (let i = 0; i < 200; i++) {
    const t0 = performance.now();
    try {
      await client.setNx(`b:x:${hex32()}`);
      failMessage = "succeeded?";
    } catch (e) {
      failMessage = String(e.message).slice(0, 70);
    }
    failMs.push(performance.now() - t0);
  }
  const t0 = performance.now();
  const next = await restart();
  let back = Number.NaN;
  for (let i = 0; i < 2000; i++) {
    try {
      await client.setNx(`b:x:${hex32()}`);
      back = performance.now() - t0;
      break;
    } catch {
      await sleep(2);
    }
  }
  return { next, inFlightResult, failMs, failMessage, back };
}

// `shape` makes a replay key: the brief's 32 hex, or the codec's replayKey
// (`keyId:timeSeconds:nonceHex`, 16 + 10 + 32 characters).
async function memoryPer1M(port, shape) {
  const r = new Redis({ host: "127.0.0.1", port });
  await r.flushall();
  const used = async () =>
    Number(/used_memory:(\d+)/.exec(await r.info("memory"))[1]);
  const before = await used();
  for (let i = 0; i < ENTRIES; i += 10_000) {
    const p = r.pipeline();
    for (let j = 0; j < 10_000; j++) {
      p.set(`portknock:replay:${shape()}`, "gw1", "NX", "PX", 600000);
    }
    await p.exec();
  }
  const after = await used();
  const keys = await r.dbsize();
  await r.flushall();
  r.disconnect();
  return { keys, bytes: after - before };
}

// Latency rows in microseconds (the round trips are well under a millisecond).
function formatMicros(title, rows) {
  const q = (s, p) => s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)];
  const w = Math.max(...rows.map((r) => r.name.length));
  const cols = ["n", "median", "p90", "p99", "max"];
  const us = (ms) => String(Math.round(ms * 1000)).padStart(8);
  return [
    `## ${title}`,
    `${"".padEnd(w)}  ${cols.map((c) => c.padStart(8)).join("")}  (µs)`,
    ...rows.map((r) => {
      const s = [...r.samples].sort((a, b) => a - b);
      return `${r.name.padEnd(w)}  ${String(s.length).padStart(8)}${us(q(s, 0.5))}${us(q(s, 0.9))}${us(q(s, 0.99))}${us(s[s.length - 1])}`;
    }),
  ].join("\n");
}

export async function run() {
  const title = "Redis client choice: SET NX PX round trip on loopback";
  if (spawnSync("sh", ["-c", "command -v redis-server"]).status !== 0) {
    return {
      title,
      results: [],
      table: `## ${title}\nskipped: needs redis-server`,
    };
  }
  const dir = mkdtempSync(join(tmpdir(), "pk-bench-redis-"));
  const port = await freePort();
  let server = startServer(port, dir);
  const restart = async () => {
    server = startServer(port, dir);
    await waitPing(port);
    return server;
  };
  const notes = [];
  const rows = [];
  try {
    await waitPing(port);
    const loaded = await loadRedisClient();
    const makers = [() => ioredisClient(port)];
    if (loaded) {
      makers.push(() => redisClientClient(loaded.mod, loaded.version, port));
    } else {
      notes.push(
        "@redis/client: not installed, skipped (npm install --prefix DIR @redis/client@6, then REDIS_CLIENT_DIR=DIR)",
      );
    }
    for (const make of makers) {
      const client = make();
      await client.connect();
      await client.ready();
      await sequential(client); // warm-up round, not reported
      rows.push({
        name: `${client.name}, sequential`,
        samples: await sequential(client),
      });
      const rate = await parallel(client);
      notes.push(
        `${client.name}: ${Math.round(rate).toLocaleString("en-US")} SET NX PX/s with ${IN_FLIGHT} in flight (${PARALLEL_TOTAL.toLocaleString("en-US")} calls)`,
      );
      const o = await outage(client, server, restart);
      server = o.next;
      rows.push({ name: `${client.name}, fail while down`, samples: o.failMs });
      notes.push(
        `${client.name}: in flight at the kill: ${o.inFlightResult}; while down: "${o.failMessage}"; first success ${o.back.toFixed(0)} ms after the restart began (reconnect delay 50 ms)`,
      );
      await client.close();
    }
    const shapes = [
      ["<32 hex>", hex32],
      [
        "<replayKey: 16 hex:10 digits:32 hex>",
        () => `${randomBytes(8).toString("hex")}:1764660000:${hex32()}`,
      ],
    ];
    for (const [label, shape] of shapes) {
      const mem = await memoryPer1M(port, shape);
      notes.push(
        `Redis memory: ${mem.keys.toLocaleString("en-US")} entries "portknock:replay:${label}" = "gw1" with PX took ${(mem.bytes / 2 ** 20).toFixed(1)} MiB of used_memory, ${Math.round(mem.bytes / mem.keys)} bytes each`,
      );
    }
  } finally {
    server.child.kill("SIGKILL");
    await server.exited;
    rmSync(dir, { recursive: true, force: true });
  }
  return {
    title,
    results: [],
    table: formatMicros(title, rows),
    notes: notes.join("\n"),
  };
}
