import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { checkBaseRuleset } from "./base-ruleset.ts";
import {
  IPT_FAMILIES,
  iptChainRules,
  iptGrantsBatch,
  iptInstallBatch,
  iptRemoveBatch,
} from "./iptables-script.ts";
import { parseIpsetSave, parseIptablesRules } from "./parse-iptables.ts";

const fixture = (name: string): string =>
  readFileSync(new URL(`../test/fixtures/${name}`, import.meta.url), "utf8");

// The ruleset the fixtures were made with (the real tools, in a network namespace).
const BASE = checkBaseRuleset({
  protect: [
    { protocol: "tcp", port: 22 },
    { protocol: "udp", port: 53 },
  ],
  knockSpan: {
    protocol: "tcp",
    ranges: [
      { from: 600, to: 699 },
      { from: 900, to: 900 },
    ],
  },
  nflog: { group: 5, prefix: "KNOCK" },
  defaultLifetimeMs: 30_000,
});
const [V4, V6] = IPT_FAMILIES as [
  (typeof IPT_FAMILIES)[0],
  (typeof IPT_FAMILIES)[0],
];

describe("iptables batches", () => {
  it("install with ipset: our chain replaced, INPUT hooked once, the set matched", () => {
    expect(
      iptInstallBatch(BASE, V4, true, {
        hooked: false,
        grants: [],
        hasGrantsChain: false,
      }),
    ).toBe(`*filter
:PORTKNOCK - [0:0]
-A PORTKNOCK -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN
-A PORTKNOCK -p tcp -m tcp --dport 22 -m set ! --match-set portknock4 src,dst -j DROP
-A PORTKNOCK -p udp -m udp --dport 53 -m set ! --match-set portknock4 src,dst -j DROP
-A PORTKNOCK -p tcp -m tcp --dport 600:699 --tcp-flags FIN,SYN,RST,ACK SYN -j NFLOG --nflog-group 5 --nflog-prefix KNOCK --nflog-threshold 1
-A PORTKNOCK -p tcp -m tcp --dport 600:699 -j DROP
-A PORTKNOCK -p tcp -m tcp --dport 900 --tcp-flags FIN,SYN,RST,ACK SYN -j NFLOG --nflog-group 5 --nflog-prefix KNOCK --nflog-threshold 1
-A PORTKNOCK -p tcp -m tcp --dport 900 -j DROP
-I INPUT 1 -j PORTKNOCK
COMMIT
`);
  });

  it("install without ipset keeps the tagged grants and ends the grants chain with DROP; a hooked INPUT is left alone", () => {
    const batch = iptInstallBatch(BASE, V6, false, {
      hooked: true,
      grants: [
        {
          address: "2001:db8::7",
          family: 6,
          protocol: "udp",
          port: 53,
          expiresAtSeconds: 1796179220,
        },
      ],
      hasGrantsChain: true,
    });
    expect(batch).toContain(":PORTKNOCK-GRANTS - [0:0]\n");
    expect(batch).toContain(
      "-A PORTKNOCK -p udp -m udp --dport 53 -j PORTKNOCK-GRANTS\n",
    );
    expect(batch).toContain(
      "-A PORTKNOCK-GRANTS -s 2001:db8::7/128 -p udp -m udp --dport 53 -m comment --comment portknock:expires=1796179220 -j RETURN\n-A PORTKNOCK-GRANTS -j DROP\nCOMMIT\n",
    );
    expect(batch).not.toContain("INPUT");
  });

  it("install with ipset deletes a grants chain left over from a run without it", () => {
    expect(
      iptInstallBatch(BASE, V4, true, {
        hooked: true,
        grants: [],
        hasGrantsChain: true,
      }),
    ).toMatch(/^:PORTKNOCK-GRANTS - \[0:0\]\n-X PORTKNOCK-GRANTS\n/m);
  });

  it("grants and remove batches", () => {
    expect(iptGrantsBatch([])).toBe(
      "*filter\n:PORTKNOCK-GRANTS - [0:0]\n-A PORTKNOCK-GRANTS -j DROP\nCOMMIT\n",
    );
    expect(iptRemoveBatch(2, ["PORTKNOCK", "PORTKNOCK-GRANTS"])).toBe(
      "*filter\n-D INPUT -j PORTKNOCK\n-D INPUT -j PORTKNOCK\n-F PORTKNOCK\n-F PORTKNOCK-GRANTS\n-X PORTKNOCK\n-X PORTKNOCK-GRANTS\nCOMMIT\n",
    );
  });
});

describe("reading iptables -S and ipset save (real output, iptables 1.8.9, ipset 7.17)", () => {
  it("tagged rules: the jump, our rules, the grants", () => {
    const state = parseIptablesRules(fixture("ip6tables-S-tagged.txt"));
    expect(state).toEqual({
      jumps: 1,
      chains: ["PORTKNOCK", "PORTKNOCK-GRANTS"],
      rules: expect.any(Array) as string[],
      grants: [
        {
          address: "2001:db8::7",
          family: 6,
          protocol: "udp",
          port: 53,
          expiresAtSeconds: 1796179220,
        },
      ],
      otherGrantsRules: ["-A PORTKNOCK-GRANTS -j DROP"],
    });
    // What iptables prints is what iptChainRules writes, one for one.
    expect(state.rules).toHaveLength(iptChainRules(BASE, V6, false).length);
    expect(parseIptablesRules(fixture("iptables-S-tagged.txt")).grants).toEqual(
      [
        {
          address: "192.0.2.7",
          family: 4,
          protocol: "tcp",
          port: 22,
          expiresAtSeconds: 1796179220,
        },
      ],
    );
  });

  it("ipset: no grants chain, as many rules as written", () => {
    const state = parseIptablesRules(fixture("iptables-S-ipset.txt"));
    expect(state.chains).toEqual(["PORTKNOCK"]);
    expect(state.jumps).toBe(1);
    expect(state.rules).toHaveLength(iptChainRules(BASE, V4, true).length);
  });

  it("ipset save: entries with their time left", () => {
    expect(parseIpsetSave(fixture("ipset-save-portknock6.txt"))).toEqual({
      ok: true,
      grants: [
        {
          address: "2001:db8::7",
          family: 6,
          protocol: "udp",
          port: 53,
          expiresInMs: 599_000,
        },
      ],
    });
    expect(
      parseIpsetSave("add portknock4 192.0.2.7,icmp:8/0 timeout 3"),
    ).toEqual({
      ok: false,
      line: "add portknock4 192.0.2.7,icmp:8/0 timeout 3",
    });
  });
});
