import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  matchChoice,
  parseBoolean,
  parseDuration,
  parseInteger,
  parseListenAddress,
} from "./schema-values.ts";

describe("parseBoolean", () => {
  it.each(["yes", "on", "true", "1", "YES", "On", "TRUE"])("%s is true", (w) =>
    expect(parseBoolean(w)).toBe(true),
  );
  it.each(["no", "off", "false", "0", "NO", "Off"])("%s is false", (w) =>
    expect(parseBoolean(w)).toBe(false),
  );
  it.each(["", "y", "2", "maybe", " yes"])("%j is not a boolean", (w) =>
    expect(parseBoolean(w)).toBeUndefined(),
  );
});

describe("parseInteger", () => {
  it("reads decimal integers", () => {
    expect(parseInteger("1500")).toBe(1500);
    expect(parseInteger("+7")).toBe(7);
    expect(parseInteger("007")).toBe(7);
  });
  it.each(["", "-1", "1.5", "1e3", "0x10", "12a", "9".repeat(16)])(
    "rejects %j",
    (t) => expect(parseInteger(t)).toBeUndefined(),
  );
});

describe("parseDuration", () => {
  it("reads a bare number in the default unit, fractions allowed", () => {
    expect(parseDuration("5", "m")).toBe(300_000);
    expect(parseDuration("0.5", "m")).toBe(30_000);
    expect(parseDuration("0.5", "s")).toBe(500);
    expect(parseDuration(".25", "s")).toBe(250);
  });
  it("reads 30s, 5m and 2h", () => {
    expect(parseDuration("30s", "m")).toBe(30_000);
    expect(parseDuration("5m", "s")).toBe(300_000);
    expect(parseDuration("2h", "m")).toBe(7_200_000);
    expect(parseDuration("1.5H", "m")).toBe(5_400_000);
  });
  it.each(["soon", "", "5 minutes", "-1", "5d", "m"])("rejects %j", (t) =>
    expect(parseDuration(t, "m")).toBeUndefined(),
  );
  it("returns a finite non-negative number or undefined for any text", () => {
    fc.assert(
      fc.property(fc.string(), (t) => {
        const ms = parseDuration(t, "m");
        if (ms !== undefined) expect(Number.isFinite(ms) && ms >= 0).toBe(true);
      }),
    );
  });
});

describe("matchChoice", () => {
  it("matches case-insensitively and returns the canonical spelling", () => {
    expect(matchChoice("blowFISH", ["Blowfish", "DES", "IDEA"])).toBe(
      "Blowfish",
    );
    expect(matchChoice("AES", ["Blowfish", "DES", "IDEA"])).toBeUndefined();
  });
});

describe("parseListenAddress (metrics)", () => {
  it.each([
    ["9464", "127.0.0.1", 9464, "127.0.0.1:9464"],
    ["127.0.0.1:9464", "127.0.0.1", 9464, "127.0.0.1:9464"],
    ["0.0.0.0:1", "0.0.0.0", 1, "0.0.0.0:1"],
    ["192.0.2.7:65535", "192.0.2.7", 65535, "192.0.2.7:65535"],
    ["localhost:9100", "127.0.0.1", 9100, "127.0.0.1:9100"],
    ["LocalHost:9100", "127.0.0.1", 9100, "127.0.0.1:9100"],
    ["[::1]:9464", "::1", 9464, "[::1]:9464"],
    ["[0:0:0:0:0:0:0:1]:9464", "::1", 9464, "[::1]:9464"],
    ["[::]:80", "::", 80, "[::]:80"],
    ["[2001:DB8::1]:9464", "2001:db8::1", 9464, "[2001:db8::1]:9464"],
  ])("reads %j", (text, host, port, shown) => {
    expect(parseListenAddress(text)).toEqual({
      ok: true,
      address: { host, port, text: shown },
    });
  });

  it.each([
    ["", /port/],
    ["0", /port/],
    ["65536", /port/],
    ["09464", /port/],
    ["+9464", /port/],
    ["9464.5", /port/],
    ["127.0.0.1:", /port/],
    ["127.0.0.1:0", /port/],
    ["127.0.0.1:99999", /port/],
    [":9464", /IP address/],
    ["127.0.0.01:9464", /IP address/],
    ["256.0.0.1:9464", /IP address/],
    ["example.org:9464", /no name lookups/],
    ["::1:9464", /brackets/],
    ["::1", /brackets/],
    ["[127.0.0.1]:9464", /IPv6/],
    ["[fe80::1%eth0]:9464", /without a zone/],
    ["[::1]9464", /expected/],
    ["[::1]:", /port/],
    ["1.2.3.4:5:6", /brackets|expected/],
    ["http://127.0.0.1:9464", /expected/],
  ])("refuses %j with a reason", (text, reason) => {
    const r = parseListenAddress(text);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(reason);
  });

  it("never throws, and whatever it accepts it gives back in canonical form", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), (text) => {
        const r = parseListenAddress(text);
        if (r.ok) {
          expect(r.address.port).toBeGreaterThanOrEqual(1);
          expect(r.address.port).toBeLessThanOrEqual(65535);
          expect(parseListenAddress(r.address.text)).toEqual(r);
        }
      }),
    );
  });
});
