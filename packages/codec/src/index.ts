/**
 * `@portknock/codec`: the knock formats (spec: knock-format.md, sealed.md): compile the knock
 * settings once, then encode field values into a port sequence and decode ports back. Pure, no
 * I/O. The documentation of each export is at its definition.
 */
export type {
  KnockSettingsInput,
  KnockConfig,
  CompileResult,
} from "./knock-config.ts";
export {
  compileKnockConfig,
  compileKnockConfigOrThrow,
  encodeKnock,
  decodeKnock,
  knockPortCounts,
} from "./knock-config.ts";
export type { CompatKnockConfig } from "./compat.ts";
export type { SealedKnockConfig } from "./sealed-config.ts";
export type {
  EncodedKnock,
  EncodeOptions,
  Knock,
  DecodeResult,
} from "./compat.ts";
export type { SealedDecodeResult, SealedKnock } from "./sealed.ts";
export type {
  FieldKind,
  FieldSpec,
  KnockLayout,
  ParseKnockFieldsResult,
  KnockValues,
} from "./knock-fields.ts";
export { parseKnockFields } from "./knock-fields.ts";
export type { SealedWindowCode } from "./sealed-checks.ts";
export { checkSealedWindow, replayKey } from "./sealed-checks.ts";
export { generateSealedKey } from "./sealed-key.ts";
export type {
  DecodeCode,
  CodecIssue,
  CodecIssueCode,
  CodecErrorCode,
} from "./errors.ts";
export { CodecError } from "./errors.ts";
