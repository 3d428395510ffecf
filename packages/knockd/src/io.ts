import type { Writable } from "node:stream";

/** What a CLI's `main` reads and writes (STYLE.md §7). */
export interface Io {
  stdout: Writable;
  stderr: Writable;
  env: NodeJS.ProcessEnv;
}

/** Exit codes: 0 ok, 1 runtime failure, 2 usage or config error. */
export const EXIT_OK = 0;
export const EXIT_RUNTIME = 1;
export const EXIT_USAGE = 2;
