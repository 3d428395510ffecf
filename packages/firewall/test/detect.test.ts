/** detectBackend against the real tools, inside a network namespace of the test (root). */
import { describe, expect, it } from "vitest";
import { createNetns, gateRootTests } from "@portknock/test-utils";
import type { RunArgv } from "../src/index.ts";
import { detectBackend, spawnArgv } from "../src/index.ts";

const gate = gateRootTests(["ip", "nft", "iptables", "ipset"]);

describe.skipIf(gate.skip)("detectBackend (root, network namespace)", () => {
  /** Runs inside `ns`, with the tools in `gone` replaced by a path that does not exist. */
  const runIn = (ns: string, gone: readonly string[]): RunArgv => {
    const run = spawnArgv();
    return (argv, options) => {
      const tool = gone.includes(argv[0]!)
        ? `/nonexistent/${argv[0]}`
        : argv[0]!;
      return run(["ip", "netns", "exec", ns, tool, ...argv.slice(1)], options);
    };
  };

  it("prefers nftables, then iptables with ipset, then iptables alone, then none, saying why", async () => {
    const ns = createNetns();
    expect(await detectBackend({ run: runIn(ns.name, []) })).toEqual({
      backend: "nftables",
      ipset: false,
      reason: "nft list tables works",
    });
    const ipt = await detectBackend({ run: runIn(ns.name, ["nft"]) });
    expect(ipt).toMatchObject({ backend: "iptables", ipset: true });
    expect(ipt.reason).toMatch(
      /^nft does not work \(.*nft.*\); iptables -S works; ipset list -n works$/,
    );
    expect(
      await detectBackend({ run: runIn(ns.name, ["nft", "ipset"]) }),
    ).toMatchObject({
      backend: "iptables",
      ipset: false,
      reason: expect.stringMatching(
        /ipset does not work .*: grants are tagged rules$/,
      ) as string,
    });
    const none = await detectBackend({
      run: runIn(ns.name, ["nft", "iptables"]),
    });
    expect(none).toMatchObject({ backend: "none", ipset: false });
    expect(none.reason).toMatch(
      /^nft does not work \(.+\); iptables does not work \(.+\)$/,
    );
  });
});
