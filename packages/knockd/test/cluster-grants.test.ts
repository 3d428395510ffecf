/**
 * Cluster-wide grants (issue #19), end to end and as root: two gateways, each the built `knockd`
 * in a network namespace of the test's own with its managed nftables firewall, joined by a veth
 * pair; Redis runs on the first gateway (as the README's set-up allows) and listens on the veth.
 * A `scope = cluster` grant of a knock accepted at gw1 lands in both gateways' `grants4` set; a
 * gateway that was down while it was published applies it when it starts, for what is left of
 * its lifetime. The host's ruleset is never touched.
 */
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { redisUnavailable } from "@portknock/test-utils";
import { tempDir, waitFor } from "./helpers.ts";
import {
  createGateway,
  sealedKnockLines,
  uniquePrefix,
} from "./cluster-harness.ts";
import type { Gateway } from "./cluster-harness.ts";
import { createNetns, gateRootTests, spawnIn } from "./netns.ts";
import type { Netns } from "./netns.ts";

const gate = gateRootTests(["ip", "nft"], () =>
  process.env.CI === "true" ? undefined : redisUnavailable(),
);
// Outside the knock span: the managed firewall drops new connections to ports in it.
const REDIS = { host: "10.78.0.1", port: 40379 };
const LIFETIME_S = 120;
const PASSWORD = "a test password for the cluster";

/** gw1 and gw2 namespaces joined by a veth pair (10.78.0.1 – 10.78.0.2). */
function createPair(): [Netns, Netns] {
  const a = createNetns();
  const b = createNetns();
  a.exec([
    "ip",
    "link",
    "add",
    "vc0",
    "type",
    "veth",
    "peer",
    "name",
    "vc1",
    "netns",
    b.name,
  ]);
  a.exec(["ip", "addr", "add", `${REDIS.host}/24`, "dev", "vc0"]);
  b.exec(["ip", "addr", "add", "10.78.0.2/24", "dev", "vc1"]);
  a.exec(["ip", "link", "set", "vc0", "up"]);
  b.exec(["ip", "link", "set", "vc1", "up"]);
  return [a, b];
}

/** A redis-server inside `ns` on the veth address; resolves when it answers. */
async function startRedisIn(ns: Netns): Promise<void> {
  const server = spawnIn(ns.name, [
    "redis-server",
    "--port",
    String(REDIS.port),
    "--bind",
    REDIS.host,
    "--requirepass",
    PASSWORD,
    "--dir",
    tempDir(),
    "--save",
    "",
    "--appendonly",
    "no",
    "--loglevel",
    "warning",
  ]);
  await waitFor(() => {
    const r = spawnSync(
      "ip",
      [
        "netns",
        "exec",
        ns.name,
        "redis-cli",
        "-h",
        REDIS.host,
        "-p",
        String(REDIS.port),
        "PING",
      ],
      {
        encoding: "utf8",
        env: { ...process.env, REDISCLI_AUTH: PASSWORD },
      },
    );
    return r.stdout.trim() === "PONG";
  }, "redis-server in the gateway namespace");
  expect(server.child.exitCode).toBeNull();
}

/** The timeout (seconds) of `address`'s tcp/40022 grant in `ns`'s grants4 set, or undefined. */
function grantTimeoutS(ns: Netns, address: string): number | undefined {
  const r = spawnSync(
    "ip",
    [
      "netns",
      "exec",
      ns.name,
      "nft",
      "list",
      "set",
      "inet",
      "portknock",
      "grants4",
    ],
    { encoding: "utf8" },
  );
  if (r.status !== 0) return undefined;
  const m = new RegExp(
    `${address.replaceAll(".", "\\.")} \\. tcp \\. 40022 timeout ((?:\\d+h)?(?:\\d+m)?(?:\\d+s)?(?:\\d+ms)?)`,
  ).exec(r.stdout);
  if (m == null) return undefined;
  let s = 0;
  for (const [, n, unit] of m[1]!.matchAll(/(\d+)(h|ms|m|s)/g)) {
    s += Number(n) * { h: 3600, m: 60, s: 1, ms: 0.001 }[unit as "h"];
  }
  return s;
}

function gateway(name: string, ns: Netns, prefix: string): Gateway {
  return createGateway({
    name,
    netns: ns.name,
    redisUrl: `redis://${REDIS.host}:${REDIS.port}/0`,
    prefix,
    password: PASSWORD,
    template: ["grant = tcp/40022 to CLIENT", "scope = cluster"],
    extra: [
      "<firewall>",
      "  backend = nftables",
      "  protect = tcp/40022",
      `  grant = ${LIFETIME_S}s`,
      "</firewall>",
    ],
  });
}

describe.skipIf(gate.skip)("cluster grants in namespaces (#19)", () => {
  it(
    "applies a scope = cluster grant on every gateway's nft; a gateway down meanwhile catches up with the remaining lifetime",
    { timeout: 120_000 },
    async () => {
      const [a, b] = createPair();
      await startRedisIn(a);
      const prefix = uniquePrefix();
      const gw1 = gateway("gw1", a, prefix);
      const gw2 = gateway("gw2", b, prefix);
      await Promise.all([gw1.start(), gw2.start()]);

      gw1.knock(await sealedKnockLines("10.9.1.1"));
      await gw1.waitForEvent("action.granted", { ip: "10.9.1.1" });
      await waitFor(
        () => grantTimeoutS(b, "10.9.1.1") !== undefined,
        "gw2's grant of 10.9.1.1",
      );
      expect(grantTimeoutS(a, "10.9.1.1")).toBeDefined();
      // Applied by gw2's firewall from the stream: gw2's engine ran no action.
      expect(gw2.recorded()).toEqual([]);

      // gw2 is down while gw1 publishes the next grant.
      expect(await gw2.daemon.stop()).toBe(0);
      gw1.knock(await sealedKnockLines("10.9.1.2"));
      await gw1.waitForEvent("action.granted", { ip: "10.9.1.2" });
      const publishedAt = performance.now();
      expect(grantTimeoutS(b, "10.9.1.2")).toBeUndefined();
      await gw2.start();
      await waitFor(
        () => grantTimeoutS(b, "10.9.1.2") !== undefined,
        "gw2's catch-up grant of 10.9.1.2",
      );
      const elapsedS = (performance.now() - publishedAt) / 1000;
      const timeout = grantTimeoutS(b, "10.9.1.2")!;
      // The remaining lifetime, not a fresh one: at most the lifetime less the time gw2 was away.
      expect(timeout).toBeLessThanOrEqual(
        LIFETIME_S - Math.floor(elapsedS) + 1,
      );
      expect(timeout).toBeLessThan(LIFETIME_S);
      expect(timeout).toBeGreaterThan(LIFETIME_S - 60);
      await gw2.daemon.stop();
      const counters = gw2.events("counters").at(-1)!;
      expect(counters.cluster).toMatchObject({ grants: { applied: 1 } });
    },
  );
});
