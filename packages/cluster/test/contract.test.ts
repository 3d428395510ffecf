/**
 * The engine's StateStore contract (STYLE.md §9) against the cluster store over a memory store
 * and a real redis-server (issue #19): one prefix per store, so the tests do not share state.
 */
import { createMemoryStore } from "@portknock/engine";
import { redisUnavailable, startRedis } from "@portknock/test-utils";
import type { TestRedis } from "@portknock/test-utils";
import { afterAll, beforeAll, describe, onTestFinished } from "vitest";
import { describeStateStore } from "../../engine/test/describe-state-store.ts";
import { createClusterLink } from "../src/link.ts";
import { createClusterStore } from "../src/state-store.ts";

describe.skipIf(redisUnavailable() !== undefined && process.env.CI !== "true")(
  "the cluster store with a real redis-server",
  () => {
    let server: TestRedis;
    let n = 0;
    beforeAll(async () => {
      server = await startRedis();
    });
    afterAll(async () => {
      await server.stop();
    });

    describeStateStore("cluster (memory mirror)", async () => {
      const link = createClusterLink({
        url: server.url,
        name: "gw1",
        prefix: `contract${++n}`,
        budgetMs: 1000,
      });
      onTestFinished(() => link.close());
      await link.ready(5000);
      const store = createClusterStore({ link, local: createMemoryStore() });
      await store.start();
      return store;
    });
  },
);
