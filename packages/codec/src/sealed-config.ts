/**
 * Compiling the sealed profile (spec: sealed.md): field-list rules, keys (base64 or scrypt), the
 * per-key AES-GCM state and the wire of each CLIENT family, all computed once per configuration.
 */
import type { GcmKey } from "./aes-gcm.ts";
import { createGcmKey, SEALED_TAG_LENGTH } from "./aes-gcm.ts";
import type { BitPadding } from "./bit-mapping.ts";
import { portCount } from "./bit-mapping.ts";
import { parseCipherName } from "./compat.ts";
import type { CodecIssue } from "./errors.ts";
import { quoteValue as quote } from "@portknock/core";
import type { KnockLayout } from "./knock-fields.ts";
import type { PortSpan } from "./port-span.ts";
import type { IpFamily } from "./sealed-fields.ts";
import { sealedLayout } from "./sealed-fields.ts";
import type { SealedKeyResult } from "./sealed-key.ts";
import { parseSealedKey, SEALED_LABEL, sealedKeyId } from "./sealed-key.ts";

/** Bytes before the ciphertext: time (4, big-endian Unix seconds) ‖ random (6). */
export const SEALED_HEADER_LENGTH = 10;

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
export interface SealedFamilyLayout {
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
  readonly variants: readonly SealedFamilyLayout[];
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

/** Refuses TIME and CHECKSUM (sealed.md "Plaintext"), naming each. */
function checkFields(layout: KnockLayout, push: Push): void {
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
}

/** Where an issue about the key of `user` points: `key` for the anonymous user, else `user`. */
function keyWhere(user: string): { key: string; user?: string; name: string } {
  return user === ""
    ? { key: "key", name: "key" }
    : { key: "user", user, name: `user ${quote(user)}` };
}

/** Checks the base64 keys (cheap); passphrases stay undefined until everything else is valid. */
function checkBase64Keys(
  texts: ReadonlyArray<{ user: string; text: string }>,
  push: Push,
): Array<SealedKeyResult | undefined> {
  return texts.map(({ user, text }) => {
    if (!text.startsWith("base64:")) return undefined;
    const result = parseSealedKey(text);
    if (!result.ok) {
      const w = keyWhere(user);
      const who = user === "" ? "key" : `${w.name}: key`;
      push("error", result.code, w.key, `${who}: ${result.message}`, w.user);
    }
    return result;
  });
}

/** Derives the remaining (passphrase) keys and prepares each key's GCM state, in order. */
function prepareKeys(
  texts: ReadonlyArray<{ user: string; text: string }>,
  checked: ReadonlyArray<SealedKeyResult | undefined>,
  keysalt: string,
  aad: Uint8Array,
  push: Push,
): SealedKeyEntry[] {
  const keys: SealedKeyEntry[] = [];
  const byId = new Map<string, string>();
  texts.forEach(({ user, text }, i) => {
    const result = checked[i] ?? parseSealedKey(text, keysalt);
    if (!result.ok) return; // a base64 key, already reported
    const keyId = sealedKeyId(result.key);
    const other = byId.get(keyId);
    if (other != null) {
      const w = keyWhere(user);
      push(
        "error",
        "KEY_DUPLICATE",
        w.key,
        `${w.name} has the same key as ${keyWhere(other).name}: knocks could not tell them apart`,
        w.user,
      );
      return;
    }
    byId.set(keyId, user);
    keys.push({ user, keyId, gcm: createGcmKey(result.key, aad) });
  });
  return keys;
}

/** The wire of each CLIENT family: IPv4 then IPv6, or the only one without CLIENT. */
function sealedVariants(
  layout: KnockLayout,
  span: PortSpan,
): SealedFamilyLayout[] {
  const hasClient = layout.fields.some((f) => f.kind === "ip");
  const families: Array<IpFamily | undefined> = hasClient
    ? [4, 6]
    : [undefined];
  return families.map((family): SealedFamilyLayout => {
    const l = sealedLayout(layout, family ?? 4);
    const wireLength = SEALED_HEADER_LENGTH + l.length + SEALED_TAG_LENGTH;
    return {
      family,
      layout: l,
      wireLength,
      portCount: portCount(wireLength, span.bitsPerPort),
      wire: new Uint8Array(wireLength),
    };
  });
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
  const failed = (): boolean => issues.some((i) => i.severity === "error");
  checkFields(layout, push);
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
  const checked = checkBase64Keys(texts, push);
  if (failed()) return undefined;
  // spec: sealed.md "Wire bytes": associated data = label ":" field list (IP is CLIENT).
  const aadText = `${SEALED_LABEL}:${layout.fields.map((f) => (f.kind === "ip" ? "CLIENT" : f.name)).join(",")}`;
  const aad = new TextEncoder().encode(aadText);
  const keys = prepareKeys(texts, checked, settings.keysalt ?? "", aad, push);
  if (failed()) return undefined;
  const variants = sealedVariants(layout, span);
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
