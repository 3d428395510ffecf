/**
 * The one place an unexpected exception becomes output (STYLE.md §7): a line `knock: CODE:
 * message`, exit 1. Errors with a code of their own (`PortknockError`, `CodecError`, an errno
 * error) keep it; anything else is a bug, reported as `INTERNAL` with its stack and "please
 * report". `-debug` shows the stack of every error.
 */
import { InternalError } from "@portknock/core";
import type { Io } from "@portknock/core";
import { EXIT_RUNTIME } from "@portknock/core";

const REPORT_URL = "https://github.com/portknock/portknock/issues";
const CODE = /^[A-Z][A-Z0-9_]*$/;

/** The code of a known error, or undefined for one that signals a bug. */
function knownCode(e: unknown): string | undefined {
  if (e instanceof InternalError || !(e instanceof Error)) return undefined;
  const code = (e as { code?: unknown }).code;
  return typeof code === "string" && CODE.test(code) ? code : undefined;
}

/** Prints an exception caught by `main` and returns the exit code (1). */
export function reportFailure(e: unknown, io: Io, debug: boolean): number {
  const err = (text: string): void => void io.stderr.write(text + "\n");
  const code = knownCode(e);
  const message = e instanceof Error ? e.message : String(e);
  const stack = e instanceof Error ? e.stack : undefined;
  err(`knock: ${code ?? "INTERNAL"}: ${message}`);
  if (code == null) {
    if (stack) err(stack);
    err(`knock: this is a bug, please report it at ${REPORT_URL}`);
  } else if (debug && stack) {
    err(stack);
  }
  return EXIT_RUNTIME;
}
