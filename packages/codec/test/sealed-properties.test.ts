import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  compileKnockConfigOrThrow,
  decodeKnock,
  encodeKnock,
  knockPortCounts,
  type KnockSettingsInput,
  type SealedKnockConfig,
} from "@portknock/codec";
import { formatIpv6, parseIpv6 } from "@portknock/core";
import { spanArb } from "./arbitraries.ts";

const b64key = fc
  .uint8Array({ minLength: 32, maxLength: 32 })
  .map((k) => "base64:" + Buffer.from(k).toString("base64"));

const layoutArb = fc
  .record({
    ip: fc.constantFrom("", "CLIENT", "IP", "client"),
    port: fc.boolean(),
    mask: fc.boolean(),
    flags: fc.integer({ min: 0, max: 5 }),
  })
  .map((l) => {
    const fields = [
      ...(l.ip ? [l.ip] : []),
      ...(l.port ? ["PORT"] : []),
      ...Array.from({ length: l.flags }, (_, i) => `FLAG${i}`),
      ...(l.mask ? ["MASK"] : []),
    ];
    return (fields.length > 0 ? fields : ["FLAG0"]).join(",");
  });

/** Sealed settings with random keys: an anonymous key, users, or both (never none). */
const settingsArb: fc.Arbitrary<KnockSettingsInput> = fc
  .record({
    knock: layoutArb,
    portspan: spanArb,
    padding: fc.constantFrom("right" as const, "left" as const),
    key: fc.option(b64key, { nil: undefined }),
    users: fc.uniqueArray(
      fc.record({
        name: fc.string({ minLength: 1, maxLength: 8 }),
        key: b64key,
      }),
      { maxLength: 4, selector: (u) => u.name },
    ),
  })
  .filter((s) => s.key != null || s.users.length > 0)
  .filter(
    // Distinct random keys (a shared key is a compile error).
    (s) =>
      new Set([s.key, ...s.users.map((u) => u.key)]).size ===
      s.users.length + 1,
  )
  .map((s) => ({
    ...s,
    format: "sealed",
    encrypt: true,
    cipher: "Blowfish",
    iv: false,
  }));

const clientArb = fc.oneof(fc.ipV4(), fc.ipV6());

/** The text a decoder gives back for a CLIENT value. */
const canonical = (ip: string): string =>
  ip.includes(":") ? formatIpv6(parseIpv6(ip)!) : ip;

const knockArb = settingsArb.chain((settings) => {
  const config = compileKnockConfigOrThrow(settings) as SealedKnockConfig;
  const entries = config.layout.fields.map(
    (f): [string, fc.Arbitrary<string | number>] => {
      switch (f.kind) {
        case "ip":
          return [f.name, clientArb];
        case "port":
          return [f.name, fc.integer({ min: 0, max: 65535 })];
        case "mask":
          return [f.name, fc.integer({ min: 0, max: 32 })];
        default:
          return [f.name, fc.integer({ min: 0, max: 255 })];
      }
    },
  );
  return fc.record({
    config: fc.constant(config),
    values: fc.record(Object.fromEntries(entries)),
    user: fc.constantFrom(...config.users),
    timeSeconds: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
    random: fc.uint8Array({ minLength: 6, maxLength: 6 }),
  });
});

describe("sealed codec properties", () => {
  it("decode(encode(values)) = values, user, time and random, over random spans, keys, users and families", () => {
    fc.assert(
      fc.property(knockArb, ({ config, values, user, timeSeconds, random }) => {
        const { ports, wire, plaintext } = encodeKnock(config, values, {
          user,
          timeSeconds,
          random,
        });
        expect(knockPortCounts(config)).toContain(ports.length);
        expect(wire.length).toBe(plaintext.length + 18);
        for (const p of ports)
          expect(config.span.indexOf[p]).toBeGreaterThanOrEqual(0);
        const decoded = decodeKnock(config, ports);
        if (!decoded.ok) throw new Error(decoded.code);
        const expected = Object.fromEntries(
          Object.entries(values).map(([k, v]) => [
            k,
            typeof v === "string" ? canonical(v) : v,
          ]),
        );
        expect(decoded.knock.values).toEqual(expected);
        expect(decoded.knock.user).toBe(user);
        expect(decoded.knock.timeSeconds).toBe(timeSeconds);
        expect(decoded.knock.nonce).toEqual(random);
        expect(decoded.knock.wire).toEqual(wire);
        expect(decoded.knock.plaintext).toEqual(plaintext);
      }),
      { numRuns: 300 },
    );
  });

  it("decoding rejects garbage with a KNOCK_ code instead of throwing", () => {
    fc.assert(
      fc.property(
        settingsArb,
        fc.array(
          fc.oneof(
            fc.integer({ min: -5, max: 70000 }),
            fc.double(),
            fc.constant(NaN),
          ),
          { maxLength: 64 },
        ),
        (settings, ports) => {
          const config = compileKnockConfigOrThrow(settings);
          const result = decodeKnock(config, ports);
          expect(result.ok).toBe(false);
          if (!result.ok) expect(result.code).toMatch(/^KNOCK_/);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("random in-span windows of either valid length are rejected", () => {
    fc.assert(
      fc.property(
        settingsArb,
        fc.array(fc.nat(), { minLength: 64, maxLength: 64 }),
        fc.boolean(),
        (settings, r, longer) => {
          const config = compileKnockConfigOrThrow(settings);
          const counts = knockPortCounts(config);
          const n = longer ? counts.at(-1)! : counts[0]!;
          const span = config.span.ports;
          const ports = Array.from(
            { length: n },
            (_, i) => span[r[i % 64]! % span.length]!,
          );
          const result = decodeKnock(config, ports);
          expect(result.ok).toBe(false);
          if (!result.ok) expect(result.code).toMatch(/^KNOCK_/);
        },
      ),
      { numRuns: 200 },
    );
  });
});
