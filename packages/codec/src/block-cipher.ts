/**
 * The block-cipher interface the CBC layer uses (spec: knock-format.md §2). All three compat
 * ciphers have 8-byte blocks. Key schedules are computed once, when the cipher is created.
 */

/** Cipher names as the config writes them (`cipher = Blowfish`). */
export type CipherName = "Blowfish" | "DES" | "IDEA";

/** An 8-byte block cipher with its key schedule already expanded. */
export interface BlockCipher {
  readonly name: CipherName;
  /** Encrypts the 8 bytes of `buf` at `offset` in place. */
  encryptBlock(buf: Uint8Array, offset: number): void;
  /** Decrypts the 8 bytes of `buf` at `offset` in place. */
  decryptBlock(buf: Uint8Array, offset: number): void;
}

/** Reads a big-endian 32-bit word. */
export function readU32(buf: Uint8Array, o: number): number {
  return (
    ((buf[o]! << 24) |
      (buf[o + 1]! << 16) |
      (buf[o + 2]! << 8) |
      buf[o + 3]!) >>>
    0
  );
}

/** Writes a big-endian 32-bit word. */
export function writeU32(buf: Uint8Array, o: number, v: number): void {
  buf[o] = v >>> 24;
  buf[o + 1] = v >>> 16;
  buf[o + 2] = v >>> 8;
  buf[o + 3] = v;
}
