/**
 * AES-256-GCM with an 8-byte tag for the sealed profile (spec: sealed.md "Wire bytes"), on
 * `node:crypto`. One `GcmKey` per key and configuration holds everything that does not change
 * from knock to knock: the key, an AES-256-ECB context that stays open, the GHASH table of
 * H = AES_K(0¹²⁸) and the GHASH state after the (constant) associated data.
 *
 * Why a check in JavaScript before Node's GCM: most windows a daemon decodes are noise, and with
 * per-user keys each window is tried under every key. `createDecipheriv` builds a fresh OpenSSL
 * context per attempt and reports a bad tag by throwing (~130,000 failed attempts/s on our
 * machine); recomputing the tag here from the precomputed state costs one AES block and two or
 * three GHASH multiplications. A window whose tag matches is then decrypted and verified again by
 * Node's GCM, so this check can only ever reject: it never accepts on its own.
 */
import type { Cipher } from "node:crypto";
import { createCipheriv, createDecipheriv } from "node:crypto";

/** Tag length in bytes (sealed.md: an 8-byte tag). */
export const SEALED_TAG_LENGTH = 8;

/** The GHASH reduction for the 4 bits shifted out by a multiplication by x⁴ (GCM bit order). */
const REDUCE4 = Uint32Array.from({ length: 16 }, (_, r) => {
  let v = 0;
  if (r & 8) v ^= 0xe1000000;
  if (r & 4) v ^= 0x70800000;
  if (r & 2) v ^= 0x38400000;
  if (r & 1) v ^= 0x1c200000;
  return v;
});

/** The 16 multiples n·H (Shoup's 4-bit table), 4 big-endian words each. */
function ghashTable(h: Uint8Array): Uint32Array {
  const t = new Uint32Array(64);
  const v = [0, 1, 2, 3].map(
    (i) =>
      ((h[4 * i]! << 24) |
        (h[4 * i + 1]! << 16) |
        (h[4 * i + 2]! << 8) |
        h[4 * i + 3]!) >>>
      0,
  );
  // Nibble bit 8 is x⁰, 4 is x¹, 2 is x², 1 is x³: T[8] = H, T[4] = H·x, T[2] = H·x², T[1] = H·x³.
  for (const n of [8, 4, 2, 1]) {
    t.set(v, 4 * n);
    const lsb = v[3]! & 1;
    v[3] = ((v[3]! >>> 1) | (v[2]! << 31)) >>> 0;
    v[2] = ((v[2]! >>> 1) | (v[1]! << 31)) >>> 0;
    v[1] = ((v[1]! >>> 1) | (v[0]! << 31)) >>> 0;
    v[0] = ((v[0]! >>> 1) ^ (lsb ? 0xe1000000 : 0)) >>> 0;
  }
  for (let n = 1; n < 16; n++) {
    const low = n & -n;
    if (n === low) continue;
    for (let w = 0; w < 4; w++)
      t[4 * n + w] = t[4 * low + w]! ^ t[4 * (n ^ low) + w]!;
  }
  return t;
}

/** x ← x·H in GF(2¹²⁸), x as 4 big-endian words, `t` the table of H. */
function ghashMultiply(x: Uint32Array, t: Uint32Array): void {
  let z0 = 0;
  let z1 = 0;
  let z2 = 0;
  let z3 = 0;
  for (let j = 31; j >= 0; j--) {
    const nib = (x[j >>> 3]! >>> (28 - 4 * (j & 7))) & 15;
    if (j !== 31) {
      const rem = z3 & 15;
      z3 = (z3 >>> 4) | (z2 << 28);
      z2 = (z2 >>> 4) | (z1 << 28);
      z1 = (z1 >>> 4) | (z0 << 28);
      z0 = (z0 >>> 4) ^ REDUCE4[rem]!;
    }
    const o = 4 * nib;
    z0 ^= t[o]!;
    z1 ^= t[o + 1]!;
    z2 ^= t[o + 2]!;
    z3 ^= t[o + 3]!;
  }
  x[0] = z0;
  x[1] = z1;
  x[2] = z2;
  x[3] = z3;
}

/** x ← (x ⊕ block)·H for each 16-byte block of `bytes[start … end)`, the last zero-padded. */
function ghashUpdate(
  x: Uint32Array,
  t: Uint32Array,
  bytes: Uint8Array,
  start: number,
  end: number,
): void {
  for (let i = start; i < end; i += 16) {
    for (let w = 0; w < 4; w++) {
      let word = 0;
      for (let k = 0; k < 4; k++) {
        const p = i + 4 * w + k;
        word = (word << 8) | (p < end ? bytes[p]! : 0);
      }
      x[w] = x[w]! ^ word;
    }
    ghashMultiply(x, t);
  }
}

/** AES-256-GCM under one key with fixed associated data. */
export interface GcmKey {
  /**
   * Encrypts `plaintext` with the 12-byte `nonce`: returns ciphertext ‖ 8-byte tag.
   * Throws only on misuse (a nonce that is not 12 bytes).
   */
  seal(nonce: Uint8Array, plaintext: Uint8Array): Uint8Array;
  /**
   * Verifies and decrypts `sealed[start … end)` = ciphertext ‖ 8-byte tag, with the 12-byte
   * nonce `nonce`. Returns the plaintext, or undefined when the tag does not verify. Never throws.
   */
  open(
    nonce: Uint8Array,
    sealed: Uint8Array,
    start: number,
    end: number,
  ): Uint8Array | undefined;
}

/**
 * Prepares AES-256-GCM (8-byte tag) under the 32-byte `key` with the associated data `aad`.
 * Throws `RangeError` when the key is not 32 bytes (a bug in the caller).
 */
export function createGcmKey(key: Uint8Array, aad: Uint8Array): GcmKey {
  if (key.length !== 32) {
    throw new RangeError(`AES-256 key must be 32 bytes, got ${key.length}`);
  }
  const keyBytes = Uint8Array.from(key);
  const ecb: Cipher = createCipheriv("aes-256-ecb", keyBytes, null);
  ecb.setAutoPadding(false);
  const table = ghashTable(ecb.update(new Uint8Array(16)));
  const afterAad = new Uint32Array(4);
  ghashUpdate(afterAad, table, aad, 0, aad.length);
  const aadBits = aad.length * 8;
  const x = new Uint32Array(4);
  const counter = new Uint8Array(16);

  /** Whether the tag of `sealed[start … end)` is the one GCM computes (see the file comment). */
  function tagMatches(
    nonce: Uint8Array,
    sealed: Uint8Array,
    start: number,
    end: number,
  ): boolean {
    const ctEnd = end - SEALED_TAG_LENGTH;
    x.set(afterAad);
    ghashUpdate(x, table, sealed, start, ctEnd);
    const ctBits = (ctEnd - start) * 8;
    x[1] = x[1]! ^ aadBits;
    x[3] = x[3]! ^ ctBits;
    ghashMultiply(x, table);
    counter.set(nonce.subarray(0, 12));
    counter[12] = 0;
    counter[13] = 0;
    counter[14] = 0;
    counter[15] = 1;
    const mask = ecb.update(counter);
    let diff = 0;
    for (let i = 0; i < SEALED_TAG_LENGTH; i++) {
      const s = (x[i >>> 2]! >>> (24 - 8 * (i & 3))) & 0xff;
      diff |= s ^ mask[i]! ^ sealed[ctEnd + i]!;
    }
    return diff === 0;
  }

  return {
    seal(nonce, plaintext) {
      const c = createCipheriv("aes-256-gcm", keyBytes, nonce, {
        authTagLength: SEALED_TAG_LENGTH,
      });
      c.setAAD(aad);
      const ct = c.update(plaintext);
      c.final();
      const out = new Uint8Array(ct.length + SEALED_TAG_LENGTH);
      out.set(ct);
      out.set(c.getAuthTag(), ct.length);
      return out;
    },
    open(nonce, sealed, start, end) {
      if (end - start < SEALED_TAG_LENGTH || nonce.length !== 12) return;
      if (!tagMatches(nonce, sealed, start, end)) return;
      try {
        const ctEnd = end - SEALED_TAG_LENGTH;
        const d = createDecipheriv("aes-256-gcm", keyBytes, nonce, {
          authTagLength: SEALED_TAG_LENGTH,
        });
        d.setAAD(aad);
        d.setAuthTag(sealed.subarray(ctEnd, end));
        const plain = d.update(sealed.subarray(start, ctEnd));
        d.final();
        return new Uint8Array(plain.buffer, plain.byteOffset, plain.length);
      } catch {
        // Node's GCM disagrees with the check above: treat as not verified.
        return undefined;
      }
    },
  };
}
