import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  compileKnockConfigOrThrow,
  decodeKnock,
  encodeKnock,
  type KnockConfig,
  type KnockSettingsInput,
} from "@portknock/codec";
import { spanArb } from "./arbitraries.ts";

const layoutArb = fc
  .record({
    ip: fc.constantFrom("", "CLIENT", "IP"),
    port: fc.boolean(),
    time: fc.boolean(),
    mask: fc.boolean(),
    flags: fc.integer({ min: 0, max: 5 }),
    checksum: fc.boolean(),
  })
  .map((l) => {
    const fields = [
      ...(l.ip ? [l.ip] : []),
      ...(l.port ? ["PORT"] : []),
      ...Array.from({ length: l.flags }, (_, i) => `FLAG${i}`),
      ...(l.time ? ["TIME"] : []),
      ...(l.mask ? ["MASK"] : []),
    ];
    if (fields.length === 0) fields.push("FLAG0");
    if (l.checksum) fields.push("CHECKSUM");
    return fields.join(",");
  });

const settingsArb: fc.Arbitrary<KnockSettingsInput> = fc.record({
  knock: layoutArb,
  portspan: spanArb,
  encrypt: fc.boolean(),
  key: fc.string({ minLength: 1, maxLength: 20 }),
  cipher: fc.constantFrom("Blowfish", "DES", "IDEA"),
  iv: fc.boolean(),
  padding: fc.constantFrom("right" as const, "left" as const),
});

/** Random values for every field of a compiled config. */
function valuesArb(
  config: KnockConfig,
): fc.Arbitrary<Record<string, string | number>> {
  const entries = config.layout.fields
    .filter((f) => f.kind !== "checksum")
    .map((f): [string, fc.Arbitrary<string | number>] => {
      switch (f.kind) {
        case "ip":
          return [
            f.name,
            fc.ipV4().map((ip) => ip.split(".").map(Number).join(".")),
          ];
        case "port":
          return [f.name, fc.integer({ min: 0, max: 65535 })];
        case "time":
          return [f.name, fc.integer({ min: 0, max: 2 ** 32 - 1 })];
        case "mask":
          return [f.name, fc.integer({ min: 0, max: 32 })];
        default:
          return [f.name, fc.integer({ min: 0, max: 255 })];
      }
    });
  return fc.record(Object.fromEntries(entries));
}

const knockArb = settingsArb.chain((settings) => {
  const config = compileKnockConfigOrThrow(settings);
  return fc.record({
    config: fc.constant(config),
    values: valuesArb(config),
    iv: fc.uint8Array({ minLength: 8, maxLength: 8 }),
  });
});

describe("codec properties", () => {
  it("decode(encode(values)) = values, over random configs, spans and values", () => {
    fc.assert(
      fc.property(knockArb, ({ config, values, iv }) => {
        const { ports, wire } = encodeKnock(config, values, { iv });
        expect(ports).toHaveLength(config.portCount);
        expect(wire).toHaveLength(config.wireLength);
        for (const p of ports)
          expect(config.span.indexOf[p]).toBeGreaterThanOrEqual(0);
        const decoded = decodeKnock(config, ports);
        expect(decoded).toMatchObject({ ok: true, knock: { values } });
      }),
      { numRuns: 300 },
    );
  });

  it("every single-port change is rejected or decodes to different fields", () => {
    fc.assert(
      fc.property(
        knockArb,
        fc.nat(),
        fc.nat(),
        fc.boolean(),
        ({ config, values, iv }, which, replacement, outside) => {
          const { ports } = encodeKnock(config, values, { iv });
          const i = which % ports.length;
          const span = config.span.ports;
          let port = outside
            ? replacement % 65536
            : span[replacement % span.length]!;
          if (port === ports[i])
            port = span[(config.span.indexOf[port]! + 1) % span.length]!;
          if (port === ports[i]) return; // a 1-port span cannot change
          const changed = ports.slice();
          changed[i] = port;
          const decoded = decodeKnock(config, changed);
          if (decoded.ok) expect(decoded.knock.values).not.toEqual(values);
          else expect(decoded.code).toMatch(/^KNOCK_/);
        },
      ),
      { numRuns: 500 },
    );
  });

  it("rejects garbage with a code instead of throwing", () => {
    fc.assert(
      fc.property(
        settingsArb,
        fc.array(fc.oneof(fc.integer({ min: -5, max: 70000 }), fc.double()), {
          maxLength: 64,
        }),
        (settings, ports) => {
          const config = compileKnockConfigOrThrow(settings);
          const result = decodeKnock(config, ports);
          if (!result.ok) expect(result.code).toMatch(/^KNOCK_/);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("random windows of in-span ports of the right length are rejected with a code", () => {
    fc.assert(
      fc.property(
        settingsArb,
        fc.array(fc.nat(), { minLength: 64, maxLength: 64 }),
        (s, r) => {
          const config = compileKnockConfigOrThrow(s);
          const ports = r
            .slice(0, config.portCount)
            .map((x) => config.span.ports[x % config.span.ports.length]!);
          while (ports.length < config.portCount)
            ports.push(config.span.ports[0]!);
          const result = decodeKnock(config, ports);
          if (!result.ok) expect(result.code).toMatch(/^KNOCK_/);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("malformed knocks yield the matching reason", () => {
  const config = compileKnockConfigOrThrow({
    knock: "CLIENT,PORT,FLAG0,CHECKSUM",
    portspan: "1000-1255",
    encrypt: true,
    key: "password",
    cipher: "Blowfish",
    iv: true,
    padding: "right",
  });
  const values = { CLIENT: "10.3.2.1", PORT: 3306, FLAG0: 5 };
  const { ports, wire } = encodeKnock(config, values, {
    iv: new Uint8Array(8),
  });

  it("a port outside the span", () => {
    const p = ports.slice();
    p[3] = 999;
    expect(decodeKnock(config, p)).toEqual({
      ok: false,
      code: "KNOCK_PORT_OUTSIDE_SPAN",
    });
  });

  it("too few and too many ports", () => {
    expect(decodeKnock(config, ports.slice(1))).toEqual({
      ok: false,
      code: "KNOCK_WRONG_LENGTH",
    });
    expect(decodeKnock(config, [...ports, 1000])).toEqual({
      ok: false,
      code: "KNOCK_WRONG_LENGTH",
    });
  });

  it("a damaged RandomIV header", () => {
    const p = ports.slice();
    p[0] = 1000 + (wire[0]! ^ 1);
    expect(decodeKnock(config, p)).toEqual({
      ok: false,
      code: "KNOCK_BAD_HEADER",
    });
  });

  it("a wrong key fails the padding check (or, 1 time in ~256, the checksum)", () => {
    const other = compileKnockConfigOrThrow({
      knock: "CLIENT,PORT,FLAG0,CHECKSUM",
      portspan: "1000-1255",
      encrypt: true,
      key: "wrong",
      cipher: "Blowfish",
      iv: true,
      padding: "right",
    });
    const r = decodeKnock(other, ports);
    expect(r.ok).toBe(false);
    expect(["KNOCK_BAD_PADDING", "KNOCK_BAD_CHECKSUM"]).toContain(
      !r.ok && r.code,
    );
  });

  it("a wrong checksum on an unencrypted knock", () => {
    const plain = compileKnockConfigOrThrow({
      knock: "CLIENT,PORT,FLAG0,CHECKSUM",
      portspan: "1000-1255",
      encrypt: false,
      cipher: "Blowfish",
      iv: false,
      padding: "right",
    });
    const p = encodeKnock(plain, values).ports;
    p[7] = p[7]! + 1;
    expect(decodeKnock(plain, p)).toEqual({
      ok: false,
      code: "KNOCK_BAD_CHECKSUM",
    });
  });

  it("non-zero padding bits in the last port", () => {
    const wide = compileKnockConfigOrThrow({
      knock: "CLIENT,PORT,FLAG0,CHECKSUM",
      portspan: "1024-33791",
      encrypt: false,
      cipher: "Blowfish",
      iv: false,
      padding: "right",
    });
    const p = encodeKnock(wide, values).ports;
    // V3: the last port carries 4 data bits and 11 zero bits of padding.
    p[4] = p[4]! + 1;
    expect(decodeKnock(wide, p)).toEqual({
      ok: false,
      code: "KNOCK_BAD_BIT_PADDING",
    });
  });

  it("a MASK over 32", () => {
    const masked = compileKnockConfigOrThrow({
      knock: "MASK",
      portspan: "1000-1255",
      encrypt: false,
      cipher: "Blowfish",
      iv: false,
      padding: "right",
    });
    expect(decodeKnock(masked, [1000 + 33])).toEqual({
      ok: false,
      code: "KNOCK_BAD_FIELD",
    });
  });

  it("a port that is not an integer is outside the span (it used to read as the span's first port)", () => {
    const flag = compileKnockConfigOrThrow({
      knock: "FLAG0",
      portspan: "1000-1255",
      encrypt: false,
      cipher: "Blowfish",
      iv: false,
      padding: "right",
    });
    expect(decodeKnock(flag, [1000])).toMatchObject({ ok: true });
    for (const port of [1000.5, 1254.999, -0.5, NaN, Infinity]) {
      expect(decodeKnock(flag, [port])).toEqual({
        ok: false,
        code: "KNOCK_PORT_OUTSIDE_SPAN",
      });
    }
  });
});
