import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { checkBaseRuleset } from "./base-ruleset.ts";
import { checkGrant, checkKey } from "./grant.ts";
import {
  nftGrantScript,
  nftInstallScript,
  nftRemoveScript,
  nftRevokeScript,
} from "./nft-script.ts";
import { parseNftTable } from "./parse-nft-list.ts";

const fixture = (name: string): string =>
  readFileSync(new URL(`../test/fixtures/${name}`, import.meta.url), "utf8");

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

describe("nft scripts", () => {
  it("install: creates what is missing, replaces only the chain's rules (the README's example)", () => {
    expect(nftInstallScript(BASE)).toBe(
      `add table inet portknock
add set inet portknock grants4 { type ipv4_addr . inet_proto . inet_service; flags timeout; }
add set inet portknock grants6 { type ipv6_addr . inet_proto . inet_service; flags timeout; }
add chain inet portknock input { type filter hook input priority filter - 10; policy accept; }
flush chain inet portknock input
add rule inet portknock input ct state established,related accept
add rule inet portknock input ip saddr . meta l4proto . th dport @grants4 accept
add rule inet portknock input ip6 saddr . meta l4proto . th dport @grants6 accept
add rule inet portknock input meta l4proto . th dport { tcp . 22, udp . 53 } counter drop
add rule inet portknock input tcp dport { 600-699, 900 } tcp flags & (fin|syn|rst|ack) == syn log prefix "KNOCK" group 5 queue-threshold 1
add rule inet portknock input tcp dport { 600-699, 900 } counter drop
`,
    );
  });

  it("install: no protect rule without protected ports, no log rule without nflog, UDP spans log every datagram", () => {
    const script = nftInstallScript(
      checkBaseRuleset({
        protect: [],
        knockSpan: { protocol: "udp", ranges: [{ from: 1000, to: 2000 }] },
        nflog: { group: 0 },
        defaultLifetimeMs: 1,
      }),
    );
    expect(script).not.toMatch(/th dport \{/);
    expect(script).toMatch(
      /^add rule inet portknock input udp dport \{ 1000-2000 \} log prefix "portknock" group 0 queue-threshold 1$/m,
    );
    expect(
      nftInstallScript(checkBaseRuleset({ ...BASE, nflog: undefined })),
    ).not.toMatch(/ log /);
  });

  it("grant: add, delete, add in one script, the lifetime in s and ms", () => {
    expect(
      nftGrantScript(
        checkGrant(
          {
            address: "2001:db8::7",
            protocol: "udp",
            port: 53,
            lifetimeMs: 2_147_483_000,
          },
          1,
        ),
      ),
    ).toBe(
      `add element inet portknock grants6 { 2001:db8::7 . udp . 53 timeout 2147483s }
delete element inet portknock grants6 { 2001:db8::7 . udp . 53 }
add element inet portknock grants6 { 2001:db8::7 . udp . 53 timeout 2147483s }
`,
    );
    const timeout = (ms: number): string | undefined =>
      /timeout (\S+) \}/.exec(
        nftGrantScript(
          checkGrant({ address: "192.0.2.7", protocol: "tcp", port: 22 }, ms),
        ),
      )?.[1];
    expect([1, 999, 1000, 1500, 30_000].map(timeout)).toEqual([
      "1ms",
      "999ms",
      "1s",
      "1s500ms",
      "30s",
    ]);
  });

  it("revoke and remove work whether or not the thing exists (add first)", () => {
    expect(
      nftRevokeScript(
        checkKey({ address: "::ffff:192.0.2.7", protocol: "tcp", port: 22 }),
      ),
    ).toBe(
      `add element inet portknock grants4 { 192.0.2.7 . tcp . 22 timeout 1s }
delete element inet portknock grants4 { 192.0.2.7 . tcp . 22 }
`,
    );
    expect(nftRemoveScript()).toBe(
      "add table inet portknock\ndelete table inet portknock\n",
    );
  });
});

describe("parseNftTable", () => {
  it("reads the sets, the chain's rules and the grants of a real listing (nft 1.0.6)", () => {
    const parsed = parseNftTable(fixture("nft-list-table.json"));
    expect(parsed).toEqual({
      ok: true,
      state: {
        sets: expect.arrayContaining(["grants4", "grants6"]) as string[],
        hasChain: true,
        rules: 6,
        grants: expect.arrayContaining([
          {
            address: "192.0.2.7",
            family: 4,
            protocol: "tcp",
            port: 22,
            expiresInMs: 599_000,
          },
          {
            address: "2001:db8::7",
            family: 6,
            protocol: "udp",
            port: 53,
            expiresInMs: 599_000,
          },
        ]) as unknown[],
      },
    });
  });

  it("says why a listing is not ours", () => {
    expect(parseNftTable("Error: x")).toEqual({
      ok: false,
      reason: "not JSON",
    });
    expect(parseNftTable("{}")).toMatchObject({ ok: false });
    const odd = JSON.stringify({
      nftables: [{ set: { name: "grants4", elem: ["10.0.0.1"] } }],
    });
    expect(parseNftTable(odd)).toMatchObject({ ok: false });
  });
});
