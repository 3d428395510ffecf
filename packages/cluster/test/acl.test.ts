/**
 * The Redis ACL user that docs/cluster.md recommends for each gateway (issue #19), on a real
 * redis-server: the `ACL SETUSER gw1 …` line is read from the document itself (so the two cannot
 * drift), set for gw1 and gw2, and two gateways then run every component — the name lease,
 * replay claims, the state store (start, increments, set, delete, pending actions, another gateway's change seen
 * through the subscription), the grant bus — with no command refused; and the user cannot touch
 * another gateway's pending actions (a remote shell: they hold argv) or lease, other prefixes, other
 * channels, or administer the server, not even from a Lua script.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import type { Logger } from "@portknock/core";
import { createMemoryStore } from "@portknock/engine";
import type { GrantRequest, PendingAction } from "@portknock/engine";
import { redisUnavailable, startRedis } from "@portknock/test-utils";
import type { TestRedis } from "@portknock/test-utils";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import {
  createClusterLink,
  createClusterReplayCache,
  createClusterStore,
  createGatewayLease,
  createGrantBus,
} from "../src/index.ts";
import type {
  ClusterLink,
  ClusterReplayCache,
  ClusterStore,
  GatewayLease,
  GrantBus,
} from "../src/index.ts";

const DOC = new URL("../../../docs/cluster.md", import.meta.url);
const WAIT = { timeout: 20_000, interval: 25 };
const KEY = "0011223344556677:1764660000:00112233445566778899aabbccddeeff";
const GRANT: GrantRequest = {
  address: "192.0.2.7",
  family: 4,
  protocol: "tcp",
  port: 22,
  lifetimeMs: 30_000,
  scope: "cluster",
};

/** The document's `ACL SETUSER gw1 …` line for `name`, with `password`'s SHA-256. */
function aclLine(name: string, password: string): string[] {
  const line = /^ACL SETUSER gw1 .*$/m.exec(readFileSync(DOC, "utf8"))?.[0];
  if (line === undefined)
    throw new Error("no ACL SETUSER gw1 line in docs/cluster.md");
  const hash = createHash("sha256").update(password).digest("hex");
  return line.replace("<sha256-hex>", hash).replaceAll("gw1", name).split(" "); // redis-cli takes the command and its arguments as argv
}

/** A logger that keeps warnings and errors. */
function recordingLogger(logged: Array<Record<string, unknown>>): Logger {
  const logger: Logger = {
    debug() {},
    info() {},
    warn(f: object) {
      logged.push(f as Record<string, unknown>);
    },
    error(f: object) {
      logged.push(f as Record<string, unknown>);
    },
    child: () => logger,
  };
  return logger;
}

interface Gateway {
  link: ClusterLink;
  lease: GatewayLease;
  replay: ClusterReplayCache;
  store: ClusterStore;
  bus: GrantBus;
  applied: GrantRequest[];
}

describe.skipIf(redisUnavailable() !== undefined && process.env.CI !== "true")(
  "the ACL user of docs/cluster.md on a real redis-server",
  { timeout: 60_000 }, // generous: several engineers share two cores
  () => {
    let server: TestRedis;
    const gateways: Gateway[] = [];
    const passwords = { gw1: "pw-of-gw1", gw2: "pw-of-gw2" };
    const logged: Array<Record<string, unknown>> = [];
    // ioredis warns on the console when its ready check (INFO) is refused.
    const consoleWarn = vi.spyOn(console, "warn");

    beforeAll(async () => {
      server = await startRedis();
      for (const [name, password] of Object.entries(passwords)) {
        expect(server.cli(...aclLine(name, password))).toBe("OK");
      }
      for (const [name, password] of Object.entries(passwords)) {
        const logger = recordingLogger(logged);
        const link = createClusterLink({
          url: `redis://${name}@127.0.0.1:${server.port}/0`,
          password,
          name,
          logger,
          budgetMs: 2000, // a loaded machine must not turn a claim into a local decision
        });
        expect(await link.ready(10_000)).toBe(true);
        const applied: GrantRequest[] = [];
        const gateway: Gateway = {
          link,
          lease: createGatewayLease({ link, logger }),
          replay: createClusterReplayCache({ link, logger }),
          store: createClusterStore({
            link,
            local: createMemoryStore(),
            logger,
          }),
          bus: createGrantBus({
            link,
            logger,
            apply: (request) => {
              applied.push(request);
              return Promise.resolve({ ok: true });
            },
          }),
          applied,
        };
        expect(await gateway.lease.renew()).toBe(true);
        await gateway.store.start();
        await gateway.bus.start();
        gateways.push(gateway);
      }
    });
    afterAll(async () => {
      for (const g of gateways) {
        await g.bus.close();
        await g.store.close();
        await g.replay.close();
        await g.lease.close();
        await g.link.close();
      }
      consoleWarn.mockRestore();
      await server.stop();
    });

    it("lets two gateways run the replay cache, the state store and the grant bus", async () => {
      const [gw1, gw2] = gateways as [Gateway, Gateway];
      expect(await gw1.replay.claim(KEY, 120_000)).toEqual({ result: "fresh" });
      expect(await gw2.replay.claim(KEY, 120_000)).toEqual({
        result: "replay",
        by: "gw1",
      });

      gw1.store.add(["10.0.0.1", "visits"], 1, 1);
      gw2.store.add(["10.0.0.1", "visits"], 1, 1);
      gw1.store.set(["10.0.0.1", "last"], "gw1");
      gw1.store.set(["10.0.0.2"], 5);
      gw1.store.delete(["10.0.0.2"]);
      gw1.store.set(["10.0.0.1", "tmp"], 1);
      gw1.store.delete(["10.0.0.1", "tmp"]);
      const action: PendingAction = {
        id: "close-1",
        action: "knockd.conf:12",
        createdMs: Date.now(),
        dueMs: Date.now() + 60_000,
        commands: [["/usr/sbin/nft", "list", "ruleset"]],
      };
      gw1.store.addPending(action);
      gw1.store.addPending({ ...action, id: "close-2" });
      gw1.store.removePending("close-2");
      // Each gateway's mirror sees the other's change through the subscription.
      await vi.waitFor(() => {
        expect(gw1.store.get(["10.0.0.1", "visits"])).toBe(2);
        expect(gw2.store.get(["10.0.0.1", "visits"])).toBe(2);
        expect(gw2.store.get(["10.0.0.1", "last"])).toBe("gw1");
        expect(gw1.store.counters().outbox).toBe(0);
      }, WAIT);
      expect(server.cli("HGET", "portknock:state:10.0.0.1", '["visits"]')).toBe(
        "2",
      );
      expect(server.cli("EXISTS", "portknock:state:10.0.0.2")).toBe("0");
      expect(server.cli("HEXISTS", "portknock:state:10.0.0.1", '["tmp"]')).toBe(
        "0",
      );
      expect(server.cli("HKEYS", "portknock:pending:gw1")).toBe("close-1");

      expect(await gw1.bus.publish(GRANT, Date.now() + 30_000)).toBe(
        "published",
      );
      await vi.waitFor(() => expect(gw2.applied).toHaveLength(1), WAIT);
      expect(gw2.applied[0]).toMatchObject({ address: "192.0.2.7", port: 22 });

      // knockd -check PINGs and lists the gateways holding a lease.
      expect(await gw1.lease.gateways()).toEqual(["gw1", "gw2"]);
      expect(await gw1.link.run("ping", (r) => r.ping())).toEqual({
        ok: true,
        value: "PONG",
      });
      expect(
        server
          .cli("CLIENT", "LIST")
          .match(/name=portknock:gw\d\S*/g)
          ?.sort(),
      ).toEqual([
        "name=portknock:gw1",
        "name=portknock:gw1:grants",
        "name=portknock:gw1:state-changes",
        "name=portknock:gw2",
        "name=portknock:gw2:grants",
        "name=portknock:gw2:state-changes",
      ]);
      expect(logged).toEqual([]);
      expect(consoleWarn).not.toHaveBeenCalled();
      for (const g of gateways) {
        expect(g.link.counters()).toMatchObject({ up: 1, failures: 0 });
        expect(g.store.counters()).toMatchObject({ dropped: 0, rejected: 0 });
        expect(g.bus.counters()).toMatchObject({ readErrors: 0, failed: {} });
      }
    });

    it("refuses another gateway's pending actions, other keys and channels, and administration", async () => {
      const r = new Redis({
        host: "127.0.0.1",
        port: server.port,
        username: "gw1",
        password: passwords.gw1,
        maxRetriesPerRequest: 0,
      });
      try {
        const refused = async (p: Promise<unknown>): Promise<string> =>
          p.then(
            (v) => `allowed: ${JSON.stringify(v)}`,
            (e: Error) => e.message.split(" ")[0] ?? "",
          );
        // gw2's pending actions hold argv that gw2 runs: gw1 must not write them.
        expect(await refused(r.hset("portknock:pending:gw2", "x", "{}"))).toBe(
          "NOPERM",
        );
        expect(await refused(r.set("portknock:applied:gw2", "0"))).toBe(
          "NOPERM",
        );
        expect(await refused(r.del("portknock:gateway:gw2"))).toBe("NOPERM");
        expect(await refused(r.set("other:replay:k", "gw1"))).toBe("NOPERM");
        expect(await refused(r.publish("other-channel", "m"))).toBe("NOPERM");
        expect(await refused(r.flushall())).toBe("NOPERM");
        expect(await refused(r.call("CONFIG", "GET", "dir"))).toBe("NOPERM");
        expect(await refused(r.keys("*"))).toBe("NOPERM");
        expect(await refused(r.call("ACL", "WHOAMI"))).toBe("NOPERM");
        // A script runs with the caller's permissions: for the keys it declares, the keys it
        // names inside, and the commands it calls.
        expect(
          await refused(
            r.eval(
              "return redis.call('HSET', KEYS[1], 'x', '{}')",
              1,
              "portknock:pending:gw2",
            ),
          ),
        ).toBe("NOPERM");
        const inside = await r
          .eval(
            "return redis.call('HSET', 'portknock:pending:gw2', 'x', '{}')",
            0,
          )
          .then(
            () => "allowed",
            (e: Error) => e.message,
          );
        expect(inside).toMatch(/can't access at least one of the keys/);
        const flush = await r.eval("return redis.call('FLUSHALL')", 0).then(
          () => "allowed",
          (e: Error) => e.message,
        );
        expect(flush).toMatch(/can't run this command/);
        expect(server.cli("EXISTS", "portknock:pending:gw2")).toBe("0");
      } finally {
        r.disconnect();
      }
    });
  },
);
