/**
 * inotify for a followed log (`fs.watch`): a change to the file wakes the follower at once
 * instead of at its next poll. Two watches: the directory (the file created, renamed, deleted, and
 * written: inotify reports writes to the files of a watched directory, filtered here to the
 * file's name) and the file itself (writes through a symbolic link, whose directory is another
 * one). Events only wake; what changed is always found by the follower's own check, so a missed,
 * merged or spurious event costs at most one poll interval, never a line.
 */
import type { FSWatcher } from "node:fs";
import { watch } from "node:fs";
import { basename, dirname } from "node:path";

/** The watches of one followed file. */
export interface LogWatch {
  /** Watches the file itself again (after it was re-created or replaced); no-op once failed. */
  rewatchFile(): void;
  /** Closes every watch (idempotent). */
  close(): void;
}

function codeOf(error: unknown): unknown {
  return typeof error === "object" && error !== null && "code" in error
    ? error.code
    : undefined;
}

/**
 * Watches `path`: `onChange` is called on every event that may concern it. When a watch cannot
 * be set (the directory is missing, ENOSPC: the inotify limit, …) or fails later, every watch is
 * closed and `onError` is called, once: the caller goes on polling. The file missing is not an
 * error (its directory's watch sees it appear; call `rewatchFile` then).
 */
export function watchLog(
  path: string,
  onChange: () => void,
  onError: (error: unknown) => void,
): LogWatch {
  const name = basename(path);
  let dirWatch: FSWatcher | undefined;
  let fileWatch: FSWatcher | undefined;
  let closed = false;

  const close = (): void => {
    closed = true;
    dirWatch?.close();
    fileWatch?.close();
    dirWatch = undefined;
    fileWatch = undefined;
  };
  const fail = (error: unknown): void => {
    if (closed) return;
    close();
    onError(error);
  };
  const closeFileWatch = (): void => {
    fileWatch?.close();
    fileWatch = undefined;
  };
  const rewatchFile = (): void => {
    if (closed) return;
    closeFileWatch();
    try {
      const w = watch(path, { persistent: false }, (event) => {
        // Moved away or deleted: this watch follows the old file, which is not `path` any more.
        if (event === "rename" && fileWatch === w) closeFileWatch();
        onChange();
      });
      w.on("error", fail);
      fileWatch = w;
    } catch (error) {
      if (codeOf(error) !== "ENOENT") fail(error);
    }
  };

  try {
    dirWatch = watch(dirname(path), { persistent: false }, (_, file) => {
      if (file === null || file === name) onChange();
    });
    dirWatch.on("error", fail);
  } catch (error) {
    fail(error);
  }
  rewatchFile();
  return { rewatchFile, close };
}
