/**
 * The cluster state store with two and three gateways on one real redis-server (issue #19):
 * exact counts from concurrent increments, changes seen by the other gateway, an outage merged
 * back, pending actions found by a replacement gateway, Perl's magic increment, and a retry after
 * a timeout that does not count twice. Each test has its own prefix; the server is this file's.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Logger } from "@portknock/core";
import { createFileStore, createMemoryStore } from "@portknock/engine";
import type { PendingAction, StateStore } from "@portknock/engine";
import { redisUnavailable, startRedis } from "@portknock/test-utils";
import type { TestRedis } from "@portknock/test-utils";
import {
  afterAll,
  beforeAll,
  describe,
  expect,
  it,
  onTestFinished,
  vi,
} from "vitest";
import { setup } from "../../engine/test/engine-harness.ts";
import type { ClusterLink } from "../src/link.ts";
import { createClusterLink } from "../src/link.ts";
import type { ClusterStore } from "../src/state-store.ts";
import { createClusterStore } from "../src/state-store.ts";
import { pendingKeyFrom, sealPending } from "../src/pending-seal.ts";

// Generous: several engineers' tests share two cores.
const WAIT = { timeout: 20_000, interval: 25 };
const TEST_MS = 60_000;

interface Gateway {
  link: ClusterLink;
  store: ClusterStore;
  local: StateStore;
}

function recordingLogger(): Logger & {
  warnings: Array<Record<string, unknown>>;
} {
  const warnings: Array<Record<string, unknown>> = [];
  const logger = {
    warnings,
    debug(): void {},
    info(): void {},
    warn(fields: object): void {
      warnings.push(fields as Record<string, unknown>);
    },
    error(): void {},
    child(): Logger {
      return logger;
    },
  };
  return logger;
}

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "pk-cluster-"));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const PENDING_KEY = pendingKeyFrom([
  "base64:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
])!;

describe.skipIf(redisUnavailable() !== undefined && process.env.CI !== "true")(
  "cluster store: gateways on one real redis-server",
  () => {
    let server: TestRedis;
    let n = 0;
    beforeAll(async () => {
      server = await startRedis(["--enable-debug-command", "local"]);
    });
    afterAll(async () => {
      await server.stop();
    });

    async function gateway(
      name: string,
      prefix: string,
      local: StateStore = createMemoryStore(),
      options: {
        budgetMs?: number;
        waitUp?: boolean;
        logger?: Logger;
        pendingKey?: Uint8Array | null;
      } = {},
    ): Promise<Gateway> {
      const link = createClusterLink({
        url: server.url,
        name,
        prefix,
        budgetMs: options.budgetMs ?? 200,
        retryDelayMs: () => 50,
      });
      const store = createClusterStore({
        link,
        local,
        ...(options.logger ? { logger: options.logger } : {}),
        ...(options.pendingKey !== null && {
          pendingKey: options.pendingKey ?? PENDING_KEY,
        }),
      });
      onTestFinished(async () => {
        await store.close();
        await link.close();
      });
      if (options.waitUp !== false) expect(await link.ready(10_000)).toBe(true);
      await store.start();
      return { link, store, local };
    }
    const hget = (key: string, field: string): string =>
      server.cli("HGET", key, field);

    it(
      "counts 200 increments interleaved on two gateways exactly: in Redis and in both mirrors",
      async () => {
        const p = `t${++n}`;
        const a = await gateway("gw1", p);
        const b = await gateway("gw2", p);
        const path = ["10.0.0.1", "visits"];
        for (let i = 0; i < 200; i++) {
          const { store } = i % 2 === 0 ? a : b;
          store.add(path, 1, Number(store.get(path) ?? 0) + 1);
          if (i % 5 === 4) await new Promise((r) => setImmediate(r));
        }
        await vi.waitFor(() => {
          expect(a.store.get(path)).toBe(200);
          expect(b.store.get(path)).toBe(200);
        }, WAIT);
        expect(hget(`${p}:state:10.0.0.1`, '["visits"]')).toBe("200");
        for (const g of [a, b]) {
          expect(g.store.counters()).toMatchObject({ outbox: 0, dropped: 0 });
        }
        // The gateway whose last op landed first learned the final count from the other's
        // change message (which of the two depends on the senders' timing).
        expect(
          a.store.counters().reloads + b.store.counters().reloads,
        ).toBeGreaterThan(0);
      },
      TEST_MS,
    );

    it(
      "counts state(CLIENT,visits)++ of knocks accepted on two engines at once, each on its gateway",
      async () => {
        const p = `t${++n}`;
        const templates = { count: { state: ["state(CLIENT,visits)++"] } };
        const gateways = [await gateway("gw1", p), await gateway("gw2", p)];
        const engines = gateways.map(
          ({ store }) =>
            setup([{ templates: ["count"] }], templates, { store }).engine,
        );
        const knock = { CLIENT: "10.0.0.8", PORT: 22, FLAG0: 0, FLAG1: 0 };
        const results = await Promise.all(
          Array.from({ length: 60 }, (_, i) => engines[i % 2]!.accept(knock)),
        );
        expect(results.every((r) => r.actions[0]?.status === "ran")).toBe(true);
        await vi.waitFor(() => {
          for (const { store } of gateways) {
            expect(store.get(["10.0.0.8", "visits"])).toBe(60);
          }
        }, WAIT);
        expect(hget(`${p}:state:10.0.0.8`, '["visits"]')).toBe("60");
        for (const e of engines) await e.close();
      },
      TEST_MS,
    );

    it(
      "shows a set and a subtree delete on gw1 to gw2 after the change message, without queueing them again",
      async () => {
        const p = `t${++n}`;
        const a = await gateway("gw1", p);
        const b = await gateway("gw2", p);
        a.store.set(["10.0.0.2", "name"], "x");
        a.store.set(["10.0.0.2", "a"], 1);
        a.store.set(["10.0.0.2", "a", "b"], 2);
        await vi.waitFor(() => {
          expect(b.store.get(["10.0.0.2", "name"])).toBe("x");
          expect(b.store.get(["10.0.0.2", "a", "b"])).toBe(2);
        }, WAIT);
        a.store.delete(["10.0.0.2", "a"]);
        await vi.waitFor(() => {
          expect(b.store.entries()).toEqual([[["10.0.0.2", "name"], "x"]]);
        }, WAIT);
        expect(server.cli("HKEYS", `${p}:state:10.0.0.2`)).toBe('["name"]');
        expect(b.store.counters().queued).toBe(0);
        a.store.delete(["10.0.0.2"]);
        await vi.waitFor(() => expect(b.store.entries()).toEqual([]), WAIT);
        expect(server.cli("EXISTS", `${p}:state:10.0.0.2`)).toBe("0");
      },
      TEST_MS,
    );

    it(
      'keeps Perl\'s magic string increment: "aa"++ is "ab" everywhere; a numeric string counts',
      async () => {
        const p = `t${++n}`;
        const a = await gateway("gw1", p);
        const b = await gateway("gw2", p);
        a.store.set(["f"], 0.1);
        a.store.add(["f"], 0.2, 0.1 + 0.2);
        a.store.add(["big"], 2 ** 53, 2 ** 53);
        a.store.add(["big"], -0.5, 2 ** 53 - 0.5);
        a.store.set(["m"], "aa");
        a.store.add(["m"], 1, "ab");
        a.store.set(["s"], "41");
        await vi.waitFor(() => expect(hget(`${p}:state:s`, "[]")).toBe('"41"'));
        b.store.add(["s"], 1, 1); // gw2 may not have seen "41" yet: Redis adds to what it has
        await vi.waitFor(() => {
          expect(b.store.get(["m"])).toBe("ab");
          expect(b.store.get(["f"])).toBe(0.1 + 0.2);
          expect(b.store.get(["big"])).toBe(2 ** 53 - 0.5);
          expect(a.store.get(["s"])).toBe(42);
          expect(b.store.get(["s"])).toBe(42);
        }, WAIT);
        expect(a.store.get(["m"])).toBe("ab");
        expect(hget(`${p}:state:m`, "[]")).toBe('"ab"');
      },
      TEST_MS,
    );

    it(
      "finds gw1's pending actions with a new store named gw1 on a fresh local store",
      async () => {
        const p = `t${++n}`;
        const action: PendingAction = {
          id: "c0ffee",
          action: "knockd.conf:12",
          createdMs: 1000,
          dueMs: 61_000,
          commands: [["/sbin/iptables", "-D", "INPUT", "-s", "10.0.0.4"]],
        };
        const a = await gateway("gw1", p);
        a.store.addPending(action);
        a.store.addPending({ ...action, id: "done" });
        a.store.removePending("done");
        await vi.waitFor(() => {
          expect(server.cli("HKEYS", `${p}:pending:gw1`)).toBe("c0ffee");
        }, WAIT);
        await a.store.close();
        await a.link.close();
        const other = await gateway("gw2", p);
        expect(other.store.pending()).toEqual([]);
        const again = await gateway("gw1", p);
        expect(again.store.pending()).toEqual([action]);
        expect(again.store.counters().queued).toBe(0);
      },
      TEST_MS,
    );

    it(
      "never loads a pending action it cannot verify: one written into Redis by another party, one sealed with another key, and none without a key",
      async () => {
        const p = `t${++n}`;
        const errors: object[] = [];
        const logger: Logger = {
          debug() {},
          info() {},
          warn() {},
          error(fields: object) {
            errors.push(fields);
          },
          child() {
            return logger;
          },
        };
        const evil: PendingAction = {
          id: "evil",
          action: "knockd.conf:1",
          createdMs: Date.now(),
          dueMs: Date.now(),
          commands: [["/usr/bin/touch", "/tmp/pwned"]],
        };
        // Whoever has write access to Redis (a shared requirepass, another gateway's user):
        server.cli("HSET", `${p}:pending:gw1`, "evil", JSON.stringify(evil));
        server.cli(
          "HSET",
          `${p}:pending:gw1`,
          "evil2",
          sealPending(
            pendingKeyFrom(["another cluster's key"]),
            "gw1",
            "evil2",
            JSON.stringify({ ...evil, id: "evil2" }),
          ),
        );
        // A genuine entry of gw2's, copied under gw1: sealed for another gateway.
        server.cli(
          "HSET",
          `${p}:pending:gw1`,
          "evil3",
          sealPending(
            PENDING_KEY,
            "gw2",
            "evil3",
            JSON.stringify({ ...evil, id: "evil3" }),
          ),
        );
        const gw1 = await gateway("gw1", p, createMemoryStore(), { logger });
        expect(gw1.store.pending()).toEqual([]);
        expect(gw1.store.counters()).toMatchObject({ forged: 3 });
        expect(errors).toEqual([
          expect.objectContaining({
            code: "CLUSTER_PENDING_FORGED",
            entries: 3,
          }),
        ]);
        await gw1.store.close();
        await gw1.link.close();
        // Without a key nothing is loaded, not even a genuine entry.
        server.cli(
          "HSET",
          `${p}:pending:gw1`,
          "good",
          sealPending(
            PENDING_KEY,
            "gw1",
            "good",
            JSON.stringify({ ...evil, id: "good" }),
          ),
        );
        const keyless = await gateway("gw1", p, createMemoryStore(), {
          pendingKey: null,
        });
        expect(keyless.store.pending()).toEqual([]);
        await keyless.store.close();
        await keyless.link.close();
        const keyed = await gateway("gw1", p);
        expect(keyed.store.pending().map((a) => a.id)).toEqual(["good"]);
      },
      TEST_MS,
    );

    it(
      "sends an increment again after a timeout without counting it twice",
      async () => {
        const p = `t${++n}`;
        const a = await gateway("gw1", p, createMemoryStore(), {
          budgetMs: 50,
        });
        const blocker = createClusterLink({
          url: server.url,
          name: "blocker",
          budgetMs: 5000,
        });
        onTestFinished(() => blocker.close());
        await blocker.ready(10_000);
        const sleeping = blocker.run("sleep", (r) =>
          r.call("DEBUG", "SLEEP", "1.5"),
        );
        // Redis is busy once a PING over the budget times out.
        await vi.waitFor(async () => {
          expect(await a.link.run("ping", (r) => r.ping())).toMatchObject({
            ok: false,
            reason: "timeout",
          });
        }, WAIT);
        a.store.add(["10.0.0.5", "visits"], 1, 1);
        await sleeping;
        await vi.waitFor(
          () =>
            expect(a.store.counters()).toMatchObject({ outbox: 0, sent: 1 }),
          WAIT,
        );
        expect(a.link.counters().timeouts).toBeGreaterThanOrEqual(2);
        expect(hget(`${p}:state:10.0.0.5`, '["visits"]')).toBe("1");
        expect(a.store.get(["10.0.0.5", "visits"])).toBe(1);
      },
      TEST_MS,
    );

    it(
      "drains a pipeline of increments that times out in its middle without losing or doubling one",
      async () => {
        const p = `t${++n}`;
        const a = await gateway("gw1", p, createMemoryStore(), {
          budgetMs: 50,
        });
        const blocker = createClusterLink({
          url: server.url,
          name: "blocker",
          budgetMs: 5000,
        });
        onTestFinished(() => blocker.close());
        await blocker.ready(10_000);
        // 3,000 increments over 30 roots: many pipelines of 64; Redis sleeps in the middle, so
        // a pipeline times out after some of its ops ran, and is sent again from its first failure.
        const total = 3000;
        for (let i = 0; i < total; i++) {
          const path = [`10.0.1.${i % 30}`, "visits"];
          a.store.add(path, 1, Number(a.store.get(path) ?? 0) + 1);
          if (i === 1000) {
            void blocker.run("sleep", (r) => r.call("DEBUG", "SLEEP", "0.3"));
          }
          if (i % 100 === 99) await new Promise((r) => setImmediate(r));
        }
        await vi.waitFor(
          () => expect(a.store.counters()).toMatchObject({ outbox: 0 }),
          { timeout: 30_000, interval: 50 },
        );
        let sum = 0;
        for (let k = 0; k < 30; k++) {
          sum += Number(hget(`${p}:state:10.0.1.${k}`, '["visits"]'));
        }
        expect(sum).toBe(total);
        expect(a.store.counters()).toMatchObject({ dropped: 0 });
        expect(a.link.counters().timeouts).toBeGreaterThan(0); // the case happened
      },
      TEST_MS,
    );

    it(
      "applies and queues changes while Redis is down, keeps them across a restart of gw1, and merges them back when Redis returns empty",
      async () => {
        const p = `t${++n}`;
        const file = join(tempDir(), "state.json");
        const a = await gateway("gw1", p, await createFileStore(file));
        const b = await gateway("gw2", p);
        const path = ["10.0.0.3", "visits"];
        await server.kill();
        await vi.waitFor(() => expect(a.link.up).toBe(false), WAIT);
        for (let i = 1; i <= 5; i++) a.store.add(path, 1, i);
        a.store.set(["10.0.0.3", "seen"], "yes");
        expect(a.store.get(path)).toBe(5);
        expect(a.store.counters()).toMatchObject({ outbox: 2, queued: 6 });
        await a.store.flush();
        // gw1 restarts during the outage: the outbox is in its statefile.
        await a.store.close();
        await a.link.close();
        const local = await createFileStore(file);
        expect(local.getExtra("cluster.outbox")).toMatchObject({
          ops: [
            { op: "add", path, delta: 5, value: 5 },
            { op: "set", path: ["10.0.0.3", "seen"], value: "yes" },
          ],
        });
        const again = await gateway("gw1", p, local, { waitUp: false });
        expect(again.store.get(path)).toBe(5);
        await server.start();
        await vi.waitFor(() => {
          expect(b.store.get(path)).toBe(5);
          expect(b.store.get(["10.0.0.3", "seen"])).toBe("yes");
          expect(again.store.counters().outbox).toBe(0);
        }, WAIT);
        expect(hget(`${p}:state:10.0.0.3`, '["visits"]')).toBe("5");
        expect(again.store.get(path)).toBe(5);
        await again.store.flush();
        expect(local.getExtra("cluster.outbox")).toBeUndefined();
      },
      TEST_MS,
    );

    it(
      "seeds an empty Redis with the first gateway's state; a later gateway takes Redis's (its local-only roots go)",
      async () => {
        const p = `t${++n}`;
        const first = createMemoryStore();
        first.set(["10.0.0.7", "visits"], 3);
        first.set(["10.0.0.7", "name"], "x");
        await gateway("gw1", p, first);
        await vi.waitFor(
          () => expect(hget(`${p}:state:10.0.0.7`, '["visits"]')).toBe("3"),
          WAIT,
        );
        expect(server.cli("GET", `${p}:state-seeded`)).toBe("gw1");
        const later = createMemoryStore();
        later.set(["10.9.9.9", "stale"], 1);
        const b = await gateway("gw2", p, later);
        expect(b.store.entries()).toEqual([
          [["10.0.0.7", "name"], "x"],
          [["10.0.0.7", "visits"], 3],
        ]);
        expect(server.cli("EXISTS", `${p}:state:10.9.9.9`)).toBe("0");
      },
      TEST_MS,
    );

    it(
      "counts and logs what is not valid in Redis (a message, a field, a value, a root) and keeps the good entries",
      async () => {
        const p = `t${++n}`;
        const logger = recordingLogger();
        const a = await gateway("gw1", p, createMemoryStore(), { logger });
        const channel = `${p}:state-changes`;
        server.cli("PUBLISH", channel, "not json");
        server.cli(
          "HSET",
          `${p}:state:10.0.0.6`,
          '["ok"]',
          "1",
          "notjson",
          "2",
          '["x"]',
          "{}",
        );
        server.cli("PUBLISH", channel, '{"from":"gw9","root":"10.0.0.6"}');
        await vi.waitFor(() => {
          expect(a.store.get(["10.0.0.6", "ok"])).toBe(1);
          expect(a.store.counters().rejected).toBe(3);
        }, WAIT);
        expect(a.store.entries()).toEqual([[["10.0.0.6", "ok"], 1]]);
        expect(logger.warnings).toEqual(
          expect.arrayContaining([
            expect.objectContaining({
              code: "CLUSTER_BAD_MESSAGE",
              source: channel,
            }),
            expect.objectContaining({
              code: "CLUSTER_BAD_ENTRY",
              source: `${p}:state:10.0.0.6`,
            }),
          ]),
        );
        server.cli("HSET", `${p}:state:a/b`, '["k"]', "1");
        server.cli("PUBLISH", channel, '{"from":"gw9","root":"a/b"}');
        await vi.waitFor(
          () => expect(a.store.counters().rejected).toBe(4),
          WAIT,
        );
        expect(a.store.entries()).toEqual([[["10.0.0.6", "ok"], 1]]);
      },
      TEST_MS,
    );
  },
);

describe("cluster store without Redis", () => {
  it("applies every change locally; a full outbox drops the oldest, counted, with one CLUSTER_OUTBOX_FULL warning", async () => {
    // Nothing listens on port 1: the link never comes up.
    const link = createClusterLink({
      url: "redis://127.0.0.1:1/0",
      name: "gw1",
      retryDelayMs: () => 60_000,
    });
    onTestFinished(() => link.close());
    const logger = recordingLogger();
    const local = createMemoryStore();
    const store = createClusterStore({ link, local, logger, maxOutbox: 3 });
    await store.start();
    for (let i = 1; i <= 5; i++) store.set([`10.0.0.${i}`, "n"], i);
    store.add(["10.0.0.5", "n"], 1, 6);
    store.add(["10.0.0.5", "n"], 1, 7);
    expect(store.entries().map(([, v]) => v)).toEqual([1, 2, 3, 4, 7]);
    expect(store.counters()).toMatchObject({
      queued: 7,
      outbox: 3,
      dropped: 3,
      sent: 0,
    });
    await store.flush();
    expect(local.getExtra("cluster.outbox")).toMatchObject({
      ops: [
        { op: "set", path: ["10.0.0.4", "n"], value: 4 },
        { op: "set", path: ["10.0.0.5", "n"], value: 5 },
        { op: "add", path: ["10.0.0.5", "n"], delta: 2, value: 7 },
      ],
    });
    expect(
      logger.warnings.filter((w) => w.code === "CLUSTER_OUTBOX_FULL"),
    ).toHaveLength(1);
    expect(() => createClusterStore({ link, local, maxOutbox: 0 })).toThrow(
      RangeError,
    );
    await store.close();
    expect(() => store.get(["10.0.0.1", "n"])).toThrow(
      expect.objectContaining({ code: "STORE_CLOSED" }),
    );
  });
});
