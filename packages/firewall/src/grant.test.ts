import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { FirewallError } from "./errors.ts";
import type { Grant } from "./grant.ts";
import { MAX_LIFETIME_MS, checkGrant, checkKey } from "./grant.ts";

const codeOf = (f: () => unknown): string | undefined => {
  try {
    f();
    return undefined;
  } catch (error) {
    return error instanceof FirewallError ? error.code : "not a FirewallError";
  }
};

const grant = (over: Partial<Grant>): Grant => ({
  address: "192.0.2.7",
  protocol: "tcp",
  port: 22,
  ...over,
});

describe("checkGrant", () => {
  it.each([
    ["192.0.2.7", "192.0.2.7", 4],
    ["2001:DB8:0:0::7", "2001:db8::7", 6],
    ["::ffff:192.0.2.7", "192.0.2.7", 4],
    ["::ffff:c000:207", "192.0.2.7", 4],
    ["::1", "::1", 6],
  ] as const)("%s is %s (IPv%d)", (address, normal, family) => {
    expect(checkGrant(grant({ address }), 30_000)).toEqual({
      address: normal,
      family,
      protocol: "tcp",
      port: 22,
      lifetimeMs: 30_000,
    });
  });

  it.each([
    "",
    "010.0.0.1",
    "192.0.2.7/32",
    "fe80::1%eth0",
    "[::1]",
    "192.0.2.7 ",
    "example.org",
    "1.2.3.4; nft flush ruleset",
  ])("refuses the address %j", (address) => {
    expect(codeOf(() => checkGrant(grant({ address }), 30_000))).toBe(
      "FIREWALL_BAD_ADDRESS",
    );
  });

  it("refuses bad protocols, ports and lifetimes, and keeps the default lifetime's limits", () => {
    const bad: Array<[Partial<Grant> | Record<string, unknown>, string]> = [
      [{ protocol: "icmp" }, "FIREWALL_BAD_PROTOCOL"],
      [{ protocol: "TCP" }, "FIREWALL_BAD_PROTOCOL"],
      [{ port: -1 }, "FIREWALL_BAD_PORT"],
      [{ port: 65536 }, "FIREWALL_BAD_PORT"],
      [{ port: 22.5 }, "FIREWALL_BAD_PORT"],
      [{ port: "22" }, "FIREWALL_BAD_PORT"],
      [{ lifetimeMs: 0 }, "FIREWALL_BAD_LIFETIME"],
      [{ lifetimeMs: -5 }, "FIREWALL_BAD_LIFETIME"],
      [{ lifetimeMs: 1.5 }, "FIREWALL_BAD_LIFETIME"],
      [{ lifetimeMs: MAX_LIFETIME_MS + 1 }, "FIREWALL_BAD_LIFETIME"],
      [{ lifetimeMs: Number.NaN }, "FIREWALL_BAD_LIFETIME"],
    ];
    for (const [over, code] of bad) {
      expect(
        codeOf(() => checkGrant(grant(over as Partial<Grant>), 30_000)),
        JSON.stringify(over),
      ).toBe(code);
    }
    expect(checkGrant(grant({ port: 0 }), 1).port).toBe(0);
    expect(
      checkGrant(grant({ lifetimeMs: MAX_LIFETIME_MS }), 1).lifetimeMs,
    ).toBe(MAX_LIFETIME_MS);
    expect(codeOf(() => checkGrant(grant({}), 0))).toBe(
      "FIREWALL_BAD_LIFETIME",
    );
  });

  it("refuses a grant that is not an object", () => {
    for (const g of [null, undefined, "192.0.2.7", 22]) {
      expect(codeOf(() => checkGrant(g as unknown as Grant, 1))).toBe(
        "FIREWALL_BAD_ADDRESS",
      );
    }
  });

  it("never throws anything but a FirewallError, and what it accepts is safe to put in a script", () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string(), fc.ipV4(), fc.ipV6(), fc.anything()),
        fc.oneof(fc.constantFrom("tcp", "udp"), fc.anything()),
        fc.oneof(fc.integer({ min: -1, max: 70_000 }), fc.anything()),
        (address, protocol, port) => {
          try {
            const k = checkKey({ address, protocol, port } as Grant);
            expect(k.address).toMatch(/^[0-9a-f.:]+$/);
            expect(Number.isInteger(k.port)).toBe(true);
          } catch (error) {
            expect(error).toBeInstanceOf(FirewallError);
          }
        },
      ),
      // Found by a longer run: an address `{ toString: false }` made the message throw a TypeError.
      { examples: [[{ toString: false }, "tcp", 0]] },
    );
  });
});
