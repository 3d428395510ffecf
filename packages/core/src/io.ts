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

/**
 * Makes a reader that goes away (`knockd -check | head -1`) end the output quietly: an `EPIPE`
 * on `io.stdout` or `io.stderr` stops further writes to that stream instead of crashing the
 * process with an unhandled `error` event. Other stream errors are left to their own handlers.
 * Idempotent per stream.
 */
export function quietBrokenPipe(io: Io): void {
  for (const stream of [io.stdout, io.stderr]) {
    if (QUIETED.has(stream)) continue;
    QUIETED.add(stream);
    stream.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code !== "EPIPE") throw error;
      // Nobody reads any more: what is still to be written has no reader.
      stream.write = (): boolean => true;
    });
  }
}

const QUIETED = new WeakSet<Writable>();
