/**
 * Blowfish (Schneier 1993) on typed arrays. Chosen over `egoroof-blowfish` by measurement: both
 * reproduce Crypt::Blowfish byte for byte, this one decrypts a 16-byte knock about 10× faster and
 * keeps the key schedule in the object (see the package README, "Why these ciphers").
 */
import type { BlockCipher } from "./block-cipher.ts";
import { BLOWFISH_P, BLOWFISH_S } from "./blowfish-tables.ts";

/**
 * Creates a Blowfish cipher for `key` (4–56 bytes), expanding the key schedule once.
 * Throws `RangeError` for a key of another length.
 */
export function createBlowfish(key: Uint8Array): BlockCipher {
  if (key.length < 4 || key.length > 56) {
    throw new RangeError(`Blowfish key must be 4–56 bytes, got ${key.length}`);
  }
  const P = Uint32Array.from(BLOWFISH_P);
  const S = Uint32Array.from(BLOWFISH_S);
  for (let i = 0, k = 0; i < 18; i++) {
    let w = 0;
    for (let j = 0; j < 4; j++) {
      w = (w << 8) | key[k]!;
      k = (k + 1) % key.length;
    }
    P[i] = P[i]! ^ w;
  }
  const lr = new Uint32Array(2);
  const encipher = (): void => {
    let l = lr[0]!;
    let r = lr[1]!;
    for (let i = 0; i < 16; i += 2) {
      l ^= P[i]!;
      r ^=
        (((S[l >>> 24]! + S[256 + ((l >>> 16) & 0xff)]!) ^
          S[512 + ((l >>> 8) & 0xff)]!) +
          S[768 + (l & 0xff)]!) |
        0;
      r ^= P[i + 1]!;
      l ^=
        (((S[r >>> 24]! + S[256 + ((r >>> 16) & 0xff)]!) ^
          S[512 + ((r >>> 8) & 0xff)]!) +
          S[768 + (r & 0xff)]!) |
        0;
    }
    lr[0] = r ^ P[17]!;
    lr[1] = l ^ P[16]!;
  };
  for (let i = 0; i < 18; i += 2) {
    encipher();
    P[i] = lr[0]!;
    P[i + 1] = lr[1]!;
  }
  for (let i = 0; i < 1024; i += 2) {
    encipher();
    S[i] = lr[0]!;
    S[i + 1] = lr[1]!;
  }
  return {
    name: "Blowfish",
    encryptBlock(buf: Uint8Array, o: number): void {
      let l =
        ((buf[o]! << 24) |
          (buf[o + 1]! << 16) |
          (buf[o + 2]! << 8) |
          buf[o + 3]!) ^
        P[0]!;
      let r =
        (buf[o + 4]! << 24) |
        (buf[o + 5]! << 16) |
        (buf[o + 6]! << 8) |
        buf[o + 7]!;
      for (let i = 1; i < 17; i += 2) {
        r ^=
          ((((S[l >>> 24]! + S[256 + ((l >>> 16) & 0xff)]!) ^
            S[512 + ((l >>> 8) & 0xff)]!) +
            S[768 + (l & 0xff)]!) |
            0) ^
          P[i]!;
        l ^=
          ((((S[r >>> 24]! + S[256 + ((r >>> 16) & 0xff)]!) ^
            S[512 + ((r >>> 8) & 0xff)]!) +
            S[768 + (r & 0xff)]!) |
            0) ^
          P[i + 1]!;
      }
      r ^= P[17]!;
      buf[o] = r >>> 24;
      buf[o + 1] = r >>> 16;
      buf[o + 2] = r >>> 8;
      buf[o + 3] = r;
      buf[o + 4] = l >>> 24;
      buf[o + 5] = l >>> 16;
      buf[o + 6] = l >>> 8;
      buf[o + 7] = l;
    },
    decryptBlock(buf: Uint8Array, o: number): void {
      let l =
        ((buf[o]! << 24) |
          (buf[o + 1]! << 16) |
          (buf[o + 2]! << 8) |
          buf[o + 3]!) ^
        P[17]!;
      let r =
        (buf[o + 4]! << 24) |
        (buf[o + 5]! << 16) |
        (buf[o + 6]! << 8) |
        buf[o + 7]!;
      for (let i = 16; i > 0; i -= 2) {
        r ^=
          ((((S[l >>> 24]! + S[256 + ((l >>> 16) & 0xff)]!) ^
            S[512 + ((l >>> 8) & 0xff)]!) +
            S[768 + (l & 0xff)]!) |
            0) ^
          P[i]!;
        l ^=
          ((((S[r >>> 24]! + S[256 + ((r >>> 16) & 0xff)]!) ^
            S[512 + ((r >>> 8) & 0xff)]!) +
            S[768 + (r & 0xff)]!) |
            0) ^
          P[i - 1]!;
      }
      r ^= P[0]!;
      buf[o] = r >>> 24;
      buf[o + 1] = r >>> 16;
      buf[o + 2] = r >>> 8;
      buf[o + 3] = r;
      buf[o + 4] = l >>> 24;
      buf[o + 5] = l >>> 16;
      buf[o + 6] = l >>> 8;
      buf[o + 7] = l;
    },
  };
}
