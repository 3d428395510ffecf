/**
 * Opening a log file without trusting what is at its path (issue #16): a FIFO opened for
 * reading blocks (a libuv thread, or this thread) until a writer comes, and a device such as
 * `/dev/zero` reads without end. So the path is opened with `O_NONBLOCK` (a FIFO opens at once;
 * on a regular file the flag changes nothing) and the open descriptor is checked with `fstat`:
 * anything but a regular file is closed and refused with `LOG_NOT_REGULAR`.
 */
import type { BigIntStats, Stats } from "node:fs";
import { closeSync, constants, fstatSync, openSync } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import { open } from "node:fs/promises";
import { describeFileKind } from "@portknock/core";
import { LogSourceError } from "./errors.ts";

/** Flags of every log open: read only, never blocking on a FIFO (libuv adds O_CLOEXEC). */
export const OPEN_LOG_FLAGS: number = constants.O_RDONLY | constants.O_NONBLOCK;

/** The `LOG_NOT_REGULAR` error for `path`, which is `st`. */
export function notRegularError(
  path: string,
  st: Stats | BigIntStats,
): LogSourceError {
  return new LogSourceError(
    "LOG_NOT_REGULAR",
    `${JSON.stringify(path)} is ${describeFileKind(st)}, not a regular file: a log must be one`,
  );
}

/** Opens `path` (read only) if it is a regular file; else throws `LOG_NOT_REGULAR`. */
export function openRegularSync(path: string): number {
  const fd = openSync(path, OPEN_LOG_FLAGS);
  let st: BigIntStats;
  try {
    // bigint: Node's sync stats fill one shared array, which its `realpathSync` reads again
    // later; a FIFO's left there makes it cut the next `require`'s path short (module not found).
    st = fstatSync(fd, { bigint: true });
  } catch (error) {
    closeSync(fd);
    throw error;
  }
  if (st.isFile()) return fd;
  closeSync(fd);
  throw notRegularError(path, st);
}

/** `openRegularSync` on a libuv thread: a `FileHandle`, or `LOG_NOT_REGULAR`. */
export async function openRegular(path: string): Promise<FileHandle> {
  const handle = await open(path, OPEN_LOG_FLAGS);
  let st: Stats;
  try {
    st = await handle.stat();
  } catch (error) {
    await handle.close();
    throw error;
  }
  if (st.isFile()) return handle;
  await handle.close();
  throw notRegularError(path, st);
}
