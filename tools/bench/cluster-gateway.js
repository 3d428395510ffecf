// One gateway of the cluster bench (cluster.bench.js forks 1, 2 or 4 of these): the built
// @portknock/cluster with its own link, and per knock the path knockd takes — the replay claim
// (`SET NX PX GET`, waited on), on `fresh` the state store's `add` of a visits counter (returns at
// once: the outbox's sender drains it), then the publish of a cluster grant (waited on, as
// knockd's grant wrapper does). `apply` of the other gateways' grants is a no-op that counts.
// Driven over IPC: "ready" → {go, durationMs, inFlight, claimsOnly?} → "stopped" (samples and counters) →
// {report} (counters after the drain) → {exit}.
import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import {
  createClusterLink,
  createClusterReplayCache,
  createClusterStore,
  createGrantBus,
} from "@portknock/cluster";
import { createMemoryStore } from "@portknock/engine";

const { url, name, prefix, roots } = JSON.parse(process.argv[2]);
const TTL_MS = 120_000; // 2 × the default 60 s window
const GRANT_MS = 60_000;

let applied = 0;
const link = createClusterLink({ url, name, prefix });
const replay = createClusterReplayCache({ link });
const store = createClusterStore({ link, local: createMemoryStore() });
const bus = createGrantBus({
  link,
  apply: () => {
    applied++;
    return Promise.resolve({ ok: true });
  },
});

if (!(await link.ready(10_000))) throw new Error(`${name}: no Redis`);
await store.start();
await bus.start();

const tag = randomBytes(8).toString("hex");
let seq = 0;
// A client address per knock from a pool of `roots` (state roots are clients' addresses).
const client = (i) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;

async function drive(durationMs, inFlight, claimsOnly) {
  const claimMs = [];
  const pathMs = [];
  const results = { fresh: 0, replay: 0, local: 0, published: 0, queued: 0 };
  const appliedAt = applied;
  const t0 = performance.now();
  const end = t0 + durationMs;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (performance.now() < end) {
        const n = seq++;
        // The codec's replayKey shape: keyId:timeSeconds:nonceHex.
        const key = `${tag}:${Math.floor(Date.now() / 1000)}:${n.toString(16).padStart(32, "0")}`;
        const a = performance.now();
        const c = await replay.claim(key, TTL_MS);
        const b = performance.now();
        claimMs.push(b - a);
        results[c.result]++;
        if (c.result === "replay" || claimsOnly) continue;
        const address = client(n % roots);
        const path = [address, "visits"];
        const before = store.get(path);
        store.add(path, 1, typeof before === "number" ? before + 1 : 1);
        const p = await bus.publish(
          {
            address,
            family: 4,
            protocol: "tcp",
            port: 22,
            lifetimeMs: GRANT_MS,
            scope: "cluster",
          },
          Date.now() + GRANT_MS,
        );
        results[p]++;
        pathMs.push(performance.now() - a);
      }
    }),
  );
  const wallMs = performance.now() - t0;
  return {
    name,
    wallMs,
    knocks: claimMs.length,
    results,
    applied: applied - appliedAt,
    claimMs,
    pathMs,
    store: store.counters(),
    link: link.counters(),
  };
}

process.on("message", (m) => {
  if (m.go) {
    void drive(m.durationMs, m.inFlight, m.claimsOnly === true).then((r) =>
      process.send({ stopped: r }),
    );
  } else if (m.report) {
    process.send({
      report: {
        name,
        applied,
        store: store.counters(),
        grants: bus.counters(),
      },
    });
  } else if (m.exit) {
    void (async () => {
      await bus.close();
      await store.close();
      await replay.close();
      await link.close();
      process.disconnect();
    })();
  }
});
process.send({ ready: name });
