import { describe, expect, it } from "vitest";
import type { BaseRuleset } from "./base-ruleset.ts";
import { checkBaseRuleset } from "./base-ruleset.ts";
import { FirewallError } from "./errors.ts";

const BASE: BaseRuleset = {
  protect: [{ protocol: "tcp", port: 22 }],
  knockSpan: {
    protocol: "tcp",
    ranges: [
      { from: 900, to: 900 },
      { from: 600, to: 699 },
    ],
  },
  nflog: { group: 5 },
  defaultLifetimeMs: 30_000,
};

const codeOf = (base: unknown): string | undefined => {
  try {
    checkBaseRuleset(base as BaseRuleset);
    return undefined;
  } catch (error) {
    return error instanceof FirewallError ? error.code : "not a FirewallError";
  }
};

describe("checkBaseRuleset", () => {
  it("sorts the span's ranges and fills in the NFLOG prefix", () => {
    expect(checkBaseRuleset(BASE)).toEqual({
      protect: [{ protocol: "tcp", port: 22 }],
      knockSpan: {
        protocol: "tcp",
        ranges: [
          { from: 600, to: 699 },
          { from: 900, to: 900 },
        ],
      },
      nflog: { group: 5, prefix: "portknock" },
      defaultLifetimeMs: 30_000,
    });
    expect(checkBaseRuleset({ protect: [], defaultLifetimeMs: 1 })).toEqual({
      protect: [],
      defaultLifetimeMs: 1,
    });
  });

  it.each([
    [
      "a protected port twice",
      { protect: [...BASE.protect, { protocol: "tcp", port: 22 }] },
      "FIREWALL_BAD_RULESET",
    ],
    [
      "a protected port inside the span",
      { protect: [{ protocol: "tcp", port: 650 }] },
      "FIREWALL_BAD_RULESET",
    ],
    [
      "overlapping span ranges",
      {
        knockSpan: {
          protocol: "tcp",
          ranges: [
            { from: 600, to: 699 },
            { from: 699, to: 700 },
          ],
        },
      },
      "FIREWALL_BAD_RULESET",
    ],
    [
      "a backwards range",
      { knockSpan: { protocol: "tcp", ranges: [{ from: 700, to: 600 }] } },
      "FIREWALL_BAD_RULESET",
    ],
    [
      "an empty span",
      { knockSpan: { protocol: "tcp", ranges: [] } },
      "FIREWALL_BAD_RULESET",
    ],
    ["nflog without a span", { knockSpan: undefined }, "FIREWALL_BAD_RULESET"],
    [
      "an NFLOG group too big",
      { nflog: { group: 65536 } },
      "FIREWALL_BAD_RULESET",
    ],
    [
      "an NFLOG prefix with a quote",
      { nflog: { group: 5, prefix: 'KNOCK" drop' } },
      "FIREWALL_BAD_RULESET",
    ],
    [
      "an NFLOG prefix with a space",
      { nflog: { group: 5, prefix: "KNOCK " } },
      "FIREWALL_BAD_RULESET",
    ],
    [
      "port 0 protected",
      { protect: [{ protocol: "tcp", port: 0 }] },
      "FIREWALL_BAD_PORT",
    ],
    [
      "a range from 0",
      { knockSpan: { protocol: "udp", ranges: [{ from: 0, to: 5 }] } },
      "FIREWALL_BAD_PORT",
    ],
    [
      "an sctp port",
      { protect: [{ protocol: "sctp", port: 22 }] },
      "FIREWALL_BAD_PROTOCOL",
    ],
    [
      "no default lifetime",
      { defaultLifetimeMs: undefined },
      "FIREWALL_BAD_LIFETIME",
    ],
    ["protect not a list", { protect: "tcp/22" }, "FIREWALL_BAD_RULESET"],
  ])("refuses %s", (_what, over, code) => {
    expect(codeOf({ ...BASE, ...over })).toBe(code);
  });

  it("allows the same port number in the span for the other protocol", () => {
    expect(
      codeOf({ ...BASE, protect: [{ protocol: "udp", port: 650 }] }),
    ).toBeUndefined();
  });
});
