/**
 * The codec's entry points: compile settings once, then encode and decode knocks with them
 * (spec: knock-format.md for `format = compat`, sealed.md for `format = sealed`).
 */
import type {
  CompatKnockConfig,
  CompatSettings,
  DecodeResult,
  EncodeOptions,
  EncodedKnock,
} from "./compat.ts";
import { compileCompat, decodeCompat, encodeCompat } from "./compat.ts";
import type { CodecIssue } from "./errors.ts";
import { quoteValue as quote } from "@portknock/core";
import { CodecError } from "./errors.ts";
import type { KnockValues } from "./knock-fields.ts";
import { parseKnockFields } from "./knock-fields.ts";
import { parsePortSpan } from "./port-span.ts";
import type { SealedKnockConfig, SealedSettings } from "./sealed-config.ts";
import { compileSealed } from "./sealed-config.ts";
import type { SealedDecodeResult } from "./sealed.ts";
import { decodeSealed, encodeSealed } from "./sealed.ts";

/** Knock settings as the config file states them (config.md, knock-format.md, sealed.md). */
export interface KnockSettingsInput extends CompatSettings, SealedSettings {
  /** `compat` (default) or `sealed`. */
  format?: string | undefined;
}

/** A compiled knock configuration: pass it to `encodeKnock` and `decodeKnock`. */
export type KnockConfig = CompatKnockConfig | SealedKnockConfig;

/** Result of `compileKnockConfig`: the config (when there is no error) and every issue found. */
export interface CompileResult {
  config?: KnockConfig;
  issues: CodecIssue[];
}

/** Warns about sealed-only settings given to a compat profile. */
function warnSealedOnly(
  settings: KnockSettingsInput,
  issues: CodecIssue[],
): void {
  const users = settings.users;
  const count = users == null ? 0 : "size" in users ? users.size : users.length;
  const ignored = (key: string, what: string): void => {
    issues.push({
      code: "SETTING_IGNORED",
      severity: "warning",
      key,
      message: `${what} has no effect with format = compat (sealed.md only)`,
    });
  };
  if (settings.keysalt != null) ignored("keysalt", "keysalt");
  if (count > 0) ignored("user", "<user> blocks");
}

/**
 * Validates and compiles knock settings: parses the field list and port span, derives the keys
 * and expands their schedules, and precomputes lengths. Every problem is reported, each naming
 * its config key; warnings do not prevent compilation. `format = sealed` derives passphrase keys
 * with scrypt here (about 0.1 s each), never per knock.
 */
export function compileKnockConfig(
  settings: KnockSettingsInput,
): CompileResult {
  const issues: CodecIssue[] = [];
  const format = settings.format ?? "compat";
  if (format !== "compat" && format !== "sealed") {
    issues.push({
      code: "FORMAT_UNKNOWN",
      severity: "error",
      key: "format",
      message: `format must be compat or sealed, got ${quote(format)}`,
    });
  }
  const layout = parseKnockFields(settings.knock);
  if (!layout.ok) issues.push(...layout.issues);
  const span = parsePortSpan(settings.portspan);
  if (!span.ok) issues.push(...span.issues);
  if (!layout.ok || !span.ok || issues.length > 0) return { issues };
  let config: KnockConfig | undefined;
  if (format === "sealed") {
    config = compileSealed(settings, layout.layout, span.span, issues);
  } else {
    warnSealedOnly(settings, issues);
    config = compileCompat(settings, layout.layout, span.span, issues);
  }
  return config == null ? { issues } : { config, issues };
}

/** Like `compileKnockConfig`, but throws `CodecError` listing the errors. */
export function compileKnockConfigOrThrow(
  settings: KnockSettingsInput,
): KnockConfig {
  const { config, issues } = compileKnockConfig(settings);
  if (config == null) {
    const errors = issues.filter((i) => i.severity === "error");
    throw new CodecError(
      "CODEC_BAD_CONFIG",
      errors.map((i) => `${i.key}: ${i.code}: ${i.message}`).join("\n"),
      errors[0]?.key,
    );
  }
  return config;
}

/**
 * Encodes field values into a knock: `{plaintext, wire, ports}`. Throws `CodecError`
 * (`CODEC_BAD_VALUE`, with `field`) for a missing value or one that does not fit its field.
 * Compat reads `options.iv`; sealed reads `timeSeconds`, `random` and `user` (and takes CLIENT
 * as an IPv4 or IPv6 address).
 */
export function encodeKnock(
  config: KnockConfig,
  values: KnockValues,
  options?: EncodeOptions,
): EncodedKnock {
  return config.format === "sealed"
    ? encodeSealed(config, values, options)
    : encodeCompat(config, values, options);
}

/**
 * Decodes a port sequence into field values, or returns the reason it is not a valid knock.
 * Never throws, whatever the input. A sealed knock also says whose key sealed it, when, and its
 * random bytes; the daemon then checks the window, replays and the source (sealed.md).
 */
export function decodeKnock(
  config: SealedKnockConfig,
  ports: ArrayLike<number>,
): SealedDecodeResult;
export function decodeKnock(
  config: CompatKnockConfig,
  ports: ArrayLike<number>,
): DecodeResult;
export function decodeKnock(
  config: KnockConfig,
  ports: ArrayLike<number>,
): DecodeResult | SealedDecodeResult;
export function decodeKnock(
  config: KnockConfig,
  ports: ArrayLike<number>,
): DecodeResult | SealedDecodeResult {
  return config.format === "sealed"
    ? decodeSealed(config, ports)
    : decodeCompat(config, ports);
}

/**
 * Every port count a knock of this configuration can have, ascending: `[n]`, or for a sealed
 * profile with CLIENT `[n with IPv4, n with IPv6]` (the wire length depends on the family).
 */
export function knockPortCounts(config: KnockConfig): number[] {
  return config.format === "sealed"
    ? config.variants.map((v) => v.portCount)
    : [config.portCount];
}
