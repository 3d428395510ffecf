/**
 * The sealed knock profile (spec: sealed.md): fields → plaintext → AES-256-GCM → wire = time ‖
 * random ‖ ciphertext ‖ tag → ports (the compat bit mapping), and back. Keys, key schedules and
 * the GHASH state of the associated data are computed once by `compileKnockConfig`.
 */
import { randomFillSync } from "node:crypto";
import type { GcmKey } from "./aes-gcm.ts";
import { createGcmKey, SEALED_TAG_LENGTH } from "./aes-gcm.ts";
import type { BitPadding } from "./bit-mapping.ts";
import { bytesToPorts, portCount, portsToBytesInto } from "./bit-mapping.ts";
import type { EncodeOptions, EncodedKnock, Knock } from "./compat.ts";
import { parseCipherName } from "./compat.ts";
import type { CodecIssue, DecodeCode } from "./errors.ts";
import { CodecError, quote } from "./errors.ts";
import type { KnockLayout, KnockValues } from "./knock-fields.ts";
import type { PortSpan } from "./port-span.ts";
import type { IpFamily } from "./sealed-fields.ts";
import {
  clientFamily,
  packSealedFields,
  sealedLayout,
  unpackSealedFields,
} from "./sealed-fields.ts";
import { parseSealedKey, SEALED_LABEL, sealedKeyId } from "./sealed-key.ts";

/** Bytes before the ciphertext: time (4, big-endian Unix seconds) ‖ random (6). */
const HEADER = 10;

/** One `<user NAME>` block: its name and its `key` (as text, or as the config's located text). */
export interface SealedUserInput {
  readonly name: string;
  readonly key: string | { readonly text: string };
}

/** The settings only the sealed profile reads (structurally a subset of the config package's). */
export interface SealedSettings {
  /** Extra scrypt salt for passphrase keys (default empty). */
  keysalt?: string | undefined;
  /** Per-user keys; `key` alone is the anonymous user `""`. A Map is read by its values. */
  users?:
    | ReadonlyArray<SealedUserInput>
    | ReadonlyMap<string, SealedUserInput>
    | undefined;
  /** The clock `encodeKnock` reads when no `timeSeconds` is given: epoch ms (default `Date.now`). */
  now?: (() => number) | undefined;
}

/** The wire of one CLIENT address family (or the only one when there is no CLIENT field). */
export interface SealedVariant {
  /** The CLIENT family this wire carries; undefined when the field list has no CLIENT. */
  readonly family: IpFamily | undefined;
  readonly layout: KnockLayout;
  /** Wire length in bytes: 10 + plaintext length + 8. */
  readonly wireLength: number;
  readonly portCount: number;
  /** @internal scratch buffer for allocation-free decoding. */
  readonly wire: Uint8Array;
}

/** @internal one key a knock may be sealed with. */
export interface SealedKeyEntry {
  /** The user name; `""` is the anonymous user of the top-level `key`. */
  readonly user: string;
  readonly keyId: string;
  readonly gcm: GcmKey;
}

/** A compiled sealed configuration. Treat as opaque; build it with `compileKnockConfig`. */
export interface SealedKnockConfig {
  readonly format: "sealed";
  /** The plaintext layout with an IPv4 CLIENT (or the only layout without CLIENT). */
  readonly layout: KnockLayout;
  readonly span: PortSpan;
  readonly padding: BitPadding;
  /** Always encrypted (for code that reads compat's fields). */
  readonly encrypt: true;
  readonly cipherName: "AES-256-GCM";
  /** No RandomIV header (the nonce is part of the wire). */
  readonly iv: false;
  /** No `ivvalue` (for code that reads compat's fields). */
  readonly fixedIv: undefined;
  /** Wire length in bytes with an IPv4 CLIENT (or the only one). */
  readonly wireLength: number;
  /** Ports per knock with an IPv4 CLIENT (or the only count); see `knockPortCounts`. */
  readonly portCount: number;
  /** IPv4 first, then IPv6 when the list has CLIENT. */
  readonly variants: readonly SealedVariant[];
  /** The user names, in the order keys are tried; `""` is the anonymous user. */
  readonly users: readonly string[];
  /** The associated data as text: `portknock/sealed/1:` + the field list. */
  readonly aadText: string;
  /** @internal the keys (never logged: they hold key material in closures). */
  readonly keys: readonly SealedKeyEntry[];
  /** @internal the clock for a default `timeSeconds`, epoch ms. */
  readonly now: () => number;
  /** @internal nonce scratch for decoding. */
  readonly nonce: Uint8Array;
}

/** The settings `compileSealed` reads. */
export interface SealedCompileInput extends SealedSettings {
  padding: BitPadding;
  key?: string | undefined;
  encrypt?: boolean | undefined;
  cipher?: string | undefined;
  iv?: boolean | undefined;
  ivvalue?: string | undefined;
}

type Push = (
  severity: CodecIssue["severity"],
  code: CodecIssue["code"],
  key: string,
  message: string,
  user?: string,
) => void;

/** Warns about compat-only settings that a sealed profile ignores (non-default values only). */
function warnIgnored(settings: SealedCompileInput, push: Push): void {
  const ignored = (key: string, what: string): void => {
    push(
      "warning",
      "SETTING_IGNORED",
      key,
      `${what} has no effect with format = sealed (always AES-256-GCM with a fresh nonce per knock)`,
    );
  };
  if (settings.encrypt === false) ignored("encrypt", "encrypt = no");
  const cipher = settings.cipher;
  if (cipher != null && parseCipherName(cipher) !== "Blowfish") {
    ignored("cipher", `cipher = ${quote(cipher)}`);
  }
  if (settings.iv === true) ignored("iv", "iv = yes");
  if (settings.ivvalue != null) ignored("ivvalue", "ivvalue");
}

/** The user blocks in order, from an array or from a map's values. */
function userList(users: SealedSettings["users"]): readonly SealedUserInput[] {
  if (users == null) return [];
  return isUserMap(users) ? [...users.values()] : users;
}

function isUserMap(
  users: ReadonlyArray<SealedUserInput> | ReadonlyMap<string, SealedUserInput>,
): users is ReadonlyMap<string, SealedUserInput> {
  return !Array.isArray(users);
}

/** The key texts by user: the top-level `key` as `""`, then each user block in order. */
function keyTexts(
  settings: SealedCompileInput,
  push: Push,
): Array<{ user: string; text: string }> {
  const out: Array<{ user: string; text: string }> = [];
  if (settings.key != null && settings.key !== "") {
    out.push({ user: "", text: settings.key });
  }
  const users = userList(settings.users);
  const seen = new Set<string>();
  for (const u of users) {
    const text = typeof u.key === "string" ? u.key : u.key.text;
    if (u.name === "") {
      push(
        "error",
        "USER_INVALID",
        "user",
        "a <user> block needs a name (the top-level key is the anonymous user)",
      );
    } else if (seen.has(u.name)) {
      push(
        "error",
        "USER_DUPLICATE",
        "user",
        `user ${quote(u.name)} is defined twice`,
        u.name,
      );
    } else if (text === "") {
      push(
        "error",
        "KEY_MISSING",
        "user",
        `user ${quote(u.name)} has no key`,
        u.name,
      );
    } else {
      out.push({ user: u.name, text });
    }
    seen.add(u.name);
  }
  return out;
}

/**
 * Compiles sealed settings whose layout and span already parsed (spec: sealed.md). Issues are
 * pushed onto `issues`; returns undefined when one of them is an error. Derives passphrase keys
 * with scrypt (about 0.1 s each), only when every other check passed.
 */
export function compileSealed(
  settings: SealedCompileInput,
  layout: KnockLayout,
  span: PortSpan,
  issues: CodecIssue[],
): SealedKnockConfig | undefined {
  const push: Push = (severity, code, key, message, user) => {
    issues.push(
      user == null
        ? { code, severity, key, message }
        : { code, severity, key, message, user },
    );
  };
  for (const f of layout.fields) {
    if (f.kind === "time" || f.kind === "checksum") {
      push(
        "error",
        "FIELDS_NOT_ALLOWED",
        "knock",
        `knock: ${f.name} is not allowed with format = sealed (${f.kind === "time" ? "the time is in the nonce" : "the tag replaces the checksum"})`,
      );
    }
  }
  warnIgnored(settings, push);
  const texts = keyTexts(settings, push);
  if (texts.length === 0 && !issues.some((i) => i.code === "KEY_MISSING")) {
    push(
      "error",
      "KEY_MISSING",
      "key",
      "format = sealed needs a key (base64:… from knock -genkey, or a passphrase) or <user NAME> blocks",
    );
  }
  const keysalt = settings.keysalt ?? "";
  const parsed = texts.map(({ user, text }) => {
    // Checking base64 keys is cheap; passphrases are derived below, once all else is valid.
    if (text.startsWith("base64:"))
      return { user, result: parseSealedKey(text) };
    return { user, result: undefined };
  });
  for (const { user, result } of parsed) {
    if (result?.ok === false) {
      const who = user === "" ? "key" : `user ${quote(user)}: key`;
      push(
        "error",
        result.code,
        user === "" ? "key" : "user",
        `${who}: ${result.message}`,
        user === "" ? undefined : user,
      );
    }
  }
  if (issues.some((i) => i.severity === "error")) return undefined;

  const aadText = `${SEALED_LABEL}:${layout.fields.map((f) => (f.kind === "ip" ? "CLIENT" : f.name)).join(",")}`;
  const aad = new TextEncoder().encode(aadText);
  const keys: SealedKeyEntry[] = [];
  const byId = new Map<string, string>();
  for (const [i, { user, text }] of texts.entries()) {
    const result = parsed[i]!.result ?? parseSealedKey(text, keysalt);
    if (!result.ok) return undefined; // reported above
    const keyId = sealedKeyId(result.key);
    const other = byId.get(keyId);
    if (other != null) {
      const name = (u: string): string =>
        u === "" ? "key" : `user ${quote(u)}`;
      push(
        "error",
        "KEY_DUPLICATE",
        user === "" ? "key" : "user",
        `${name(user)} has the same key as ${name(other)}: knocks could not tell them apart`,
        user === "" ? undefined : user,
      );
      continue;
    }
    byId.set(keyId, user);
    keys.push({ user, keyId, gcm: createGcmKey(result.key, aad) });
  }
  if (issues.some((i) => i.severity === "error")) return undefined;

  const hasClient = layout.fields.some((f) => f.kind === "ip");
  const families: Array<IpFamily | undefined> = hasClient
    ? [4, 6]
    : [undefined];
  const variants = families.map((family): SealedVariant => {
    const l = sealedLayout(layout, family ?? 4);
    const wireLength = HEADER + l.length + SEALED_TAG_LENGTH;
    return {
      family,
      layout: l,
      wireLength,
      portCount: portCount(wireLength, span.bitsPerPort),
      wire: new Uint8Array(wireLength),
    };
  });
  const first = variants[0]!;
  return {
    format: "sealed",
    layout: first.layout,
    span,
    padding: settings.padding,
    encrypt: true,
    cipherName: "AES-256-GCM",
    iv: false,
    fixedIv: undefined,
    wireLength: first.wireLength,
    portCount: first.portCount,
    variants,
    users: keys.map((k) => k.user),
    aadText,
    keys,
    now: settings.now ?? Date.now,
    nonce: new Uint8Array(12),
  };
}

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
  /** The identity of that key (see `sealedKeyId`), for the replay cache. */
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
