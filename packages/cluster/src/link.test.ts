import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { redisUnavailable, startRedis } from "@portknock/test-utils";
import type { TestRedis } from "@portknock/test-utils";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createClusterLink, redisOptions } from "./link.ts";

describe("redisOptions", () => {
  it("reads host, port, database, user and TLS", () => {
    expect(redisOptions({ url: "redis://10.0.0.5:6380/3" })).toMatchObject({
      host: "10.0.0.5",
      port: 6380,
      db: 3,
    });
    expect(
      redisOptions({
        url: "rediss://knockd@[2001:db8::1]/",
        password: "pw",
        tlsCa: "PEM",
      }),
    ).toMatchObject({
      host: "2001:db8::1",
      port: 6379,
      db: 0,
      username: "knockd",
      password: "pw",
      tls: { servername: "2001:db8::1", ca: "PEM" },
    });
  });

  it("reads a unix:// socket's path (database 0)", () => {
    expect(
      redisOptions({ url: "unix:///run/redis/redis.sock", password: "pw" }),
    ).toEqual({ path: "/run/redis/redis.sock", db: 0, password: "pw" });
  });

  it.each([
    ["unix://h/redis.sock"],
    ["unix:///"],
    ["http://h:1/0"],
    ["redis://:secret@h/0"],
    ["redis://h/16"],
    ["redis://h/x"],
    ["redis://h/0?x=1"],
    ["not a url"],
  ])("refuses %s with CLUSTER_BAD_URL", (url) => {
    expect(() => redisOptions({ url })).toThrow(
      expect.objectContaining({ code: "CLUSTER_BAD_URL" }),
    );
  });
});

describe.skipIf(redisUnavailable() !== undefined && process.env.CI !== "true")(
  "createClusterLink with a real redis-server",
  () => {
    let server: TestRedis;
    beforeAll(async () => {
      server = await startRedis(["--enable-debug-command", "local"]);
    });
    afterAll(async () => {
      await server.stop();
    });

    it("connects, runs commands, goes down when Redis dies and comes back", async () => {
      const warnings: object[] = [];
      const logger = {
        debug() {},
        info() {},
        warn(f: object) {
          warnings.push(f);
        },
        error() {},
        child() {
          return logger;
        },
      };
      const link = createClusterLink({
        url: server.url,
        name: "gw1",
        prefix: "t1",
        logger,
        retryDelayMs: () => 50,
      });
      let ups = 0;
      let downs = 0;
      link.onUp(() => ups++);
      link.onDown(() => downs++);
      expect(await link.ready(5000)).toBe(true);
      const set = await link.run("set", (r) => r.set(link.key("a"), "1"));
      expect(set).toEqual({ ok: true, value: "OK" });
      expect(server.cli("GET", "t1:a")).toBe("1");
      await server.kill();
      const failed = await link.run("get", (r) => r.get(link.key("a")));
      expect(failed).toMatchObject({ ok: false, reason: "down" });
      // The command can fail on the dying socket a tick before ioredis emits "close" (seen under
      // load): the link is down once that event has come.
      await vi.waitFor(() => expect(link.up).toBe(false), { timeout: 5000 });
      expect(downs).toBe(1);
      expect(
        warnings.filter((w) => "code" in w && w.code === "CLUSTER_DOWN"),
      ).toHaveLength(1);
      await server.start();
      await link.ready(5000);
      expect(link.up).toBe(true);
      expect(ups).toBe(2);
      expect(link.counters()).toMatchObject({ up: 1, outages: 1 });
      await link.close();
    });

    it("reports a command over the budget as a timeout", async () => {
      const link = createClusterLink({
        url: server.url,
        name: "gw1",
        budgetMs: 20,
      });
      expect(await link.ready(5000)).toBe(true);
      const slow = await link.run("debug sleep", (r) =>
        r.call("DEBUG", "SLEEP", "0.2"),
      );
      expect(slow).toMatchObject({ ok: false, reason: "timeout" });
      expect(link.counters().timeouts).toBe(1);
      await link.close();
    });
  },
);

describe.skipIf(redisUnavailable() !== undefined && process.env.CI !== "true")(
  "createClusterLink over a unix socket",
  () => {
    it("connects to unix:///path and runs commands (a socket is reachable from any network namespace)", async () => {
      const dir = mkdtempSync(join(tmpdir(), "pk-sock-"));
      const socket = join(dir, "redis.sock");
      const server = await startRedis([
        "--unixsocket",
        socket,
        "--unixsocketperm",
        "700",
      ]);
      try {
        const link = createClusterLink({
          url: `unix://${socket}`,
          name: "gw-sock",
        });
        expect(await link.ready(5000)).toBe(true);
        const r = await link.run("set", (redis) => redis.set("k", "v"));
        expect(r).toEqual({ ok: true, value: "OK" });
        expect(server.cli("GET", "k")).toBe("v");
        await link.close();
      } finally {
        await server.stop();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  },
);

describe("redisOptions never repeats a password", () => {
  it.each([
    ["redis:://:hunter2@h"],
    ["redis://u:hun/ter2@h"],
    ["redis://:hunter2@h/0"],
  ])("%s", (url) => {
    let message = "";
    try {
      redisOptions({ url });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/^redis = /);
    expect(message).not.toContain("hunter2");
    expect(message).not.toContain("ter2");
  });
});
