/**
 * Codec error codes. Expected failures on the hot path are return values (`DecodeResult`);
 * exceptions are for misuse only: encoding values that do not fit their fields, or using an
 * invalid configuration (STYLE.md §5).
 */
import { PortknockError } from "@portknock/core";

/** Why a sequence of ports is not a valid knock (spec: knock-format.md §3–4, §1–2). */
export type DecodeCode =
  /** A port is not in the port span. */
  | "KNOCK_PORT_OUTSIDE_SPAN"
  /** The number of ports is not the one the configuration implies. */
  | "KNOCK_WRONG_LENGTH"
  /** The unused bits of the last port are not zero (right padding) or overflow (left padding). */
  | "KNOCK_BAD_BIT_PADDING"
  /** `iv = yes` but the wire does not start with `RandomIV`. */
  | "KNOCK_BAD_HEADER"
  /** Decryption gave an invalid PKCS#5 padding (wrong key, or not a knock). */
  | "KNOCK_BAD_PADDING"
  /** The CHECKSUM byte does not match. */
  | "KNOCK_BAD_CHECKSUM"
  /** A decoded field is out of range (MASK > 32). */
  | "KNOCK_BAD_FIELD"
  /** sealed: the authentication tag does not verify under any key. */
  | "KNOCK_BAD_TAG";

/** Codes of codec configuration findings (the config key is named in `CodecIssue.key`). */
export type CodecIssueCode =
  | "SPAN_SYNTAX"
  | "SPAN_PORT_RANGE"
  | "SPAN_DESCENDING"
  | "SPAN_OVERLAP"
  | "SPAN_SIZE"
  | "FIELDS_EMPTY"
  | "FIELDS_UNKNOWN"
  | "FIELDS_DUPLICATE"
  | "FIELDS_CHECKSUM_NOT_LAST"
  | "FIELDS_NOT_ALLOWED"
  | "CIPHER_UNKNOWN"
  | "KEY_MISSING"
  | "KEY_INVALID"
  | "KEY_DUPLICATE"
  | "USER_INVALID"
  | "USER_DUPLICATE"
  | "SETTING_IGNORED"
  | "IV_VALUE_INVALID"
  | "IV_VALUE_FIXED"
  | "IV_WITHOUT_ENCRYPT"
  | "FORMAT_UNKNOWN";

/** A finding about the knock settings, naming the config key it concerns. */
export interface CodecIssue {
  code: CodecIssueCode;
  severity: "error" | "warning";
  /** The config key the finding is about: `portspan`, `knock`, `cipher`, `key`, `ivvalue`, … */
  key: string;
  message: string;
  /** sealed: the `<user NAME>` block the finding is about (then `key` is `user`). */
  user?: string;
}

/** Codes of `CodecError`. */
export type CodecErrorCode = "CODEC_BAD_VALUE" | "CODEC_BAD_CONFIG";

/** Thrown on misuse of the codec: values that do not fit, an invalid configuration. */
export class CodecError extends PortknockError<CodecErrorCode> {
  override name = "CodecError";
  /** The knock field (e.g. `PORT`) or config key the error concerns. */
  readonly field: string | undefined;
  constructor(
    code: CodecErrorCode,
    message: string,
    field?: string,
    options?: ErrorOptions,
  ) {
    super(code, message, options);
    this.field = field;
  }
}
