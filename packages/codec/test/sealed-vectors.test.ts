import { readFileSync } from "node:fs";
import { createCipheriv, scryptSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  compileKnockConfigOrThrow,
  decodeKnock,
  encodeKnock,
  type SealedKnockConfig,
} from "@portknock/codec";
import { parseSealedKey } from "../src/sealed-key.ts";

interface SealedVector {
  id: string;
  description: string;
  config: {
    knock: string;
    portspan: string;
    padding: "right" | "left";
    key?: string;
    keysalt?: string;
    users?: Array<{ name: string; key: string }>;
  };
  user: string;
  values: Record<string, string | number>;
  timeSeconds: number;
  random: string;
  aad: string;
  aesKey: string;
  plaintext: string;
  wire: string;
  ports: number[];
}

const vectors = JSON.parse(
  readFileSync(
    new URL("./fixtures/sealed-vectors.json", import.meta.url),
    "utf8",
  ),
) as SealedVector[];
const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
const unhex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, "hex"));

const compiled = new Map<string, SealedKnockConfig>();
function configOf(v: SealedVector): SealedKnockConfig {
  let c = compiled.get(v.id);
  if (c == null) {
    c = compileKnockConfigOrThrow({
      ...v.config,
      format: "sealed",
      encrypt: true,
      cipher: "Blowfish",
      iv: false,
    }) as SealedKnockConfig;
    compiled.set(v.id, c);
  }
  return c;
}

describe("sealed vectors (fixtures/sealed-vectors.json)", () => {
  it("cover what the brief asks: both key kinds, both families, 14 ports, a 256-port span", () => {
    expect(vectors.map((v) => v.id)).toEqual(["S1", "S2", "S3", "S4"]);
    const s1 = vectors[0]!;
    expect(s1.config).toMatchObject({
      knock: "CLIENT,PORT,FLAG0",
      portspan: "1024-33791",
    });
    expect(s1.ports).toHaveLength(14); // sealed.md: 26 bytes = 14 ports
    expect(vectors[1]!.values.CLIENT).toContain(":");
    expect(vectors[2]!.config.portspan).toBe("1000-1255");
  });

  it.each(vectors)(
    "$id encodes to the committed plaintext, wire and ports",
    (v) => {
      const config = configOf(v);
      const keyText =
        v.user === ""
          ? v.config.key!
          : v.config.users!.find((u) => u.name === v.user)!.key;
      const key = parseSealedKey(keyText, v.config.keysalt ?? "");
      expect(key.ok && hex(key.key)).toBe(v.aesKey);
      expect(config.aadText).toBe(v.aad);
      const encoded = encodeKnock(config, v.values, {
        timeSeconds: v.timeSeconds,
        random: unhex(v.random),
        ...(v.user === "" ? {} : { user: v.user }),
      });
      expect(hex(encoded.plaintext)).toBe(v.plaintext);
      expect(hex(encoded.wire)).toBe(v.wire);
      expect(encoded.ports).toEqual(v.ports);
    },
  );

  it.each(vectors)("$id decodes from the committed ports", (v) => {
    const result = decodeKnock(configOf(v), v.ports);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const k = result.knock;
    expect(k.values).toEqual(v.values);
    expect(hex(k.plaintext)).toBe(v.plaintext);
    expect(hex(k.wire)).toBe(v.wire);
    expect(k.user).toBe(v.user);
    expect(k.timeSeconds).toBe(v.timeSeconds);
    expect(hex(k.nonce)).toBe(v.random);
  });

  it("S2 is reproduced independently with raw node:crypto calls and BigInt bit slicing", () => {
    const v = vectors.find((x) => x.id === "S2")!;
    // Key: scrypt(passphrase, "portknock/sealed/1" ‖ keysalt, N = 2^15, r = 8, p = 1, 32 bytes).
    const key = scryptSync(
      v.config.key!,
      "portknock/sealed/1" + v.config.keysalt!,
      32,
      { N: 1 << 15, r: 8, p: 1, maxmem: 64 << 20 },
    );
    expect(key.toString("hex")).toBe(v.aesKey);
    // Plaintext: CLIENT = family 6 ‖ 16 address bytes, PORT 2 bytes, FLAG0 1 byte.
    const plaintext = Buffer.concat([
      Buffer.from([6]),
      Buffer.from("20010db80000000000000000000000" + "2a", "hex"),
      Buffer.from([443 >> 8, 443 & 0xff, 7]),
    ]);
    expect(plaintext.toString("hex")).toBe(v.plaintext);
    // Nonce: time (4, big-endian) ‖ random (6) ‖ 0000; AAD: label ‖ ":" ‖ field list.
    const time = Buffer.alloc(4);
    time.writeUInt32BE(v.timeSeconds);
    const random = Buffer.from(v.random, "hex");
    const nonce = Buffer.concat([time, random, Buffer.alloc(2)]);
    const c = createCipheriv("aes-256-gcm", key, nonce, { authTagLength: 8 });
    c.setAAD(Buffer.from("portknock/sealed/1:CLIENT,PORT,FLAG0"));
    const ct = Buffer.concat([c.update(plaintext), c.final()]);
    const wire = Buffer.concat([time, random, ct, c.getAuthTag()]);
    expect(wire.toString("hex")).toBe(v.wire);
    // Ports: 15-bit chunks of the wire, most significant bit first, zero-padded on the right.
    const bits = wire.length * 8;
    const n = Math.ceil(bits / 15);
    const value = BigInt("0x" + wire.toString("hex")) << BigInt(n * 15 - bits);
    const ports = Array.from(
      { length: n },
      (_, i) => 1024 + Number((value >> BigInt((n - 1 - i) * 15)) & 0x7fffn),
    );
    expect(ports).toEqual(v.ports);
  });
});
