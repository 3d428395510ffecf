export type { CipherName, BlockCipher } from "./block-cipher.ts";
export { createBlowfish } from "./blowfish.ts";
export { createDes } from "./des.ts";
export { createIdea } from "./idea.ts";
export { cbcEncrypt, cbcDecryptInto, paddedLength } from "./cbc.ts";
export { deriveCompatKey } from "./key-derivation.ts";
export type { PortSpan, PortSpanResult } from "./port-span.ts";
export { parsePortSpan } from "./port-span.ts";
export type { BitPadding } from "./bit-mapping.ts";
export { bytesToPorts, portsToBytesInto, portCount } from "./bit-mapping.ts";
export type {
  FieldKind,
  FieldSpec,
  KnockLayout,
  KnockLayoutResult,
  KnockValues,
} from "./knock-fields.ts";
export { parseKnockFields, packFields, unpackFields } from "./knock-fields.ts";
export type {
  CompatKnockConfig,
  CompatSettings,
  EncodedKnock,
  EncodeOptions,
  Knock,
  DecodeResult,
} from "./compat.ts";
export {
  CIPHER_KEY_SIZE,
  RANDOM_IV_HEADER,
  parseCipherName,
  parseIvValue,
  compatWireLength,
} from "./compat.ts";
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
  knockPortCount,
  knockPortCounts,
} from "./knock-config.ts";
export type {
  SealedKnockConfig,
  SealedSettings,
  SealedUserInput,
  SealedVariant,
} from "./sealed-config.ts";
export type { SealedDecodeResult, SealedKnock } from "./sealed.ts";
export type { IpFamily } from "./sealed-fields.ts";
export type { SealedKeyResult } from "./sealed-key.ts";
export {
  deriveSealedKey,
  parseSealedKey,
  sealedKeyId,
  SEALED_LABEL,
} from "./sealed-key.ts";
export type { SealedWindowCode } from "./sealed-checks.ts";
export { checkSealedWindow, replayKey } from "./sealed-checks.ts";
export type {
  DecodeCode,
  CodecIssue,
  CodecIssueCode,
  CodecErrorCode,
} from "./errors.ts";
export { CodecError } from "./errors.ts";
