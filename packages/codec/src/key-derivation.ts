import { createHash } from "node:crypto";

/**
 * Crypt::CBC 2.12's key derivation (spec: knock-format.md §2): `m = MD5(passphrase)`; while
 * `m` is shorter than `keySize`, append `MD5(m)` (of the whole string so far); take the first
 * `keySize` bytes. The passphrase is taken as UTF-8 bytes. No salt, no iterations (compat only).
 */
export function deriveCompatKey(
  passphrase: string | Uint8Array,
  keySize: number,
): Uint8Array {
  const pass =
    typeof passphrase === "string"
      ? Buffer.from(passphrase, "utf8")
      : passphrase;
  let m: Buffer = createHash("md5").update(pass).digest();
  while (m.length < keySize) {
    m = Buffer.concat([m, createHash("md5").update(m).digest()]);
  }
  return new Uint8Array(m.subarray(0, keySize));
}
