/**
 * knockd on a cluster (issue #19), end to end: two and three built `knockd` processes (file mode,
 * sealed knocks appended to their logs by the test) share one real `redis-server`. A knock
 * accepted at one gateway is refused at another; `state(CLIENT,visits)++` counts across
 * gateways; Redis killed mid-run leaves the gateways deciding locally (one CLUSTER_DOWN each,
 * `/metrics` says down), and when it is back what they decided meanwhile is merged.
 */
import { join } from "node:path";
import {
  afterAll,
  beforeAll,
  describe,
  expect,
  it,
  onTestFinished,
} from "vitest";
import { redisUnavailable, startRedis } from "@portknock/test-utils";
import type { TestRedis } from "@portknock/test-utils";
import { readFileSync, writeFileSync } from "node:fs";
import { freePort, runMain, tempDir, waitFor } from "./helpers.ts";
import {
  createGateway,
  sealedKnockLines,
  uniquePrefix,
} from "./cluster-harness.ts";
import { parseExposition } from "./exposition.ts";

const unavailable = redisUnavailable();
if (unavailable != null && process.env.CI !== "true") {
  console.warn(`skipping knockd's cluster tests: ${unavailable}`);
}

const VISITS = ["state = state(CLIENT,visits)++"];

/** The `visits` of `client` as Redis holds it (the cluster store's hash per state root). */
function redisVisits(
  redis: TestRedis,
  prefix: string,
  client: string,
): number | undefined {
  const raw = redis.cli("HGET", `${prefix}:state:${client}`, '["visits"]');
  return raw === "" ? undefined : Number(JSON.parse(raw));
}

/** The replay cache's keys in Redis. */
function replayKeys(redis: TestRedis, prefix: string): string[] {
  return redis
    .cli("--scan", "--pattern", `${prefix}:replay:*`)
    .split("\n")
    .filter(Boolean);
}

async function scrape(
  port: number,
): Promise<ReturnType<typeof parseExposition>> {
  const r = await fetch(`http://127.0.0.1:${port}/metrics`);
  return parseExposition(await r.text());
}

describe.skipIf(unavailable != null && process.env.CI !== "true")(
  "knockd on a cluster (#19)",
  { timeout: 90_000 },
  () => {
    let redis: TestRedis;
    beforeAll(async () => {
      // Persistent, so that a restart after SIGKILL keeps what was there (as a real one would).
      redis = await startRedis([
        "--appendonly",
        "yes",
        "--appendfsync",
        "always",
      ]);
    });
    afterAll(async () => {
      await redis?.stop();
    });

    it("refuses at gw2 a sealed knock gw1 accepted (KNOCK_REPLAY naming gw1); its action ran once", async () => {
      const prefix = uniquePrefix();
      const [gw1, gw2] = ["gw1", "gw2"].map((name) =>
        createGateway({ name, redisUrl: redis.url, prefix }),
      ) as [ReturnType<typeof createGateway>, ReturnType<typeof createGateway>];
      await Promise.all([gw1.start(), gw2.start()]);
      const lines = await sealedKnockLines("10.9.0.1");
      gw1.knock(lines);
      await waitFor(() => gw1.recorded().length === 1, "gw1's action");
      gw2.knock(lines);
      const refused = await gw2.waitForEvent("knock.rejected", {
        code: "KNOCK_REPLAY",
      });
      expect(refused.gateway).toBe("gw1");
      expect(gw1.recorded()).toEqual(["10.9.0.1 22 1"]);
      expect(gw2.recorded()).toEqual([]);
      // One claim in Redis, held by gw1.
      const keys = replayKeys(redis, prefix);
      expect(keys).toHaveLength(1);
      expect(redis.cli("GET", keys[0]!)).toBe("gw1");
      // Two more knocks accepted at gw1 and replayed at gw2: counted, logged once a minute.
      for (const client of ["10.9.0.3", "10.9.0.4"]) {
        const more = await sealedKnockLines(client);
        gw1.knock(more);
        await waitFor(
          () => gw1.recorded().some((r) => r.startsWith(`${client} `)),
          "gw1's action",
        );
        gw2.knock(more);
      }
      // gw2 has read and claimed both when its counters (SIGUSR1) say so.
      let asked = 0;
      await waitFor(() => {
        if (++asked % 10 === 1) gw2.daemon.child.kill("SIGUSR1");
        const last = gw2.events("counters").at(-1) as
          { clusterClaims?: { replay?: number } } | undefined;
        return last?.clusterClaims?.replay === 3;
      }, "gw2's three cluster replays");
      await gw2.daemon.stop();
      const stop = gw2.events("counters").at(-1)!;
      expect(stop.rejections).toMatchObject({ KNOCK_REPLAY: 3 });
      expect(stop.clusterClaims).toEqual({ fresh: 0, replay: 3, local: 0 });
      expect(gw2.events("knock.accepted")).toEqual([]);
      expect(
        gw2
          .events("knock.rejected")
          .filter((e) => e.code === "KNOCK_REPLAY" && e.gateway === "gw1"),
      ).toHaveLength(1);
    });

    it("counts state(CLIENT,visits)++ of three gateways at once: Redis and every gateway say the sum", async () => {
      const prefix = uniquePrefix();
      const gws = ["gw1", "gw2", "gw3"].map((name) =>
        createGateway({
          name,
          redisUrl: redis.url,
          prefix,
          template: VISITS,
        }),
      );
      await Promise.all(gws.map((g) => g.start()));
      const client = "10.9.0.2";
      const perGateway = 3;
      // Every knock is a new one (its own nonce), all at once on every gateway.
      const knocks = await Promise.all(
        gws.map(() =>
          Promise.all(
            Array.from({ length: perGateway }, () => sealedKnockLines(client)),
          ),
        ),
      );
      gws.forEach((g, i) => g.knock(knocks[i]!.flat()));
      const total = gws.length * perGateway;
      await waitFor(
        () => gws.every((g) => g.recorded().length === perGateway),
        "every gateway's actions",
        30_000,
      );
      await waitFor(
        () => redisVisits(redis, prefix, client) === total,
        `Redis' visits = ${total} (${redisVisits(redis, prefix, client)})`,
        15_000,
      );
      // Each gateway's mirror (its statefile) catches up with the others' changes.
      for (const g of gws) {
        await waitFor(
          () => g.stateValue([client, "visits"]) === total,
          `${g.name}'s statefile visits = ${total} (${String(g.stateValue([client, "visits"]))})`,
          15_000,
        );
      }
    });

    it("decides locally while Redis is down (one CLUSTER_DOWN, /metrics says down) and merges back when it returns", async () => {
      const prefix = uniquePrefix();
      const port = await freePort();
      const gw1 = createGateway({
        name: "gw1",
        redisUrl: redis.url,
        prefix,
        template: VISITS,
        extra: [`metrics = 127.0.0.1:${port}`],
      });
      const gw2 = createGateway({
        name: "gw2",
        redisUrl: redis.url,
        prefix,
        template: VISITS,
      });
      await Promise.all([gw1.start(), gw2.start()]);
      const client = "10.9.0.3";
      gw1.knock(await sealedKnockLines(client));
      await waitFor(() => redisVisits(redis, prefix, client) === 1, "visits 1");
      expect((await scrape(port)).value("portknock_cluster_up")).toBe(1);

      await redis.kill();
      const during = [
        await sealedKnockLines(client),
        await sealedKnockLines(client),
      ];
      gw1.knock(during[0]!);
      await waitFor(() => gw1.recorded().length === 2, "gw1's outage knock");
      gw1.knock(during[1]!);
      await waitFor(
        () => gw1.recorded().length === 3,
        "gw1's 2nd outage knock",
      );
      const page = await scrape(port);
      expect(page.value("portknock_cluster_up")).toBe(0);
      expect(page.value("portknock_cluster_outages_total")).toBe(1);
      expect(
        page.value("portknock_cluster_replay_claims_total", {
          result: "local",
        }),
      ).toBe(2);
      expect(
        gw1.events("cluster.down").filter((e) => e.code === "CLUSTER_DOWN"),
      ).toHaveLength(1);

      await redis.start();
      await gw1.waitForEvent("cluster.up", {}, 30_000);
      await gw2.waitForEvent("cluster.up", {}, 30_000);
      // The state deltas of the outage arrive: 1 before, 2 during.
      await waitFor(
        () => redisVisits(redis, prefix, client) === 3,
        `Redis' visits = 3 after the merge (${redisVisits(redis, prefix, client)})`,
        15_000,
      );
      await waitFor(
        () => gw2.stateValue([client, "visits"]) === 3,
        `gw2's visits = 3 (${String(gw2.stateValue([client, "visits"]))})`,
        15_000,
      );
      // A knock gw1 accepted during the outage is refused at gw2 once the claims are merged.
      await waitFor(
        () => replayKeys(redis, prefix).length === 3,
        `3 claims in Redis (${replayKeys(redis, prefix).length})`,
      );
      gw2.knock(during[0]!);
      const refused = await gw2.waitForEvent("knock.rejected", {
        code: "KNOCK_REPLAY",
      });
      expect(refused.gateway).toBe("gw1");
      expect(gw2.recorded()).toEqual([]);
      expect((await scrape(port)).value("portknock_cluster_up")).toBe(1);
    });
  },
);

describe("knockd and an unreachable cluster (#19)", { timeout: 60_000 }, () => {
  it("starts degraded when Redis is down at start, and still accepts knocks locally", async () => {
    const port = await freePort();
    const gw = createGateway({
      name: "gw1",
      redisUrl: `redis://127.0.0.1:${port}/0`,
      prefix: uniquePrefix(),
    });
    await gw.start();
    const start = gw.events("cluster.start")[0]!;
    expect(start).toMatchObject({ up: false, name: "gw1" });
    expect(
      gw.events("cluster.down").filter((e) => e.code === "CLUSTER_DOWN"),
    ).toHaveLength(1);
    gw.knock(await sealedKnockLines("10.9.0.4"));
    await waitFor(() => gw.recorded().length === 1, "the local decision");
    expect(await gw.daemon.stop()).toBe(0);
    expect(gw.events("counters").at(-1)!.clusterClaims).toEqual({
      fresh: 0,
      replay: 0,
      local: 1,
    });
  });

  it("-test does not connect, and says so", async () => {
    const gw = createGateway({
      name: "gw1",
      redisUrl: "redis://127.0.0.1:1/0",
      prefix: uniquePrefix(),
    });
    await gw.start(["-test"]);
    expect(gw.events("cluster.off")).toHaveLength(1);
    expect(gw.events("cluster.start")).toEqual([]);
    expect(gw.events("cluster.down")).toEqual([]);
  });

  it("-check prints the cluster and warns (exit 0) when Redis does not answer", async () => {
    const port = await freePort();
    const gw = createGateway({
      name: "gw7",
      redisUrl: `redis://127.0.0.1:${port}/3`,
      prefix: "site-a",
      budget: "50ms",
      password: "not shown anywhere",
    });
    const r = await runMain(["-check", "-conf", gw.conf]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      `cluster: redis://127.0.0.1:${port}/3 as gw7 (prefix site-a, budget 50 ms, password from passwordfile)`,
    );
    expect(r.stdout).toMatch(/warning CLUSTER_UNREACHABLE: /);
    expect(r.stdout + r.stderr).not.toContain("not shown anywhere");
  });
});

describe.skipIf(unavailable != null && process.env.CI !== "true")(
  "knockd's cluster administration (#19)",
  { timeout: 60_000 },
  () => {
    let redis: TestRedis;
    beforeAll(async () => {
      redis = await startRedis();
    });
    afterAll(async () => {
      await redis?.stop();
    });

    it("joins a Redis on a unix:// socket", async () => {
      const socket = join(tempDir(), "redis.sock");
      const local = await startRedis(["--unixsocket", socket]);
      onTestFinished(() => local.stop());
      const prefix = uniquePrefix();
      const gw = createGateway({
        name: "gw1",
        redisUrl: `unix://${socket}`,
        prefix,
      });
      await gw.start();
      expect(gw.events("cluster.start")[0]).toMatchObject({ up: true });
      gw.knock(await sealedKnockLines("10.9.0.6"));
      await waitFor(() => gw.recorded().length === 1, "the knock");
      await waitFor(() => replayKeys(local, prefix).length === 1, "a claim");
    });

    it("-check PINGs a reachable Redis and lists the gateways running", async () => {
      const prefix = uniquePrefix();
      const gw1 = createGateway({ name: "gw1", redisUrl: redis.url, prefix });
      const gw2 = createGateway({ name: "gw2", redisUrl: redis.url, prefix });
      let r = await runMain(["-check", "-conf", gw2.conf]);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/\n {2}Redis answers PING \(\d+ ms\)\n/);
      expect(r.stdout).toContain("\n  gateways running now: none\n");
      await gw1.start();
      r = await runMain(["-check", "-conf", gw2.conf]);
      expect(r.stdout).toContain("\n  gateways running now: gw1\n");
      // -check beside the running gateway of its own name takes nothing from it.
      r = await runMain(["-check", "-conf", gw1.conf]);
      expect(r.stdout).toContain("gateways running now: gw1 (gw1 is this name");
      expect(gw1.events("cluster.name")).toEqual([]);
    });

    it("a second running gateway with the same name is CLUSTER_NAME_IN_USE, logged at error", async () => {
      const prefix = uniquePrefix();
      const first = createGateway({ name: "gw1", redisUrl: redis.url, prefix });
      const second = createGateway({
        name: "gw1",
        redisUrl: redis.url,
        prefix,
      });
      await first.start();
      await second.start();
      expect(second.events("cluster.start")[0]).toMatchObject({
        nameHeld: false,
      });
      expect(
        second
          .events("cluster.name")
          .filter((e) => e.code === "CLUSTER_NAME_IN_USE" && e.level === 50),
      ).toHaveLength(1);
      expect(first.events("cluster.start")[0]).toMatchObject({
        nameHeld: true,
      });
    });

    it("SIGHUP rejects a changed <cluster> block (restart needed) and keeps the running one", async () => {
      const prefix = uniquePrefix();
      const gw = createGateway({ name: "gw1", redisUrl: redis.url, prefix });
      await gw.start();
      const text = readFileSync(gw.conf, "utf8");
      writeFileSync(gw.conf, text.replace("name = gw1", "name = gw9"));
      gw.daemon.child.kill("SIGHUP");
      const rejected = await gw.waitForEvent("reload.cluster");
      expect(rejected).toMatchObject({ name: "gw1" });
      await gw.waitForEvent("reload.rejected");
      // Still gw1: a knock is claimed under gw1's name.
      gw.knock(await sealedKnockLines("10.9.0.5"));
      await waitFor(() => gw.recorded().length === 1, "the knock");
      await waitFor(() => replayKeys(redis, prefix).length === 1, "a claim");
      expect(redis.cli("GET", replayKeys(redis, prefix)[0]!)).toBe("gw1");
    });
  },
);
