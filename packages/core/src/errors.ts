/**
 * Exceptions: misuse and environment failures (STYLE.md §5). Bad input is a `Diagnostic` instead.
 */

/** Base class of every error thrown by portknock packages: a stable `code` and a message. */
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

/**
 * The messages of an error and its causes, at most 4, joined by `: ` for one log line
 * (`cannot write statefile …: ENOSPC: no space left on device, write`); "" when it is no `Error`.
 */
export function errorMessages(error: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = error, n = 0; e instanceof Error && n < 4; n++) {
    parts.push(e.message);
    e = e.cause;
  }
  return parts.join(": ");
}
