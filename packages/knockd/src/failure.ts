/**
 * The top-level error mapping of STYLE.md §7: an exception that escapes a command becomes one
 * line, `knockd: CODE: message`, and exit 1. An `InternalError` or an exception without a code
 * (a bug) also prints its stack and asks for a report; `-debug` prints every stack.
 */
import { EXIT_RUNTIME, InternalError } from "@portknock/core";
import type { Io } from "@portknock/core";
import { codeOf } from "./codes.ts";

/** Reports `error` on `io.stderr`; returns the exit code (1). */
export function reportFailure(error: unknown, io: Io, debug: boolean): number {
  const code = codeOf(error, "INTERNAL");
  const message = error instanceof Error ? error.message : String(error);
  io.stderr.write(`knockd: ${code}: ${message}\n`);
  const bug = error instanceof InternalError || code === "INTERNAL";
  if ((bug || debug) && error instanceof Error && error.stack != null) {
    io.stderr.write(`${error.stack}\n`);
  }
  if (bug) {
    io.stderr.write(
      "knockd: this is a bug: please report it with the lines above\n",
    );
  }
  return EXIT_RUNTIME;
}
