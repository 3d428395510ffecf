/**
 * The managed firewall's configuration in knockd (issue #17), without root: `-check` prints the
 * ruleset knockd would install and warns about a compat grant to CLIENT; a ruleset the firewall
 * library refuses is an error at load; `-firewall-remove` needs a `<firewall>` block. Only
 * `backend = nftables` is used here, so no firewall tool is even probed.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { MAX_GRANT_LIFETIME_MS } from "@portknock/config";
import { MAX_LIFETIME_MS } from "@portknock/firewall";
import { KNOCKD, runMain, tempDir } from "./helpers.ts";
import { createNetns, execIn, gateRootTests } from "./netns.ts";

const SETTINGS = `knock = CLIENT,PORT,FLAG0,CHECKSUM
portspan = 600-699,800-898,900,968-1023
key = test passphrase for knockd
iv = yes
runmode = network
interface = lo
`;

function conf(body: string): string {
  const path = join(tempDir(), "knockdaemon.conf");
  writeFileSync(path, SETTINGS + body);
  return path;
}

const FIREWALL = (protect = "tcp/22"): string => `<firewall>
  backend = nftables
  protect = ${protect}
  grant = 20s
</firewall>
`;
const ACTIONS = (grant: string): string => `<actions>
<action>
template = open
</action>
<template open>
grant = ${grant}
</template>
</actions>
`;

describe("knockd and the <firewall> block (#17)", () => {
  it("the config's longest grant is the firewall's", () => {
    expect(MAX_GRANT_LIFETIME_MS).toBe(MAX_LIFETIME_MS);
  });

  it("-check prints the nftables ruleset knockd would install, and warns about a grant to CLIENT", async () => {
    const r = await runMain([
      "-check",
      "-conf",
      conf(FIREWALL() + ACTIONS("tcp/22")),
    ]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      "firewall: nftables (backend = nftables); knockd would install:",
    );
    expect(r.stdout).toContain("  add table inet portknock\n");
    expect(r.stdout).toContain("th dport { tcp . 22 } counter drop");
    expect(r.stdout).toContain(
      "tcp dport { 600-699, 800-898, 900, 968-1023 } counter drop",
    );
    // network mode: no NFLOG rule.
    expect(r.stdout).not.toContain(" group ");
    expect(r.stdout).toMatch(/warning ENV_IPV6_GRANT_IPV4_CLIENT: .*:\d+:\d+/);
  });

  it("a grant to SOURCE needs no warning", async () => {
    const r = await runMain([
      "-check",
      "-conf",
      conf(FIREWALL() + ACTIONS("tcp/22 to SOURCE")),
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain("ENV_IPV6_GRANT_IPV4_CLIENT");
  });

  it("a protected port inside the knock span is the firewall's FIREWALL_BAD_RULESET at load, naming the <firewall> line", async () => {
    const r = await runMain([
      "-check",
      "-conf",
      conf(FIREWALL("tcp/650") + ACTIONS("tcp/650 to SOURCE")),
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /knockdaemon\.conf:7:1: error FIREWALL_BAD_RULESET: <firewall>: /,
    );
  });

  it("a grant without <firewall> is refused at load", async () => {
    const r = await runMain(["-check", "-conf", conf(ACTIONS("tcp/22"))]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("error CONFIG_GRANT_NO_FIREWALL");
  });

  it("-firewall-remove without a <firewall> block is FIREWALL_NOT_MANAGED, exit 2", async () => {
    const r = await runMain(["-firewall-remove", "-conf", conf("")]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^knockd: FIREWALL_NOT_MANAGED: /m);
  });
});

const gate = gateRootTests(["ip", "nft"]);

describe.skipIf(gate.skip)(
  "knockd -test with <firewall> (#17, root, in a namespace)",
  () => {
    it("logs the ruleset it would install and installs nothing", async () => {
      const ns = createNetns();
      const dir = tempDir();
      const log = join(dir, "empty.log");
      writeFileSync(log, "");
      const path = join(dir, "knockdaemon.conf");
      writeFileSync(
        path,
        SETTINGS.replace("runmode = network\ninterface = lo\n", "") +
          `logfile = ${log}\n` +
          FIREWALL() +
          ACTIONS("tcp/22 to SOURCE"),
      );
      const r = await execIn(ns.name, [
        process.execPath,
        KNOCKD,
        "-test",
        "-replay",
        log,
        "-conf",
        path,
        "-logjson",
      ]);
      expect(r.code).toBe(0);
      const lines = r.stderr
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .map((l) => JSON.parse(l) as { event?: string; ruleset?: string });
      const test = lines.find((l) => l.event === "firewall.test");
      expect(test?.ruleset).toContain("add table inet portknock");
      expect(ns.exec(["nft", "list", "tables"])).toBe("");
    });
  },
);
