/**
 * Keys of the sealed profile (spec: sealed.md "Keys"): `base64:…` (32 bytes, as `knock -genkey`
 * prints) is used as is; anything else is a passphrase stretched with scrypt.
 */
import { createHash, randomBytes, scryptSync } from "node:crypto";

/** The profile's domain-separation label: scrypt salt prefix and associated-data prefix. */
export const SEALED_LABEL = "portknock/sealed/1";

/** scrypt cost of a passphrase key (sealed.md): N = 2¹⁵, r = 8, p = 1, 32 bytes. */
export const SEALED_SCRYPT: {
  readonly N: number;
  readonly r: number;
  readonly p: number;
  readonly maxmem: number;
} = {
  N: 32768,
  r: 8,
  p: 1,
  // N·r·128 = 32 MiB of working memory, over Node's 32 MiB default limit.
  maxmem: 67108864,
};

/**
 * Derives the 32-byte key of a passphrase: scrypt(passphrase, salt = `portknock/sealed/1` ‖
 * keysalt, N = 2¹⁵, r = 8, p = 1), passphrase and keysalt as UTF-8. Deliberately slow (about
 * 0.1 s and 32 MiB): call it once per configuration, never per knock.
 */
export function deriveSealedKey(passphrase: string, keysalt = ""): Uint8Array {
  const key = scryptSync(
    Buffer.from(passphrase, "utf8"),
    Buffer.from(SEALED_LABEL + keysalt, "utf8"),
    32,
    SEALED_SCRYPT,
  );
  return new Uint8Array(key.buffer, key.byteOffset, key.length);
}

/**
 * A fresh random sealed key as a config value: `base64:` + 32 bytes from the operating system's
 * CSPRNG (44 characters), the form `parseSealedKey` takes as is. What `knock -genkey` prints and
 * `knockd -init` writes. Never throws (short of the OS having no entropy source).
 */
export function generateSealedKey(): string {
  return `base64:${randomBytes(32).toString("base64")}`;
}

/** Result of `parseSealedKey`: the 32-byte key, or why the text is not one. */
export type SealedKeyResult =
  | { ok: true; key: Uint8Array; kind: "base64" | "passphrase" }
  | { ok: false; code: "KEY_MISSING" | "KEY_INVALID"; message: string };

const BASE64_32 = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=?$/;

/**
 * Turns a `key` value into the AES-256 key: `base64:` + the standard base64 of exactly 32 bytes
 * (44 characters with the final `=`, or 43 without; the encoding must be canonical), else a
 * passphrase (derived with `deriveSealedKey`). An empty value is `KEY_MISSING`; a `base64:` value
 * that is not 32 bytes is `KEY_INVALID`. Messages never contain the key.
 */
export function parseSealedKey(text: string, keysalt = ""): SealedKeyResult {
  if (text === "") {
    return { ok: false, code: "KEY_MISSING", message: "the key is empty" };
  }
  if (text.startsWith("base64:")) {
    const b64 = text.slice(7);
    if (!BASE64_32.test(b64)) {
      const bytes = /^[A-Za-z0-9+/]*={0,2}$/.test(b64)
        ? `${Buffer.from(b64, "base64").length} bytes`
        : "characters outside standard base64";
      return {
        ok: false,
        code: "KEY_INVALID",
        message: `a base64: key must be exactly 32 bytes of standard base64 (44 characters, as knock -genkey prints), got ${bytes}`,
      };
    }
    const key = Buffer.from(b64, "base64");
    return {
      ok: true,
      key: new Uint8Array(key.buffer, key.byteOffset, key.length),
      kind: "base64",
    };
  }
  return {
    ok: true,
    key: deriveSealedKey(text, keysalt),
    kind: "passphrase",
  };
}

/**
 * A short public identity of a key (16 hex digits of SHA-256(`portknock/sealed/1 key id` ‖ key)):
 * names the key in replay-cache entries without revealing it.
 */
export function sealedKeyId(key: Uint8Array): string {
  return createHash("sha256")
    .update(SEALED_LABEL + " key id")
    .update(key)
    .digest("hex")
    .slice(0, 16);
}
