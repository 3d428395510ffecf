/**
 * IDEA (Lai and Massey, 1991), written from the published algorithm because no npm package
 * implements it (see the package README). Checked against the published known answer
 * (key 0001…0008, block 0000000100020003 → 11fbed2b01986de5) and vectors V13/V14.
 */
import type { BlockCipher } from "./block-cipher.ts";

/** Multiplication modulo 2^16 + 1, where 0 stands for 2^16. */
function mul(a: number, b: number): number {
  // 0 stands for 2^16 ≡ -1: the product is the other factor negated.
  if (a === 0) return (0x10001 - b) & 0xffff;
  if (b === 0) return (0x10001 - a) & 0xffff;
  // (hi·2^16 + lo) mod (2^16 + 1) = lo - hi (+ 2^16 + 1 when negative), without a division.
  const p = a * b;
  const lo = p & 0xffff;
  const hi = p >>> 16;
  return (lo - hi + (lo < hi ? 0x10001 : 0)) & 0xffff;
}

/** Multiplicative inverse modulo 2^16 + 1 (0 and 1 are their own inverses). */
function mulInv(x: number): number {
  if (x <= 1) return x;
  // Extended Euclid on (65537, x).
  let t0 = 0;
  let t1 = 1;
  let r0 = 0x10001;
  let r1 = x;
  while (r1 !== 0) {
    const q = Math.floor(r0 / r1);
    [r0, r1] = [r1, r0 - q * r1];
    [t0, t1] = [t1, t0 - q * t1];
  }
  return (((t0 % 0x10001) + 0x10001) % 0x10001) & 0xffff;
}

/** The 52 encryption subkeys: the 128-bit key, rotated left by 25 bits six times. */
function expandKey(key: Uint8Array): Uint16Array {
  const ek = new Uint16Array(52);
  let k = 0n;
  for (const byte of key) k = (k << 8n) | BigInt(byte);
  const mask = (1n << 128n) - 1n;
  for (let i = 0; i < 52; i++) {
    const j = i % 8;
    if (i > 0 && j === 0) k = ((k << 25n) | (k >> 103n)) & mask;
    ek[i] = Number((k >> BigInt(112 - 16 * j)) & 0xffffn);
  }
  return ek;
}

/** The 52 decryption subkeys (inverses in reverse order; PGP's ideaInvertKey). */
function invertKey(ek: Uint16Array): Uint16Array {
  const dk = new Uint16Array(52);
  const neg = (v: number): number => (0x10000 - v) & 0xffff;
  for (let r = 0; r < 9; r++) {
    // Round r of decryption uses the output transform / round 8-r of encryption.
    const e = 6 * (8 - r);
    const d = 6 * r;
    dk[d] = mulInv(ek[e]!);
    // The additive keys swap places except in the first and last rounds.
    const swap = r !== 0 && r !== 8;
    dk[d + 1] = neg(ek[e + (swap ? 2 : 1)]!);
    dk[d + 2] = neg(ek[e + (swap ? 1 : 2)]!);
    dk[d + 3] = mulInv(ek[e + 3]!);
    if (r < 8) {
      dk[d + 4] = ek[e - 2]!;
      dk[d + 5] = ek[e - 1]!;
    }
  }
  return dk;
}

function crypt(keys: Uint16Array, buf: Uint8Array, o: number): void {
  let x1 = (buf[o]! << 8) | buf[o + 1]!;
  let x2 = (buf[o + 2]! << 8) | buf[o + 3]!;
  let x3 = (buf[o + 4]! << 8) | buf[o + 5]!;
  let x4 = (buf[o + 6]! << 8) | buf[o + 7]!;
  let k = 0;
  for (let round = 0; round < 8; round++) {
    x1 = mul(x1, keys[k++]!);
    x2 = (x2 + keys[k++]!) & 0xffff;
    x3 = (x3 + keys[k++]!) & 0xffff;
    x4 = mul(x4, keys[k++]!);
    const t0 = mul(x1 ^ x3, keys[k++]!);
    const t1 = mul((t0 + (x2 ^ x4)) & 0xffff, keys[k++]!);
    const t2 = (t0 + t1) & 0xffff;
    x1 ^= t1;
    x4 ^= t2;
    const a = x2 ^ t2;
    x2 = x3 ^ t1;
    x3 = a;
  }
  const y1 = mul(x1, keys[k++]!);
  const y2 = (x3 + keys[k++]!) & 0xffff;
  const y3 = (x2 + keys[k++]!) & 0xffff;
  const y4 = mul(x4, keys[k]!);
  buf[o] = y1 >>> 8;
  buf[o + 1] = y1;
  buf[o + 2] = y2 >>> 8;
  buf[o + 3] = y2;
  buf[o + 4] = y3 >>> 8;
  buf[o + 5] = y3;
  buf[o + 6] = y4 >>> 8;
  buf[o + 7] = y4;
}

/** Creates an IDEA cipher for a 16-byte key. Throws `RangeError` for another length. */
export function createIdea(key: Uint8Array): BlockCipher {
  if (key.length !== 16) {
    throw new RangeError(`IDEA key must be 16 bytes, got ${key.length}`);
  }
  const ek = expandKey(key);
  const dk = invertKey(ek);
  return {
    name: "IDEA",
    encryptBlock(buf: Uint8Array, o: number): void {
      crypt(ek, buf, o);
    },
    decryptBlock(buf: Uint8Array, o: number): void {
      crypt(dk, buf, o);
    },
  };
}
