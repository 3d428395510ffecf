/**
 * The codec's entry points: compile settings once, then encode and decode knocks with them
 * (spec: knock-format.md; sealed.md is a second profile behind the same calls).
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
import { CodecError, quote } from "./errors.ts";
import type { KnockValues } from "./knock-fields.ts";
import { parseKnockFields } from "./knock-fields.ts";
import { parsePortSpan } from "./port-span.ts";

/** Knock settings as the config file states them (config.md, knock-format.md). */
export interface KnockSettingsInput extends CompatSettings {
  /** `compat` (default) or `sealed`. */
  format?: string | undefined;
}

/** A compiled knock configuration: pass it to `encodeKnock` and `decodeKnock`. */
export type KnockConfig = CompatKnockConfig;

/** Result of `compileKnockConfig`: the config (when there is no error) and every issue found. */
export interface CompileResult {
  config?: KnockConfig;
  issues: CodecIssue[];
}

/**
 * Validates and compiles knock settings: parses the field list and port span, derives the key and
 * expands its schedule, and precomputes lengths. Every problem is reported, each naming its config
 * key; warnings do not prevent compilation.
 */
export function compileKnockConfig(
  settings: KnockSettingsInput,
): CompileResult {
  const issues: CodecIssue[] = [];
  const format = settings.format ?? "compat";
  if (format !== "compat") {
    issues.push({
      code: "FORMAT_UNKNOWN",
      severity: "error",
      key: "format",
      message:
        format === "sealed"
          ? "format = sealed is not available in this version of the codec"
          : `format must be compat or sealed, got ${quote(format)}`,
    });
  }
  const layout = parseKnockFields(settings.knock);
  if (!layout.ok) issues.push(...layout.issues);
  const span = parsePortSpan(settings.portspan);
  if (!span.ok) issues.push(...span.issues);
  if (!layout.ok || !span.ok || issues.length > 0) return { issues };
  const config = compileCompat(settings, layout.layout, span.span, issues);
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
 */
export function encodeKnock(
  config: KnockConfig,
  values: KnockValues,
  options?: EncodeOptions,
): EncodedKnock {
  return encodeCompat(config, values, options);
}

/**
 * Decodes a port sequence into field values, or returns the reason it is not a valid knock.
 * Never throws, whatever the input.
 */
export function decodeKnock(
  config: KnockConfig,
  ports: ArrayLike<number>,
): DecodeResult {
  return decodeCompat(config, ports);
}

/** Ports per knock for this configuration. */
export function knockPortCount(config: KnockConfig): number {
  return config.portCount;
}
