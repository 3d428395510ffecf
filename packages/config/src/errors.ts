/**
 * Exceptions: misuse and environment failures (STYLE.md §5). Bad input is a Diagnostic instead.
 */
import type { Diagnostic } from "./diagnostics.ts";
import { formatDiagnostic } from "./diagnostics.ts";

/** Base class of every error thrown by portknock packages. */
export class PortknockError<C extends string = string> extends Error {
  override name = "PortknockError";
  readonly code: C;
  constructor(code: C, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

/** A broken invariant: a bug, please report. */
export class InternalError extends PortknockError<"INTERNAL"> {
  override name = "InternalError";
  constructor(message: string, options?: ErrorOptions) {
    super("INTERNAL", message, options);
  }
}

/** Thrown by `parseConfigOrThrow`/`loadConfigOrThrow`: carries every diagnostic of the file. */
export class ConfigError extends PortknockError<
  "CONFIG_INVALID" | "CONFIG_NOT_FOUND"
> {
  override name = "ConfigError";
  readonly diagnostics: readonly Diagnostic[];
  constructor(
    code: "CONFIG_INVALID" | "CONFIG_NOT_FOUND",
    diagnostics: readonly Diagnostic[],
    options?: ErrorOptions,
  ) {
    super(
      code,
      diagnostics.length > 0
        ? diagnostics.map((d) => formatDiagnostic(d)).join("\n")
        : code,
      options,
    );
    this.diagnostics = diagnostics;
  }
}
