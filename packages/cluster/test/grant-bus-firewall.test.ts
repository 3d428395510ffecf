/**
 * The grant bus into a real firewall (issue #19): gw2's `apply` is `@portknock/firewall`'s
 * nftables backend, inside a network namespace this test creates (root; the host's ruleset is
 * never touched). A grant gw1 publishes shows up in gw2's nftables set with a timeout; a grant
 * for a port gw2 does not protect is refused by the firewall, counted by its code and acked.
 */
import type { GrantResult } from "@portknock/engine";
import { createFirewall, FirewallError, spawnArgv } from "@portknock/firewall";
import {
  createNetns,
  gateRootTests,
  redisUnavailable,
  startRedis,
} from "@portknock/test-utils";
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

const gate = gateRootTests(["ip", "nft"]);
const noRedis = redisUnavailable() !== undefined && process.env.CI !== "true";

describe.skipIf(gate.skip || noRedis)(
  "grant bus into a real nftables firewall (root, network namespace)",
  { timeout: 60_000 },
  () => {
    let server: TestRedis;
    beforeAll(async () => {
      server = await startRedis();
    });
    afterAll(async () => {
      await server.stop();
    });

    it("a grant published by gw1 is an element of gw2's nftables set, with a timeout", async () => {
      const ns = createNetns();
      const run = spawnArgv();
      const fw = createFirewall({
        backend: "nftables",
        run: (argv, o) => run(["ip", "netns", "exec", ns.name, ...argv], o),
      });
      onTestFinished(() => fw.close());
      await fw.install({
        protect: [{ protocol: "tcp", port: 22 }],
        defaultLifetimeMs: 30_000,
      });

      const links = ["gw1", "gw2"].map((name) =>
        createClusterLink({
          url: server.url,
          name,
          prefix: "fw",
          budgetMs: 2000,
          retryDelayMs: () => 50,
        }),
      );
      const [link1, link2] = links as [
        ReturnType<typeof createClusterLink>,
        ReturnType<typeof createClusterLink>,
      ];
      const gw1 = createGrantBus({
        link: link1,
        apply: () => Promise.resolve({ ok: true }),
      });
      const gw2 = createGrantBus({
        link: link2,
        apply: async (request): Promise<GrantResult> => {
          try {
            await fw.grant({
              address: request.address,
              protocol: request.protocol,
              port: request.port,
              lifetimeMs: request.lifetimeMs,
            });
            return { ok: true };
          } catch (e) {
            if (e instanceof FirewallError) {
              return { ok: false, code: e.code, message: e.message };
            }
            throw e;
          }
        },
      });
      onTestFinished(async () => {
        await gw1.close();
        await gw2.close();
        for (const l of links) await l.close();
      });
      for (const l of links) expect(await l.ready(10_000)).toBe(true);
      await gw1.start();
      await gw2.start();

      const expires = Date.now() + 120_000;
      const tcp22 = {
        protocol: "tcp",
        port: 22,
        lifetimeMs: 0,
        scope: "cluster",
      } as const;
      await gw1.publish({ ...tcp22, address: "192.0.2.7", family: 4 }, expires);
      await gw1.publish(
        { ...tcp22, address: "2001:db8::7", family: 6 },
        expires,
      );
      // Not a port gw2 protects: its firewall refuses it (FIREWALL_NOT_PROTECTED).
      await gw1.publish(
        { ...tcp22, port: 23, address: "192.0.2.7", family: 4 },
        expires,
      );
      await vi.waitFor(() => expect(gw2.counters().received).toBe(3), {
        timeout: 30_000,
        interval: 50,
      });
      expect(gw2.counters()).toMatchObject({
        applied: 2,
        failed: { FIREWALL_NOT_PROTECTED: 1 },
      });
      const set4 = ns.exec([
        "nft",
        "list",
        "set",
        "inet",
        "portknock",
        "grants4",
      ]);
      const set6 = ns.exec([
        "nft",
        "list",
        "set",
        "inet",
        "portknock",
        "grants6",
      ]);
      // The lifetime is what was left of the two minutes: at most 2m, counted down by the kernel.
      expect(set4).toMatch(
        /192\.0\.2\.7 \. tcp \. 22 timeout (1m|2m)\S* expires \S+/,
      );
      expect(set6).toMatch(
        /2001:db8::7 \. tcp \. 22 timeout (1m|2m)\S* expires \S+/,
      );
      expect(set4).not.toMatch(/\. 23 /);
      expect(server.cli("XPENDING", "fw:grants", "gw2").split("\n")[0]).toBe(
        "0",
      );
    });
  },
);
