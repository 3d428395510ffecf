// The shared replay cache against a real redis-server (issue #19): two gateways' caches, each on
// its own link, on one Redis; the server is killed and restarted to make the outage (a killed
// test Redis loses its data: the merge case) and its writes paused (CLIENT PAUSE) to go over the
// budget.
import type { Logger } from "@portknock/core";
import { redisUnavailable, startRedis } from "@portknock/test-utils";
import type { TestRedis } from "@portknock/test-utils";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClusterLink, createClusterReplayCache } from "../src/index.ts";
import type { ClusterLink, ClusterReplayCache } from "../src/index.ts";

interface Logged {
  fields: Record<string, unknown>;
  msg?: string;
}

function recordingLogger(warnings: Logged[]): Logger {
  const logger: Logger = {
    debug() {},
    info() {},
    warn(fields: object, msg?: string) {
      warnings.push({ fields: fields as Record<string, unknown>, msg });
    },
    error() {},
    child() {
      return logger;
    },
  };
  return logger;
}

const KEY_A = "0011223344556677:1764660000:00112233445566778899aabbccddeeff";
const KEY_B = "0011223344556677:1764660001:ffeeddccbbaa99887766554433221100";

describe.skipIf(redisUnavailable() !== undefined && process.env.CI !== "true")(
  "createClusterReplayCache with a real redis-server",
  { timeout: 30_000 },
  () => {
    let server: TestRedis;
    let prefixes = 0;
    beforeAll(async () => {
      server = await startRedis();
    });
    afterAll(async () => {
      await server.stop();
    });

    // Two gateways on one Redis, with a prefix of their own for this test.
    async function twoGateways(
      budgetMs = 200,
      retryMs = 100,
    ): Promise<{
      prefix: string;
      links: ClusterLink[];
      caches: ClusterReplayCache[];
      warnings: Logged[];
      close: () => Promise<void>;
    }> {
      const prefix = `rc${++prefixes}`;
      const warnings: Logged[] = [];
      const logger = recordingLogger(warnings);
      const links = ["gw1", "gw2"].map((name) =>
        createClusterLink({
          url: server.url,
          name,
          prefix,
          budgetMs,
          logger,
          retryDelayMs: () => 50,
        }),
      );
      for (const l of links) expect(await l.ready(10_000)).toBe(true);
      const caches = links.map((link) =>
        createClusterReplayCache({ link, logger, retryMs }),
      );
      return {
        prefix,
        links,
        caches,
        warnings,
        close: async () => {
          for (const c of caches) await c.close();
          for (const l of links) await l.close();
        },
      };
    }

    async function until(what: string, ok: () => boolean): Promise<void> {
      for (let i = 0; i < 500 && !ok(); i++) {
        await new Promise((r) => setTimeout(r, 20));
      }
      if (!ok()) throw new Error(`timed out waiting for ${what}`);
    }

    it("a key claimed at gw1 is a replay at gw2, naming gw1, and at gw1 itself", async () => {
      const { prefix, caches, close } = await twoGateways();
      const [gw1, gw2] = caches as [ClusterReplayCache, ClusterReplayCache];
      expect(await gw1.claim(KEY_A, 60_000)).toEqual({ result: "fresh" });
      expect(await gw2.claim(KEY_A, 60_000)).toEqual({
        result: "replay",
        by: "gw1",
      });
      expect(await gw1.claim(KEY_A, 60_000)).toEqual({
        result: "replay",
        by: "gw1",
      });
      expect(await gw2.claim(KEY_B, 60_000)).toEqual({ result: "fresh" });
      expect(server.cli("GET", `${prefix}:replay:${KEY_A}`)).toBe("gw1");
      expect(server.cli("GET", `${prefix}:replay:${KEY_B}`)).toBe("gw2");
      const ttl = Number(server.cli("PTTL", `${prefix}:replay:${KEY_A}`));
      expect(ttl).toBeGreaterThan(50_000);
      expect(ttl).toBeLessThanOrEqual(60_000);
      expect(gw1.counters()).toMatchObject({
        claims: 2,
        fresh: 1,
        replays: 1,
        local: 0,
      });
      expect(gw2.counters()).toMatchObject({ claims: 2, fresh: 1, replays: 1 });
      await close();
    });

    it("honours the ttl: once it has passed the key is fresh again", async () => {
      const { caches, close } = await twoGateways();
      const [gw1, gw2] = caches as [ClusterReplayCache, ClusterReplayCache];
      expect(await gw1.claim(KEY_A, 150)).toEqual({ result: "fresh" });
      expect((await gw2.claim(KEY_A, 150)).result).toBe("replay");
      await new Promise((r) => setTimeout(r, 300));
      expect(await gw2.claim(KEY_A, 150)).toEqual({ result: "fresh" });
      await close();
    });

    it("refuses a bad key or ttl with a RangeError", async () => {
      const { caches, close } = await twoGateways();
      const gw1 = caches[0]!;
      await expect(gw1.claim("", 1000)).rejects.toThrow(RangeError);
      await expect(gw1.claim("x".repeat(257), 1000)).rejects.toThrow(
        RangeError,
      );
      await expect(gw1.claim(KEY_A, 0)).rejects.toThrow(RangeError);
      await expect(gw1.claim(KEY_A, 1.5)).rejects.toThrow(RangeError);
      expect(gw1.counters().claims).toBe(0);
      await close();
    });

    it("Redis killed: local at once; restarted: the local claims are pushed, one conflict for a knock accepted at both", async () => {
      const { prefix, links, caches, warnings, close } = await twoGateways();
      const [gw1, gw2] = caches as [ClusterReplayCache, ClusterReplayCache];
      await server.kill();
      await until("both links down", () => links.every((l) => !l.up));

      const t0 = Date.now();
      const local = await gw1.claim(KEY_A, 60_000);
      // Not a timing target: it must not hang on a dead Redis (budget 200 ms).
      expect(Date.now() - t0).toBeLessThan(2000);
      expect(local).toEqual({ result: "local", reason: "down" });
      // The same knock accepted at gw2 too (a partition), and one only at gw2.
      expect((await gw2.claim(KEY_A, 60_000)).result).toBe("local");
      expect((await gw2.claim(KEY_B, 60_000)).result).toBe("local");
      expect(gw1.counters()).toMatchObject({ local: 1, remembered: 1 });
      expect(gw2.counters()).toMatchObject({ local: 2, remembered: 2 });
      // More than one merge batch (64) at gw1, and one claim whose ttl ends before Redis is back.
      const many = Array.from({ length: 150 }, (_, i) => `many:${i}`);
      for (const k of many) {
        expect((await gw1.claim(k, 60_000)).result).toBe("local");
      }
      expect((await gw1.claim("short", 100)).result).toBe("local");
      await new Promise((r) => setTimeout(r, 200)); // "short" has expired

      await server.start(); // empty: the killed server kept nothing
      for (const l of links) expect(await l.ready(10_000)).toBe(true);
      await until(
        "both merged",
        () =>
          gw1.counters().remembered === 0 && gw2.counters().remembered === 0,
      );
      await gw1.merge();
      await gw2.merge();

      const holderA = server.cli("GET", `${prefix}:replay:${KEY_A}`);
      expect(["gw1", "gw2"]).toContain(holderA);
      expect(server.cli("GET", `${prefix}:replay:${KEY_B}`)).toBe("gw2");
      const ttlA = Number(server.cli("PTTL", `${prefix}:replay:${KEY_A}`));
      expect(ttlA).toBeGreaterThan(0);
      expect(ttlA).toBeLessThanOrEqual(60_000);

      const conflicts = warnings.filter(
        (w) => w.fields.code === "CLUSTER_REPLAY_CONFLICT",
      );
      expect(conflicts).toHaveLength(1);
      const loser = holderA === "gw1" ? "gw2" : "gw1";
      expect(conflicts[0]!.fields).toMatchObject({
        key: KEY_A,
        gateway: loser,
        other: holderA,
      });
      expect(conflicts[0]!.msg).toContain("gw1");
      expect(conflicts[0]!.msg).toContain("gw2");
      const sum = (k: "merged" | "conflicts"): number =>
        gw1.counters()[k] + gw2.counters()[k];
      expect(sum("merged")).toBe(2 + many.length);
      expect(server.cli("GET", `${prefix}:replay:many:149`)).toBe("gw1");
      expect(server.cli("EXISTS", `${prefix}:replay:short`)).toBe("0");
      expect(sum("conflicts")).toBe(1);

      // Back to normal: the merged knock is refused everywhere.
      expect(await gw1.claim(KEY_B, 60_000)).toEqual({
        result: "replay",
        by: "gw2",
      });
      await close();
    });

    it("over the budget (writes paused): local, and pushed once Redis answers", async () => {
      const { prefix, caches, links, close } = await twoGateways(50);
      const gw1 = caches[0]!;
      // Writes wait 500 ms from now (the reply to PAUSE comes at once).
      server.cli("CLIENT", "PAUSE", "500", "WRITE");
      const t0 = Date.now();
      const res = await gw1.claim(KEY_A, 60_000);
      expect(res).toEqual({ result: "local", reason: "timeout" });
      expect(Date.now() - t0).toBeLessThan(2000); // did not wait for the pause
      expect(links[0]!.counters().timeouts).toBeGreaterThanOrEqual(1);
      await until("pushed", () => gw1.counters().remembered === 0);
      expect(server.cli("GET", `${prefix}:replay:${KEY_A}`)).toBe("gw1");
      expect(gw1.counters()).toMatchObject({
        local: 1,
        merged: 1,
        conflicts: 0,
      });
      expect(await caches[1]!.claim(KEY_A, 60_000)).toEqual({
        result: "replay",
        by: "gw1",
      });
      await close();
    });

    it("a copy of a knock claimed locally, claimed again before the merge, is a replay by this gateway", async () => {
      // No retry within the test: only the claim itself meets the late SET.
      const { prefix, caches, close } = await twoGateways(50, 60_000);
      const gw1 = caches[0]!;
      server.cli("CLIENT", "PAUSE", "300", "WRITE");
      expect((await gw1.claim(KEY_B, 60_000)).result).toBe("local");
      // The SET that timed out runs when the pause ends.
      await until(
        "the late SET",
        () => server.cli("GET", `${prefix}:replay:${KEY_B}`) === "gw1",
      );
      expect(gw1.counters().remembered).toBe(1);
      expect(await gw1.claim(KEY_B, 60_000)).toEqual({
        result: "replay",
        by: "gw1",
      });
      expect(gw1.counters()).toMatchObject({
        remembered: 0,
        merged: 1,
        replays: 1,
        conflicts: 0,
      });
      await close();
    });

    it("keeps at most maxRemembered local claims, dropping the oldest (counted, one WARN)", async () => {
      const prefix = `rc${++prefixes}`;
      const warnings: Logged[] = [];
      const logger = recordingLogger(warnings);
      // A port nobody listens on: always down.
      const link = createClusterLink({
        url: "redis://127.0.0.1:1/0",
        name: "gw1",
        prefix,
        logger,
        retryDelayMs: () => 60_000,
      });
      const cache = createClusterReplayCache({
        link,
        logger,
        maxRemembered: 3,
      });
      for (let i = 0; i < 5; i++) {
        expect((await cache.claim(`k${i}`, 60_000)).result).toBe("local");
      }
      expect(cache.counters()).toMatchObject({
        local: 5,
        remembered: 3,
        dropped: 2,
      });
      expect(
        warnings.filter((w) => w.fields.code === "CLUSTER_REPLAY_BACKLOG_FULL"),
      ).toHaveLength(1);
      await cache.close();
      await link.close();
    });
  },
);
