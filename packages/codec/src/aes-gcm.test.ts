import { createCipheriv } from "node:crypto";
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { createGcmKey } from "./aes-gcm.ts";

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
const unhex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, "hex"));

describe("AES-256-GCM with an 8-byte tag", () => {
  it("reproduces the GCM specification's test case 16 (tag truncated to 8 bytes)", () => {
    const key = createGcmKey(
      unhex("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308"),
      unhex("feedfacedeadbeeffeedfacedeadbeefabaddad2"),
    );
    const nonce = unhex("cafebabefacedbaddecaf888");
    const pt = unhex(
      "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
    );
    const sealed = key.seal(nonce, pt);
    expect(hex(sealed)).toBe(
      "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662" +
        "76fc6ece0f4e1768",
    );
    expect(hex(key.open(nonce, sealed, 0, sealed.length)!)).toBe(hex(pt));
  });

  it("opens exactly what Node's GCM seals, for any key, associated data, nonce and length", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ maxLength: 48 }),
        fc.uint8Array({ minLength: 12, maxLength: 12 }),
        fc.uint8Array({ maxLength: 48 }),
        fc.nat(),
        (k, aad, nonce, pt, flip) => {
          const c = createCipheriv("aes-256-gcm", k, nonce, {
            authTagLength: 8,
          });
          c.setAAD(aad);
          const node = Buffer.concat([c.update(pt), c.final(), c.getAuthTag()]);
          const key = createGcmKey(k, aad);
          const sealed = key.seal(nonce, pt);
          expect(hex(sealed)).toBe(hex(node));
          // Framed inside a larger buffer, as the decoder does.
          const framed = new Uint8Array(sealed.length + 7);
          framed.set(sealed, 3);
          expect(
            hex(key.open(nonce, framed, 3, 3 + sealed.length) ?? unhex("ff")),
          ).toBe(hex(pt));
          const bit = flip % (8 * sealed.length);
          framed[3 + (bit >>> 3)]! ^= 1 << (bit & 7);
          expect(key.open(nonce, framed, 3, 3 + sealed.length)).toBeUndefined();
        },
      ),
      { numRuns: 300 },
    );
  });

  it("rejects a wrong nonce and a wrong key", () => {
    const k = new Uint8Array(32).fill(7);
    const nonce = new Uint8Array(12);
    const sealed = createGcmKey(k, new Uint8Array(0)).seal(
      nonce,
      unhex("00112233"),
    );
    const other = Uint8Array.from(nonce);
    other[11] = 1;
    const key = createGcmKey(k, new Uint8Array(0));
    expect(key.open(other, sealed, 0, sealed.length)).toBeUndefined();
    expect(key.open(nonce, sealed, 0, 7)).toBeUndefined();
    const wrong = createGcmKey(new Uint8Array(32), new Uint8Array(0));
    expect(wrong.open(nonce, sealed, 0, sealed.length)).toBeUndefined();
  });

  it("refuses a key that is not 32 bytes", () => {
    expect(() => createGcmKey(new Uint8Array(16), new Uint8Array(0))).toThrow(
      RangeError,
    );
  });
});
