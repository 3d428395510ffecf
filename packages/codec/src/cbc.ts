/**
 * CBC with PKCS#5 padding, as Crypt::CBC 2.12 does it (spec: knock-format.md §2). Decryption
 * checks the padding strictly and reports failure instead of stripping blindly.
 */
import type { BlockCipher } from "./block-cipher.ts";

/** Ciphertext length for a plaintext of `length` bytes: 8·(⌊length/8⌋ + 1). */
export function paddedLength(length: number): number {
  return 8 * (Math.floor(length / 8) + 1);
}

/** Encrypts `plaintext` with PKCS#5 padding; returns a new array of `paddedLength` bytes. */
export function cbcEncrypt(
  cipher: BlockCipher,
  iv: Uint8Array,
  plaintext: Uint8Array,
): Uint8Array {
  const n = paddedLength(plaintext.length);
  const out = new Uint8Array(n);
  out.set(plaintext);
  out.fill(n - plaintext.length, plaintext.length);
  for (let o = 0; o < n; o += 8) {
    for (let i = 0; i < 8; i++) {
      out[o + i] = out[o + i]! ^ (o === 0 ? iv[i]! : out[o - 8 + i]!);
    }
    cipher.encryptBlock(out, o);
  }
  return out;
}

/**
 * Decrypts `length` bytes of `src` at `srcOffset` into `dst` (at 0), in CBC with `iv`. Returns the
 * unpadded plaintext length, or -1 when the PKCS#5 padding is invalid. `length` must be a
 * positive multiple of 8. Allocates nothing: the hot path of the daemon calls it per window.
 */
export function cbcDecryptInto(
  cipher: BlockCipher,
  iv: Uint8Array,
  src: Uint8Array,
  srcOffset: number,
  length: number,
  dst: Uint8Array,
): number {
  for (let o = 0; o < length; o += 8) {
    for (let i = 0; i < 8; i++) dst[o + i] = src[srcOffset + o + i]!;
    cipher.decryptBlock(dst, o);
    for (let i = 0; i < 8; i++) {
      dst[o + i] =
        dst[o + i]! ^ (o === 0 ? iv[i]! : src[srcOffset + o - 8 + i]!);
    }
  }
  const pad = dst[length - 1]!;
  if (pad < 1 || pad > 8) return -1;
  for (let i = length - pad; i < length - 1; i++) {
    if (dst[i] !== pad) return -1;
  }
  return length - pad;
}
