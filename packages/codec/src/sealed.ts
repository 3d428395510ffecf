/**
 * The sealed knock profile (spec: sealed.md): fields → plaintext → AES-256-GCM → wire = time ‖
 * random ‖ ciphertext ‖ tag → ports (the compat bit mapping), and back. Everything derivable from
 * the settings is computed once by `compileSealed` (sealed-config.ts).
 */
import { randomFillSync } from "node:crypto";
import { bytesToPorts, portsToBytesInto } from "./bit-mapping.ts";
import type { EncodeOptions, EncodedKnock, Knock } from "./compat.ts";
import type { DecodeCode } from "./errors.ts";
import { quoteValue as quote } from "@portknock/core";
import { CodecError } from "./errors.ts";
import type { KnockValues } from "./knock-fields.ts";
import type { SealedKeyEntry, SealedKnockConfig } from "./sealed-config.ts";
import { SEALED_HEADER_LENGTH as HEADER } from "./sealed-config.ts";
import {
  clientFamily,
  packSealedFields,
  unpackSealedFields,
} from "./sealed-fields.ts";

/** The key `encodeKnock` seals with: `user`, else the anonymous key, else the only user. */
function encodingKey(
  config: SealedKnockConfig,
  user: string | undefined,
): SealedKeyEntry {
  const keys = config.keys;
  const entry =
    user != null
      ? keys.find((k) => k.user === user)
      : (keys.find((k) => k.user === "") ??
        (keys.length === 1 ? keys[0] : undefined));
  if (entry == null) {
    throw new CodecError(
      "CODEC_BAD_VALUE",
      user != null
        ? `no user ${quote(user)} in this configuration`
        : `this configuration has ${keys.length} users and no anonymous key: say which user knocks`,
      "user",
    );
  }
  return entry;
}

/**
 * Encodes sealed knock values (sealed.md "Wire bytes"). Throws `CodecError` (`CODEC_BAD_VALUE`,
 * naming the field or option) for a missing or out-of-range value, a `timeSeconds` that is not
 * an integer in 0 … 2³²−1, a `random` that is not 6 bytes, or an unknown `user`.
 */
export function encodeSealed(
  config: SealedKnockConfig,
  values: KnockValues,
  options: EncodeOptions = {},
): EncodedKnock {
  const key = encodingKey(config, options.user);
  const timeSeconds = options.timeSeconds ?? Math.floor(config.now() / 1000);
  if (
    !Number.isInteger(timeSeconds) ||
    timeSeconds < 0 ||
    timeSeconds > 0xffffffff
  ) {
    throw new CodecError(
      "CODEC_BAD_VALUE",
      `timeSeconds must be an integer from 0 to 4294967295, got ${quote(String(timeSeconds))}`,
      "timeSeconds",
    );
  }
  const random = options.random ?? randomFillSync(new Uint8Array(6));
  if (random.length !== 6) {
    throw new CodecError(
      "CODEC_BAD_VALUE",
      `random must be 6 bytes, got ${random.length}`,
      "random",
    );
  }
  const family = clientFamily(config.layout, values);
  const variant =
    config.variants.find((v) => v.family === family) ?? config.variants[0]!;
  const plaintext = packSealedFields(variant.layout, values);
  const nonce = new Uint8Array(12);
  new DataView(nonce.buffer).setUint32(0, timeSeconds);
  nonce.set(random, 4);
  const sealed = key.gcm.seal(nonce, plaintext);
  const wire = new Uint8Array(HEADER + sealed.length);
  wire.set(nonce.subarray(0, HEADER));
  wire.set(sealed, HEADER);
  return {
    plaintext,
    wire,
    ports: bytesToPorts(wire, config.span, config.padding),
  };
}

/** A decoded sealed knock: the compat fields plus who sealed it, when, and its random bytes. */
export interface SealedKnock extends Knock {
  /** The user whose key verified the tag; `""` is the anonymous user (top-level `key`). */
  user: string;
  /** A short public identity of that key (16 hex digits of a hash, never the key), for the replay cache. */
  keyId: string;
  /** The client's clock when it knocked, Unix seconds (check it with `checkSealedWindow`). */
  timeSeconds: number;
  /** The 6 random bytes of the nonce. */
  nonce: Uint8Array;
}

/** Result of decoding a sealed knock. */
export type SealedDecodeResult =
  { ok: true; knock: SealedKnock } | { ok: false; code: DecodeCode };

/**
 * Decodes a sealed port sequence: the length picks the CLIENT family, each key is tried in turn.
 * Never throws for any input. Does not check the time window, replays or the source: those are
 * the daemon's checks (sealed.md "Daemon checks" 2–4; see `checkSealedWindow`, `replayKey`).
 */
export function decodeSealed(
  config: SealedKnockConfig,
  ports: ArrayLike<number>,
): SealedDecodeResult {
  const variants = config.variants;
  const variant =
    variants[0]!.portCount === ports.length
      ? variants[0]!
      : variants[1]?.portCount === ports.length
        ? variants[1]
        : undefined;
  if (variant == null) return { ok: false, code: "KNOCK_WRONG_LENGTH" };
  const wire = variant.wire;
  const mapped = portsToBytesInto(
    ports,
    0,
    ports.length,
    config.span,
    config.padding,
    variant.wireLength,
    wire,
  );
  if (mapped !== 0) return { ok: false, code: mapped };
  const nonce = config.nonce;
  nonce.set(wire.subarray(0, HEADER));
  let plain: Uint8Array | undefined;
  let key: SealedKeyEntry | undefined;
  for (const k of config.keys) {
    plain = k.gcm.open(nonce, wire, HEADER, variant.wireLength);
    if (plain != null) {
      key = k;
      break;
    }
  }
  if (plain == null || key == null) return { ok: false, code: "KNOCK_BAD_TAG" };
  const fields = unpackSealedFields(variant.layout, plain);
  if (!fields.ok) return fields;
  return {
    ok: true,
    knock: {
      values: fields.values,
      plaintext: plain.slice(),
      wire: wire.slice(),
      user: key.user,
      keyId: key.keyId,
      timeSeconds: new DataView(wire.buffer, wire.byteOffset).getUint32(0),
      nonce: wire.slice(4, HEADER),
    },
  };
}
