/**
 * The grant bus against a real redis-server (issue #19): three gateways on one Redis, catch-up
 * after a restart, a crash between apply and ack, malformed entries, and Redis killed while
 * publishing. `apply` records the requests (the injected dependency, as in the engine's tests);
 * the firewall end is in grant-bus-firewall.test.ts.
 */
import type { Clock, Logger } from "@portknock/core";
import type { GrantRequest, GrantResult } from "@portknock/engine";
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
import { createClusterLink, createGrantBus } from "../src/index.ts";
import type { GrantBus, GrantBusOptions } from "../src/index.ts";

const REQUEST: GrantRequest = {
  address: "192.0.2.7",
  family: 4,
  protocol: "tcp",
  port: 22,
  lifetimeMs: 30_000,
  scope: "cluster",
};
const WAIT = { timeout: 15_000, interval: 20 };

interface Gateway {
  bus: GrantBus;
  calls: GrantRequest[];
  warnings: Array<Record<string, unknown>>;
  link: ReturnType<typeof createClusterLink>;
}

/** A recording logger (warnings only). */
function recordingLogger(warnings: Array<Record<string, unknown>>): Logger {
  const logger: Logger = {
    debug() {},
    info() {},
    warn(f: object) {
      warnings.push(f as Record<string, unknown>);
    },
    error() {},
    child: () => logger,
  };
  return logger;
}

describe.skipIf(redisUnavailable() !== undefined && process.env.CI !== "true")(
  "grant bus with a real redis-server",
  { timeout: 30_000 }, // generous: several engineers share two cores
  () => {
    let server: TestRedis;
    let prefixes = 0;
    beforeAll(async () => {
      server = await startRedis();
    });
    afterAll(async () => {
      await server.stop();
    });

    /** A gateway: a link (budget generous for loaded machines) and a bus whose apply records. */
    function gateway(
      name: string,
      prefix: string,
      more: Partial<GrantBusOptions> = {},
      budgetMs = 2000,
    ): Gateway {
      const calls: GrantRequest[] = [];
      const warnings: Array<Record<string, unknown>> = [];
      const link = createClusterLink({
        url: server.url,
        name,
        prefix,
        budgetMs,
        retryDelayMs: () => 50,
      });
      const bus = createGrantBus({
        link,
        logger: recordingLogger(warnings),
        apply: (request): Promise<GrantResult> => {
          calls.push(request);
          return Promise.resolve({ ok: true });
        },
        ...more,
      });
      onTestFinished(async () => {
        await bus.close();
        await link.close();
      });
      return { bus, calls, warnings, link };
    }

    async function started(...gws: Gateway[]): Promise<void> {
      for (const g of gws) {
        expect(await g.link.ready(10_000)).toBe(true);
        await g.bus.start();
      }
    }

    const nextPrefix = (): string => `t${++prefixes}`;
    const pending = (prefix: string, group: string): string =>
      server.cli("XPENDING", `${prefix}:grants`, group).split("\n")[0] ?? "";

    it("gw1 publishes: gw2 and gw3 apply it once for what is left of it, gw1 skips its own", async () => {
      const p = nextPrefix();
      const [gw1, gw2, gw3] = [
        gateway("gw1", p),
        gateway("gw2", p),
        gateway("gw3", p),
      ];
      await started(gw1, gw2, gw3);
      const expires = Date.now() + 60_000;
      expect(await gw1.bus.publish(REQUEST, expires)).toBe("published");
      await vi.waitFor(() => {
        for (const g of [gw1, gw2, gw3]) {
          expect(g.bus.counters().received).toBe(1);
          expect(pending(p, g.link.name)).toBe("0");
        }
      }, WAIT);
      expect(gw1.calls).toEqual([]);
      expect(gw1.bus.counters()).toMatchObject({ skippedOwn: 1, applied: 0 });
      for (const g of [gw2, gw3]) {
        expect(g.calls).toHaveLength(1);
        const { lifetimeMs, ...rest } = g.calls[0]!;
        expect(rest).toEqual({
          address: "192.0.2.7",
          family: 4,
          protocol: "tcp",
          port: 22,
          scope: "local", // applied here, never published again
        });
        expect(lifetimeMs).toBeLessThanOrEqual(60_000);
        expect(lifetimeMs).toBeGreaterThan(0);
        expect(g.bus.counters()).toMatchObject({ applied: 1, published: 0 });
      }
      expect(gw1.bus.counters()).toMatchObject({ published: 1, queued: 0 });
      const entry = server.cli("XRANGE", `${p}:grants`, "-", "+");
      expect(entry.split("\n")).toEqual(
        expect.arrayContaining(["from", "gw1", "expires", String(expires)]),
      );
    });

    it("a gateway restarted after grants were published catches up and applies only the unexpired", async () => {
      const p = nextPrefix();
      const gw1 = gateway("gw1", p);
      const gw2 = gateway("gw2", p);
      const gw3 = gateway("gw3", p);
      await started(gw1, gw2, gw3);
      await gw3.bus.close();
      await gw3.link.close();
      const now = Date.now();
      await gw1.bus.publish({ ...REQUEST, port: 1 }, now + 5_000);
      await gw1.bus.publish({ ...REQUEST, port: 2 }, now + 60_000);
      await vi.waitFor(() => expect(gw2.calls).toHaveLength(2), WAIT);
      expect(gw3.calls).toEqual([]);
      // The restarted gw3 runs 10 s later: the first grant has expired by then.
      const later: Clock = { now: () => Date.now() + 10_000 };
      const gw3b = gateway("gw3", p, { clock: later });
      await started(gw3b);
      await vi.waitFor(
        () => expect(gw3b.bus.counters().received).toBe(2),
        WAIT,
      );
      expect(gw3b.calls.map((c) => c.port)).toEqual([2]);
      expect(gw3b.calls[0]!.lifetimeMs).toBeLessThanOrEqual(50_000);
      expect(gw3b.bus.counters()).toMatchObject({
        applied: 1,
        skippedExpired: 1,
      });
    });

    it("a crash between apply and ack applies the grant again after the restart", async () => {
      const p = nextPrefix();
      const gw1 = gateway("gw1", p);
      let applying: (() => void) | undefined;
      const reached = new Promise<void>((r) => (applying = r));
      // An apply that never returns: gw2 dies in the middle of it (close without ack).
      const gw2 = gateway("gw2", p, {
        apply: () => {
          applying?.();
          return new Promise<GrantResult>(() => undefined);
        },
      });
      await started(gw1, gw2);
      await gw1.bus.publish(REQUEST, Date.now() + 60_000);
      await reached;
      await gw2.bus.close();
      await gw2.link.close();
      expect(pending(p, "gw2")).toBe("1");
      const gw2b = gateway("gw2", p);
      await started(gw2b); // resolves once own pending entries are applied
      expect(gw2b.calls).toHaveLength(1);
      expect(gw2b.calls[0]).toMatchObject({ address: "192.0.2.7", port: 22 });
      expect(gw2b.bus.counters()).toMatchObject({ received: 1, applied: 1 });
      await vi.waitFor(() => expect(pending(p, "gw2")).toBe("0"), WAIT);
    });

    it("malformed entries are counted, logged with their stream id, acked and never applied", async () => {
      const p = nextPrefix();
      const gw1 = gateway("gw1", p);
      const gw2 = gateway("gw2", p);
      await started(gw1, gw2);
      const key = `${p}:grants`;
      const future = String(Date.now() + 60_000);
      const good = [
        "from",
        "evil",
        "address",
        "192.0.2.9",
        "family",
        "4",
        "protocol",
        "tcp",
        "port",
        "22",
        "expires",
        future,
      ];
      const set = (field: string, value: string): string[] =>
        good.map((v, i) => (good[i - 1] === field ? value : v));
      const bad = [
        set("address", "192.0.2"),
        set("address", "192.0.2.9; nft flush ruleset"),
        set("port", "70000"),
        set("protocol", "icmp"),
        set("family", "6"),
        set("expires", "soon"),
        good.slice(2), // no from
      ];
      const ids = bad.map((fields) => server.cli("XADD", key, "*", ...fields));
      await gw1.bus.publish(REQUEST, Date.now() + 60_000);
      await vi.waitFor(
        () => expect(gw2.bus.counters().received).toBe(bad.length + 1),
        WAIT,
      );
      expect(gw2.bus.counters()).toMatchObject({
        malformed: bad.length,
        applied: 1,
      });
      expect(gw2.calls).toHaveLength(1);
      expect(gw2.calls[0]).toMatchObject({ address: "192.0.2.7", port: 22 });
      expect(pending(p, "gw2")).toBe("0");
      const logged = gw2.warnings.filter(
        (w) => w.code === "CLUSTER_GRANT_MALFORMED",
      );
      // Rate-limited (5 a minute): the first ones name their stream ids.
      expect(logged.length).toBeGreaterThan(0);
      expect(logged.length).toBeLessThanOrEqual(5);
      expect(logged.map((w) => w.source)).toEqual(
        ids.slice(0, logged.length).map((id) => `${key} ${id}`),
      );
    });

    it("Redis killed while publishing: grants queue, the unexpired are published after the restart, consumers recover", async () => {
      const p = nextPrefix();
      let offsetMs = 0;
      const clock: Clock = { now: () => Date.now() + offsetMs };
      const gw1 = gateway("gw1", p, { clock, maxQueued: 2 });
      const gw2 = gateway("gw2", p);
      await started(gw1, gw2);
      expect(gw2.bus.counters().groupsCreated).toBe(1);
      await server.kill();
      await vi.waitFor(() => expect(gw1.link.up).toBe(false), WAIT);
      const now = clock.now();
      // Three while down, two kept: port 1 is dropped as the oldest, port 2 expires meanwhile.
      expect(await gw1.bus.publish({ ...REQUEST, port: 1 }, now + 60_000)).toBe(
        "queued",
      );
      await gw1.bus.publish({ ...REQUEST, port: 2 }, now + 1_000);
      await gw1.bus.publish({ ...REQUEST, port: 3 }, now + 60_000);
      expect(gw1.bus.counters()).toMatchObject({
        queued: 3,
        queueDropped: 1,
        published: 0,
      });
      expect(
        gw1.warnings.filter((w) => w.code === "CLUSTER_GRANT_QUEUE_FULL"),
      ).toHaveLength(1);
      offsetMs = 5_000;
      await server.start();
      await vi.waitFor(() => expect(gw2.calls).toHaveLength(1), WAIT);
      expect(gw2.calls[0]!.port).toBe(3);
      expect(gw1.bus.counters()).toMatchObject({
        published: 1,
        queueExpired: 1,
      });
      // The restarted Redis had lost the stream and the groups: gw2 created its group again.
      expect(gw2.bus.counters().groupsCreated).toBe(2);
      expect(server.cli("XINFO", "GROUPS", `${p}:grants`)).toContain("gw2");
      // And it keeps reading.
      await gw1.bus.publish({ ...REQUEST, port: 4 }, Date.now() + 60_000);
      await vi.waitFor(() => expect(gw2.calls).toHaveLength(2), WAIT);
    });

    it("a publish over the budget is queued and published again shortly (at least once)", async () => {
      const p = nextPrefix();
      const gw1 = gateway("gw1", p, {}, 100);
      const gw2 = gateway("gw2", p);
      await started(gw1, gw2);
      const admin = gw2.link.duplicate("admin");
      // Redis holds every write for 600 ms: the XADD outlasts gw1's 100 ms budget.
      await admin.call("CLIENT", "PAUSE", "600", "WRITE");
      expect(await gw1.bus.publish(REQUEST, Date.now() + 60_000)).toBe(
        "queued",
      );
      await vi.waitFor(
        () => expect(gw1.bus.counters().published).toBe(1),
        WAIT,
      );
      // The timed-out XADD ran after the pause too: the grant may be there twice (idempotent).
      await vi.waitFor(
        () => expect(gw2.calls.length).toBeGreaterThanOrEqual(1),
        WAIT,
      );
      expect(gw2.calls.every((c) => c.port === 22)).toBe(true);
    });

    it("start does not wait for Redis: a gateway started during an outage catches up when it returns", async () => {
      const p = nextPrefix();
      const gw1 = gateway("gw1", p);
      await started(gw1);
      await server.kill();
      const gw2 = gateway("gw2", p);
      await gw2.bus.start(); // resolves although Redis is down
      expect(gw2.link.up).toBe(false);
      await server.start();
      expect(await gw1.link.ready(10_000)).toBe(true);
      await vi.waitFor(async () => {
        expect(await gw1.bus.publish(REQUEST, Date.now() + 60_000)).toBe(
          "published",
        );
      }, WAIT);
      await vi.waitFor(() => expect(gw2.calls.length).toBeGreaterThan(0), WAIT);
      expect(gw2.bus.counters().groupsCreated).toBe(1);
    });

    it("refuses to publish a malformed grant or after close", async () => {
      const gw1 = gateway("gw1", nextPrefix());
      await expect(
        gw1.bus.publish({ ...REQUEST, port: 70_000 }, Date.now() + 1000),
      ).rejects.toThrow(TypeError);
      await expect(
        gw1.bus.publish({ ...REQUEST, address: "192.0.2" }, Date.now() + 1000),
      ).rejects.toThrow(TypeError);
      await expect(gw1.bus.publish(REQUEST, Number.NaN)).rejects.toThrow(
        RangeError,
      );
      await gw1.bus.close();
      await expect(
        gw1.bus.publish(REQUEST, Date.now() + 1000),
      ).rejects.toMatchObject({ code: "CLUSTER_GRANT_BUS_CLOSED" });
    });
  },
);
