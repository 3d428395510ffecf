import { describe, expect, it } from "vitest";
import {
  CodecError,
  compileKnockConfig,
  compileKnockConfigOrThrow,
  encodeKnock,
  knockPortCounts,
  parseKnockFields,
} from "@portknock/codec";
// Internals, tested directly (not part of the package's API).
import { createBlowfish } from "../src/blowfish.ts";
import { cbcEncrypt } from "../src/cbc.ts";
import { deriveCompatKey } from "../src/key-derivation.ts";
import { parsePortSpan } from "../src/port-span.ts";

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
const unhex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, "hex"));

describe("key derivation (knock-format.md §2)", () => {
  it("chains MD5 to 56 bytes for Blowfish", () => {
    expect(hex(deriveCompatKey("password", 56))).toBe(
      "5f4dcc3b5aa765d61d8327deb882cf999bf4b3611c53176f5c649aa4fc1ff6b218239767f9c6e33e4f5e2ce8d35cf10ca80ee00ef96762ac",
    );
  });
  it("truncates to 8 bytes for DES", () => {
    expect(hex(deriveCompatKey("s3cr3t", 8))).toBe("a4d80eac9ab26a4a");
  });
});

describe("cipher layer (knock-format.md §2 checks, Blowfish, password)", () => {
  const bf = createBlowfish(deriveCompatKey("password", 56));
  it("IV 36574210 with the RandomIV header", () => {
    const iv = new TextEncoder().encode("36574210");
    const ct = cbcEncrypt(bf, iv, unhex("0a0302010cea0500"));
    expect("52616e646f6d4956" + hex(iv) + hex(ct)).toBe(
      "52616e646f6d4956" +
        "3336353734323130" +
        "60d707c280b79c88fcd9cf98213185f9",
    );
  });
  it("zero IV, no header: a full block of plaintext grows by a block", () => {
    expect(
      hex(cbcEncrypt(bf, new Uint8Array(8), unhex("0a0302010cea0500"))),
    ).toBe("57bf3d2c9e04a2427ce0c6aa5c1ec2ca");
  });
  it("empty plaintext is one block of padding", () => {
    expect(hex(cbcEncrypt(bf, new Uint8Array(8), new Uint8Array(0)))).toBe(
      "912f2f91f4ae7dd4",
    );
  });
});

describe("published knock lengths (knock-format.md §4)", () => {
  // span size → [no IV: 1–7, 8–15, 16–23 bytes], [with IV: same]
  const table: Array<[number, number[], number[]]> = [
    [256, [8, 16, 24], [24, 32, 40]],
    [1024, [7, 13, 20], [20, 26, 32]],
    [4096, [6, 11, 16], [16, 22, 27]],
    [16384, [5, 10, 14], [14, 19, 23]],
    [32768, [5, 9, 13], [13, 18, 22]],
  ];
  // A layout of exactly `len` plaintext bytes: FLAG0 … FLAG(len-1).
  const flags = (len: number): string =>
    Array.from({ length: len }, (_, i) => `FLAG${i}`).join(",");
  const cases = table.flatMap(([size, noIv, withIv]) =>
    [0, 1, 2].flatMap((band) =>
      [Math.max(1, 8 * band), 8 * band + 7].map((len) => ({
        size,
        len,
        noIv: noIv[band]!,
        withIv: withIv[band]!,
      })),
    ),
  );
  it.each(cases)(
    "span $size, $len plaintext bytes: $noIv ports, $withIv with IV",
    ({ size, len, noIv, withIv }) => {
      for (const [iv, expected] of [
        [false, noIv],
        [true, withIv],
      ] as const) {
        const config = compileKnockConfigOrThrow({
          knock: flags(len),
          portspan: `1024-${1023 + size}`,
          encrypt: true,
          key: "k",
          cipher: "Blowfish",
          iv,
          padding: "right",
        });
        expect(knockPortCounts(config)).toEqual([expected]);
        const values = Object.fromEntries(
          Array.from({ length: len }, (_, i) => [`FLAG${i}`, i]),
        );
        expect(encodeKnock(config, values).ports).toHaveLength(expected);
      }
    },
  );
});

describe("parsePortSpan (knock-format.md §3)", () => {
  it("accepts ranges and single ports, ascending, adjacent, with whitespace", () => {
    const r = parsePortSpan(" 600-699, 800-898 ,900,968-1023 ");
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.span.ports.length).toBe(256);
    expect(r.span.bitsPerPort).toBe(8);
    expect(r.span.ports[100]).toBe(800);
    expect(r.span.indexOf[900]).toBe(199);
    expect(r.span.indexOf[899]).toBe(-1);
    expect(r.span.ranges).toEqual([
      [600, 699],
      [800, 898],
      [900, 900],
      [968, 1023],
    ]);
    expect(parsePortSpan("1000-1127,1128-1255").ok).toBe(true);
  });

  it("parses the manual's 32768-port example", () => {
    const r = parsePortSpan("1024-5000,6000-25000,26000-35789");
    expect(r.ok && r.span.bitsPerPort).toBe(15);
  });

  it.each([
    ["", "SPAN_SYNTAX"],
    ["1000-", "SPAN_SYNTAX"],
    ["a-b", "SPAN_SYNTAX"],
    ["1000-1255;", "SPAN_SYNTAX"],
    ["0-255", "SPAN_PORT_RANGE"],
    ["65500-65536", "SPAN_PORT_RANGE"],
    ["900-800", "SPAN_DESCENDING"],
    ["1000-1127,1100-1227", "SPAN_OVERLAP"],
    ["2000-2127,1000-1127", "SPAN_OVERLAP"],
    ["1000-1254", "SPAN_SIZE"],
    ["1000", "SPAN_SIZE"],
    ["1000-66535", "SPAN_PORT_RANGE"],
    ["1-65535", "SPAN_SIZE"],
  ])("rejects %j with %s", (text, code) => {
    const r = parsePortSpan(text);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.issues.map((i) => i.code)).toContain(code);
    expect(r.issues.every((i) => i.key === "portspan")).toBe(true);
  });

  it("reports every bad piece, not only the first", () => {
    const r = parsePortSpan("900-800,x,70000");
    expect(r.ok ? [] : r.issues.map((i) => i.code)).toEqual([
      "SPAN_DESCENDING",
      "SPAN_SYNTAX",
      "SPAN_PORT_RANGE",
    ]);
  });
});

describe("parseKnockFields (knock-format.md §1)", () => {
  it("lays out fields with their widths, case-insensitively", () => {
    const r = parseKnockFields("ip, Port,TIME,flag0,FLAG1,MASK,CHECKSUM");
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.layout.text).toBe("IP,PORT,TIME,FLAG0,FLAG1,MASK,CHECKSUM");
    expect(r.layout.fields.map((f) => [f.name, f.offset, f.width])).toEqual([
      ["IP", 0, 4],
      ["PORT", 4, 2],
      ["TIME", 6, 4],
      ["FLAG0", 10, 1],
      ["FLAG1", 11, 1],
      ["MASK", 12, 1],
      ["CHECKSUM", 13, 1],
    ]);
    expect(r.layout.length).toBe(14);
  });

  it.each([
    ["", "FIELDS_EMPTY"],
    ["CLIENT,HOST", "FIELDS_UNKNOWN"],
    ["FLAG100", "FIELDS_UNKNOWN"],
    ["FLAG01", "FIELDS_UNKNOWN"],
    ["CLIENT,IP", "FIELDS_DUPLICATE"],
    ["PORT,PORT", "FIELDS_DUPLICATE"],
    ["CHECKSUM,PORT", "FIELDS_CHECKSUM_NOT_LAST"],
  ])("rejects %j with %s", (text, code) => {
    const r = parseKnockFields(text);
    expect(r.ok ? [] : r.issues.map((i) => i.code)).toContain(code);
  });
});

describe("compileKnockConfig", () => {
  const base = {
    knock: "CLIENT,PORT,CHECKSUM",
    portspan: "1000-1255",
    encrypt: true,
    key: "k",
    cipher: "Blowfish",
    iv: false,
    padding: "right" as const,
  };

  it("reports every error at once, each naming its key", () => {
    const { config, issues } = compileKnockConfig({
      ...base,
      knock: "CLIENT,BOGUS",
      portspan: "900-800",
    });
    expect(config).toBeUndefined();
    expect(issues.map((i) => [i.key, i.code])).toEqual([
      ["knock", "FIELDS_UNKNOWN"],
      ["portspan", "SPAN_DESCENDING"],
    ]);
  });

  it.each([
    [{ cipher: "Rot13" }, "cipher", "CIPHER_UNKNOWN"],
    [{ key: undefined }, "key", "KEY_MISSING"],
    [{ key: "" }, "key", "KEY_MISSING"],
    [{ ivvalue: "short" }, "ivvalue", "IV_VALUE_INVALID"],
    [{ ivvalue: "hex:00112233" }, "ivvalue", "IV_VALUE_INVALID"],
    [{ format: "xml" }, "format", "FORMAT_UNKNOWN"],
  ])("%j is an error on %s (%s)", (patch, key, code) => {
    const { config, issues } = compileKnockConfig({ ...base, ...patch });
    expect(config).toBeUndefined();
    expect(issues).toContainEqual(
      expect.objectContaining({ key, code, severity: "error" }),
    );
  });

  it("accepts the cipher name in any case and hex ivvalues", () => {
    const { config, issues } = compileKnockConfig({
      ...base,
      cipher: "idea",
      ivvalue: "hex:3336353734323130",
    });
    expect(issues).toEqual([]);
    expect(config?.cipherName).toBe("IDEA");
    expect(hex(config!.fixedIv!)).toBe("3336353734323130");
  });

  it("warns about a fixed header IV and an IV without encryption", () => {
    expect(
      compileKnockConfig({ ...base, iv: true, ivvalue: "36574210" }).issues,
    ).toContainEqual(
      expect.objectContaining({ code: "IV_VALUE_FIXED", severity: "warning" }),
    );
    const plain = compileKnockConfig({ ...base, encrypt: false, iv: true });
    expect(plain.config).toBeDefined();
    expect(plain.issues).toContainEqual(
      expect.objectContaining({
        code: "IV_WITHOUT_ENCRYPT",
        severity: "warning",
      }),
    );
  });
});

describe("encodeKnock value checks (knock-format.md §1)", () => {
  const config = compileKnockConfigOrThrow({
    knock: "CLIENT,PORT,FLAG0,TIME,MASK,CHECKSUM",
    portspan: "1000-1255",
    encrypt: false,
    cipher: "Blowfish",
    iv: false,
    padding: "right",
  });
  const ok = { CLIENT: "10.0.0.1", PORT: 22, FLAG0: 1, TIME: 1, MASK: 32 };
  it.each([
    [{ PORT: 70000 }, "PORT"],
    [{ PORT: -1 }, "PORT"],
    [{ PORT: 2.5 }, "PORT"],
    [{ PORT: "22" }, "PORT"],
    [{ FLAG0: 256 }, "FLAG0"],
    [{ TIME: 2 ** 32 }, "TIME"],
    [{ MASK: 33 }, "MASK"],
    [{ CLIENT: "10.0.0.256" }, "CLIENT"],
    [{ CLIENT: "010.0.0.1" }, "CLIENT"],
    [{ CLIENT: "::1" }, "CLIENT"],
    [{ CLIENT: "10.0.0.1\n" }, "CLIENT"],
  ])("%j is refused, naming %s", (patch, field) => {
    let caught: unknown;
    try {
      encodeKnock(config, { ...ok, ...patch });
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(CodecError);
    expect(caught).toMatchObject({ code: "CODEC_BAD_VALUE", field });
  });

  it("names a missing value", () => {
    const rest = Object.fromEntries(
      Object.entries(ok).filter(([k]) => k !== "PORT"),
    );
    expect(() => encodeKnock(config, rest)).toThrow(
      expect.objectContaining({ field: "PORT" }),
    );
  });

  it("encodes the largest values exactly", () => {
    const out = encodeKnock(config, {
      CLIENT: "255.255.255.255",
      PORT: 65535,
      FLAG0: 255,
      TIME: 2 ** 32 - 1,
      MASK: 32,
    });
    expect(hex(out.plaintext)).toBe("ff".repeat(11) + "20" + "15");
  });
});
