/**
 * Exceptions: misuse and environment failures (STYLE.md §5). Bad input is a Diagnostic instead.
 */
import type { Diagnostic } from "@portknock/core";
import { formatDiagnostic, PortknockError } from "@portknock/core";

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
