// Gateway names are identities: two live gateways with one name are reported, not silent.
import type { Logger } from "@portknock/core";
import { redisUnavailable, startRedis } from "@portknock/test-utils";
import type { TestRedis } from "@portknock/test-utils";
import {
  afterAll,
  beforeAll,
  describe,
  expect,
  it,
  onTestFinished,
} from "vitest";
import { createClusterLink, createGatewayLease } from "../src/index.ts";

describe.skipIf(redisUnavailable() !== undefined && process.env.CI !== "true")(
  "createGatewayLease with a real redis-server",
  { timeout: 30_000 },
  () => {
    let server: TestRedis;
    let n = 0;
    beforeAll(async () => {
      server = await startRedis();
    });
    afterAll(async () => {
      await server.stop();
    });

    function gateway(name: string, prefix: string, errors: object[] = []) {
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
      const link = createClusterLink({
        url: server.url,
        name,
        prefix,
        budgetMs: 500,
      });
      const lease = createGatewayLease({ link, logger, ttlMs: 3000 });
      onTestFinished(async () => {
        await lease.close();
        await link.close();
      });
      return { link, lease, errors };
    }

    it("holds the name, lists the gateways, and reports a second instance of one name", async () => {
      const p = `lease${++n}`;
      const a = gateway("gw1", p);
      const b = gateway("gw2", p);
      const twin = gateway("gw1", p);
      for (const g of [a, b, twin])
        expect(await g.link.ready(10_000)).toBe(true);
      expect(await a.lease.renew()).toBe(true);
      expect(await b.lease.renew()).toBe(true);
      expect(server.cli("GET", `${p}:gateway:gw1`)).toBe(a.lease.instance);
      const pttl = Number(server.cli("PTTL", `${p}:gateway:gw1`));
      expect(pttl).toBeGreaterThan(0);
      expect(pttl).toBeLessThanOrEqual(3000);
      expect(await a.lease.gateways()).toEqual(["gw1", "gw2"]);

      expect(await twin.lease.renew()).toBe(false);
      expect(twin.lease.counters()).toEqual({ held: 0, conflicts: 1 });
      expect(twin.errors).toEqual([
        expect.objectContaining({
          code: "CLUSTER_NAME_IN_USE",
          name: "gw1",
          other: a.lease.instance,
        }),
      ]);
      // The holder keeps it; it is not taken over while it lives.
      expect(await a.lease.renew()).toBe(true);
      expect(server.cli("GET", `${p}:gateway:gw1`)).toBe(a.lease.instance);

      // Given back at close: the next instance of gw1 takes it.
      await a.lease.close();
      expect(server.cli("EXISTS", `${p}:gateway:gw1`)).toBe("0");
      expect(await twin.lease.renew()).toBe(true);
      expect(await b.lease.gateways()).toEqual(["gw1", "gw2"]);
    });

    it("says nothing when Redis does not answer, and keeps the lease renewed by start()", async () => {
      const p = `lease${++n}`;
      const a = gateway("gw1", p);
      expect(await a.link.ready(10_000)).toBe(true);
      a.lease.start();
      await expect
        .poll(() => server.cli("GET", `${p}:gateway:gw1`))
        .toBe(a.lease.instance);
      // Renewed before the 3 s ttl runs out.
      await new Promise((r) => setTimeout(r, 3500));
      expect(server.cli("GET", `${p}:gateway:gw1`)).toBe(a.lease.instance);
      await server.kill();
      expect(await a.lease.gateways()).toBeUndefined();
      expect(await a.lease.renew()).toBe(true); // unknown: keeps what it knew
      expect(a.errors).toEqual([]);
      await server.start();
      await expect
        .poll(() => server.cli("GET", `${p}:gateway:gw1`), { timeout: 10_000 })
        .toBe(a.lease.instance);
    });
  },
);
