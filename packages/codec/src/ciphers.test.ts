import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { createBlowfish } from "./blowfish.ts";
import { createIdea } from "./idea.ts";
import { createDes } from "./des.ts";
import { BLOWFISH_P, BLOWFISH_S } from "./blowfish-tables.ts";
import { piWords } from "../../../tools/fixtures/gen-blowfish-tables.js";

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
const unhex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, "hex"));

function enc(
  make: (k: Uint8Array) => ReturnType<typeof createIdea>,
  key: string,
  pt: string,
): string {
  const b = unhex(pt);
  make(unhex(key)).encryptBlock(b, 0);
  return hex(b);
}

describe("IDEA", () => {
  it("reproduces the published known answer", () => {
    expect(
      enc(createIdea, "00010002000300040005000600070008", "0000000100020003"),
    ).toBe("11fbed2b01986de5");
  });

  it("decrypts what it encrypts for any key and block", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        fc.uint8Array({ minLength: 8, maxLength: 8 }),
        (key, block) => {
          const c = createIdea(key);
          const b = block.slice();
          c.encryptBlock(b, 0);
          c.decryptBlock(b, 0);
          expect(hex(b)).toBe(hex(block));
        },
      ),
    );
  });

  it("rejects a key of the wrong length", () => {
    expect(() => createIdea(new Uint8Array(8))).toThrow(RangeError);
  });
});

describe("Blowfish", () => {
  it("uses the hexadecimal digits of pi as its initial tables", () => {
    const pi = piWords();
    expect(BLOWFISH_P).toEqual(pi.slice(0, 18));
    expect(BLOWFISH_S).toEqual(pi.slice(18));
  });

  // Eric Young's published Blowfish ECB test vectors.
  it.each([
    ["0000000000000000", "0000000000000000", "4ef997456198dd78"],
    ["ffffffffffffffff", "ffffffffffffffff", "51866fd5b85ecb8a"],
    ["3000000000000000", "1000000000000001", "7d856f9a613063f2"],
    ["0123456789abcdef", "1111111111111111", "61f9c3802281b096"],
    ["fedcba9876543210", "0123456789abcdef", "0aceab0fc6a0a28d"],
  ])("key %s encrypts %s to %s", (key, pt, ct) => {
    expect(enc(createBlowfish, key, pt)).toBe(ct);
  });

  it("decrypts what it encrypts for any key of 4–56 bytes", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 4, maxLength: 56 }),
        fc.uint8Array({ minLength: 8, maxLength: 8 }),
        (key, block) => {
          const c = createBlowfish(key);
          const b = block.slice();
          c.encryptBlock(b, 0);
          c.decryptBlock(b, 0);
          expect(hex(b)).toBe(hex(block));
        },
      ),
      { numRuns: 50 },
    );
  });

  it("rejects keys shorter than 4 or longer than 56 bytes", () => {
    expect(() => createBlowfish(new Uint8Array(3))).toThrow(RangeError);
    expect(() => createBlowfish(new Uint8Array(57))).toThrow(RangeError);
  });
});

describe("DES", () => {
  it.each([
    // FIPS 81 / the classic "Now is t" example.
    ["0123456789abcdef", "4e6f772069732074", "3fa40e8a984d4815"],
    ["0000000000000000", "0000000000000000", "8ca64de9c1b123a7"],
  ])("key %s encrypts %s to %s", (key, pt, ct) => {
    expect(enc(createDes, key, pt)).toBe(ct);
  });

  it("decrypts what it encrypts", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 8, maxLength: 8 }),
        fc.uint8Array({ minLength: 8, maxLength: 8 }),
        (key, block) => {
          const c = createDes(key);
          const b = block.slice();
          c.encryptBlock(b, 0);
          c.decryptBlock(b, 0);
          expect(hex(b)).toBe(hex(block));
        },
      ),
    );
  });
});
