/**
 * What a CLI's `main` reads and writes (STYLE.md §7), and its exit codes.
 */
import type { Writable } from "node:stream";

/** The streams and environment a CLI's `main` uses instead of `process`. */
export interface Io {
  stdout: Writable;
  stderr: Writable;
  env: NodeJS.ProcessEnv;
}

/** Exit code: success. */
export const EXIT_OK = 0;
/** Exit code: a runtime failure (start-up, environment, internal error). */
export const EXIT_RUNTIME = 1;
/** Exit code: a usage or configuration error. */
export const EXIT_USAGE = 2;
