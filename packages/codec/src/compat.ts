/**
 * The compat knock profile (spec: knock-format.md): fields → plaintext → (CBC encrypt) → wire →
 * ports, and back. Everything derivable from the settings (span index, layout, key schedule,
 * lengths, scratch buffers) is computed once by `compileKnockConfig`.
 */
import { randomFillSync } from "node:crypto";
import type { BlockCipher, CipherName } from "./block-cipher.ts";
import { createBlowfish } from "./blowfish.ts";
import { createDes } from "./des.ts";
import { createIdea } from "./idea.ts";
import { cbcDecryptInto, cbcEncrypt, paddedLength } from "./cbc.ts";
import { deriveCompatKey } from "./key-derivation.ts";
import type { BitPadding } from "./bit-mapping.ts";
import { bytesToPorts, portCount, portsToBytesInto } from "./bit-mapping.ts";
import type { PortSpan } from "./port-span.ts";
import type { KnockLayout, KnockValues } from "./knock-fields.ts";
import { packFields, unpackFields } from "./knock-fields.ts";
import type { CodecIssue, DecodeCode } from "./errors.ts";
import { quoteValue as quote } from "@portknock/core";
import { CodecError } from "./errors.ts";

/** Key size in bytes of each cipher, as Crypt::CBC 2.12 asks the cipher module. */
export const CIPHER_KEY_SIZE: Readonly<Record<CipherName, number>> = {
  Blowfish: 56,
  DES: 8,
  IDEA: 16,
};

const CIPHERS: Readonly<Record<CipherName, (key: Uint8Array) => BlockCipher>> =
  {
    Blowfish: createBlowfish,
    DES: createDes,
    IDEA: createIdea,
  };

/** The Crypt::CBC header that precedes a random IV on the wire: `RandomIV`. */
export const RANDOM_IV_HEADER: Uint8Array = new Uint8Array([
  0x52, 0x61, 0x6e, 0x64, 0x6f, 0x6d, 0x49, 0x56,
]);

/** Matches a config `cipher` value to its canonical name, case-insensitively. */
export function parseCipherName(text: string): CipherName | undefined {
  const t = text.trim().toLowerCase();
  return (Object.keys(CIPHERS) as CipherName[]).find(
    (c) => c.toLowerCase() === t,
  );
}

/**
 * Parses `ivvalue`: exactly 8 characters (taken as their UTF-8 bytes, which must be 8), or
 * `hex:` followed by 16 hex digits. Returns undefined when it is neither.
 */
export function parseIvValue(text: string): Uint8Array | undefined {
  if (text.startsWith("hex:")) {
    const h = text.slice(4);
    return /^[0-9a-fA-F]{16}$/.test(h)
      ? new Uint8Array(Buffer.from(h, "hex"))
      : undefined;
  }
  const bytes = Buffer.from(text, "utf8");
  return bytes.length === 8 ? new Uint8Array(bytes) : undefined;
}

/**
 * Wire length in bytes for a plaintext of `plaintextLength` bytes (knock-format.md §2):
 * the plaintext length; encrypted 8·(⌊len/8⌋+1); plus 16 with `iv`.
 */
export function compatWireLength(
  plaintextLength: number,
  options: { encrypt: boolean; iv: boolean },
): number {
  if (!options.encrypt) return plaintextLength;
  return paddedLength(plaintextLength) + (options.iv ? 16 : 0);
}

/** A compiled compat configuration. Treat as opaque; build it with `compileKnockConfig`. */
export interface CompatKnockConfig {
  readonly format: "compat";
  readonly layout: KnockLayout;
  readonly span: PortSpan;
  readonly padding: BitPadding;
  readonly encrypt: boolean;
  readonly cipherName: CipherName | undefined;
  /** `iv = yes`: the wire carries `RandomIV` ‖ IV. */
  readonly iv: boolean;
  /** `ivvalue`: the fixed IV (iv = no) or the header IV that replaces the random one (iv = yes). */
  readonly fixedIv: Uint8Array | undefined;
  /** Wire length in bytes. */
  readonly wireLength: number;
  /** Ports per knock. */
  readonly portCount: number;
  /** @internal expanded key schedule. */
  readonly cipher: BlockCipher | undefined;
  /** @internal scratch buffers for allocation-free decoding. */
  readonly scratch: { wire: Uint8Array; plain: Uint8Array; iv: Uint8Array };
}

/** The settings the compat profile reads (structurally a subset of the config package's). */
export interface CompatSettings {
  knock: string;
  portspan: string;
  encrypt: boolean;
  key?: string | undefined;
  cipher: string;
  iv: boolean;
  ivvalue?: string | undefined;
  padding: BitPadding;
}

/** Compiles compat settings whose layout and span already parsed. */
export function compileCompat(
  settings: CompatSettings,
  layout: KnockLayout,
  span: PortSpan,
  issues: CodecIssue[],
): CompatKnockConfig | undefined {
  const error = (
    code: CodecIssue["code"],
    key: string,
    message: string,
  ): void => {
    issues.push({ code, severity: "error", key, message });
  };
  const warn = (
    code: CodecIssue["code"],
    key: string,
    message: string,
  ): void => {
    issues.push({ code, severity: "warning", key, message });
  };
  const cipherName = parseCipherName(settings.cipher);
  if (settings.encrypt && cipherName == null) {
    error(
      "CIPHER_UNKNOWN",
      "cipher",
      `cipher must be Blowfish, DES or IDEA, got ${quote(settings.cipher)}`,
    );
  }
  if (settings.encrypt && (settings.key == null || settings.key === "")) {
    error("KEY_MISSING", "key", "encrypt is on but no key is set");
  }
  let fixedIv: Uint8Array | undefined;
  if (settings.ivvalue != null) {
    fixedIv = parseIvValue(settings.ivvalue);
    if (fixedIv == null) {
      error(
        "IV_VALUE_INVALID",
        "ivvalue",
        `ivvalue must be 8 characters or hex: and 16 hex digits, got ${quote(settings.ivvalue)}`,
      );
    } else if (settings.iv && settings.encrypt) {
      warn(
        "IV_VALUE_FIXED",
        "ivvalue",
        "ivvalue with iv = yes replaces the random IV: every knock is identical (use for tests only)",
      );
    }
  }
  if (settings.iv && !settings.encrypt) {
    warn(
      "IV_WITHOUT_ENCRYPT",
      "iv",
      "iv = yes has no effect when encrypt = no",
    );
  }
  if (issues.some((i) => i.severity === "error")) return undefined;
  const cipher =
    settings.encrypt && cipherName != null
      ? CIPHERS[cipherName](
          deriveCompatKey(settings.key!, CIPHER_KEY_SIZE[cipherName]),
        )
      : undefined;
  const iv = settings.encrypt && settings.iv;
  const wireLength = compatWireLength(layout.length, {
    encrypt: settings.encrypt,
    iv,
  });
  return {
    format: "compat",
    layout,
    span,
    padding: settings.padding,
    encrypt: settings.encrypt,
    cipherName: settings.encrypt ? cipherName : undefined,
    iv,
    fixedIv,
    wireLength,
    portCount: portCount(wireLength, span.bitsPerPort),
    cipher,
    scratch: {
      wire: new Uint8Array(wireLength),
      plain: new Uint8Array(wireLength),
      iv: fixedIv ?? new Uint8Array(8),
    },
  };
}

/** An encoded knock: the plaintext, the wire bytes and the port sequence. */
export interface EncodedKnock {
  plaintext: Uint8Array;
  wire: Uint8Array;
  ports: number[];
}

/** Options of `encodeKnock`. */
export interface EncodeOptions {
  /** compat with `iv = yes`: the 8-byte IV to put in the header (default: ivvalue or random). */
  iv?: Uint8Array;
  /** sealed: the time to seal in, Unix seconds (default: the config's clock, `now`). */
  timeSeconds?: number;
  /** sealed: the 6 random bytes of the nonce (default: fresh from the CSPRNG). */
  random?: Uint8Array;
  /** sealed: whose key seals the knock (default: the anonymous key, else the only user). */
  user?: string;
}

/** Encodes compat knock values. Throws `CodecError` for a missing or out-of-range value. */
export function encodeCompat(
  config: CompatKnockConfig,
  values: KnockValues,
  options: EncodeOptions = {},
): EncodedKnock {
  const plaintext = packFields(config.layout, values);
  let wire = plaintext;
  if (config.cipher != null) {
    let iv: Uint8Array;
    if (config.iv) {
      iv = options.iv ?? config.fixedIv ?? randomFillSync(new Uint8Array(8));
      if (iv.length !== 8) {
        throw new CodecError(
          "CODEC_BAD_VALUE",
          `iv must be 8 bytes, got ${iv.length}`,
          "iv",
        );
      }
    } else {
      iv = config.fixedIv ?? new Uint8Array(8);
    }
    const ct = cbcEncrypt(config.cipher, iv, plaintext);
    if (config.iv) {
      wire = new Uint8Array(16 + ct.length);
      wire.set(RANDOM_IV_HEADER);
      wire.set(iv, 8);
      wire.set(ct, 16);
    } else {
      wire = ct;
    }
  }
  return {
    plaintext,
    wire,
    ports: bytesToPorts(wire, config.span, config.padding),
  };
}

/** A decoded knock: field values by configured name, plaintext and wire bytes. */
export interface Knock {
  values: Record<string, string | number>;
  plaintext: Uint8Array;
  wire: Uint8Array;
}

/** Result of decoding: a knock, or the reason the ports are not one. */
export type DecodeResult =
  { ok: true; knock: Knock } | { ok: false; code: DecodeCode };

/** Decodes a compat port sequence. Never throws for any input. */
export function decodeCompat(
  config: CompatKnockConfig,
  ports: ArrayLike<number>,
): DecodeResult {
  if (ports.length !== config.portCount)
    return { ok: false, code: "KNOCK_WRONG_LENGTH" };
  const { wire, plain } = config.scratch;
  const mapped = portsToBytesInto(
    ports,
    0,
    ports.length,
    config.span,
    config.padding,
    config.wireLength,
    wire,
  );
  if (mapped !== 0) return { ok: false, code: mapped };
  let plaintext = wire;
  const cipher = config.cipher;
  if (cipher != null) {
    let iv = config.scratch.iv;
    let offset = 0;
    if (config.iv) {
      for (let i = 0; i < 8; i++) {
        if (wire[i] !== RANDOM_IV_HEADER[i])
          return { ok: false, code: "KNOCK_BAD_HEADER" };
      }
      iv = wire.subarray(8, 16);
      offset = 16;
    }
    const len = cbcDecryptInto(
      cipher,
      iv,
      wire,
      offset,
      config.wireLength - offset,
      plain,
    );
    if (len !== config.layout.length)
      return { ok: false, code: "KNOCK_BAD_PADDING" };
    plaintext = plain;
  }
  const fields = unpackFields(config.layout, plaintext);
  if (!fields.ok) return fields;
  return {
    ok: true,
    knock: {
      values: fields.values,
      plaintext: plaintext.slice(0, config.layout.length),
      wire: wire.slice(),
    },
  };
}
