/**
 * Only regular files for `@logdna/tail-file` (issue #16). It opens the path by name (a handle for
 * a rotation's rest, then a read stream at each change), with plain `open`: a FIFO put at the
 * path blocks a libuv thread until a writer comes (four of them and every file operation of the
 * process waits, SIGTERM's included), and a device reads without end. Three guards, on the
 * instance (the version is pinned, 4.0.2; a test holds it, as for `poll-now.ts`):
 * - each check first stats the path: not a regular file, it is refused (`refuse`) and checked
 *   again after the interval, the library's check not run (what was read stays read; the rest of
 *   a renamed file is read when a regular file is back);
 * - its `_openFile` opens with `O_NONBLOCK` and checks the descriptor (`openRegular`): a file
 *   swapped after the stat is refused as if missing (`ENOENT`: the library retries);
 * - its read stream opens the same way (`readStreamFs`): refused, the read fails and is retried.
 */
import type TailFile from "@logdna/tail-file";
import type { BigIntStats, Stats } from "node:fs";
import { close, fstat, open, read } from "node:fs";
import { stat } from "node:fs/promises";
import { describeFileKind } from "@portknock/core";
import { OPEN_LOG_FLAGS, openRegular } from "./open-regular.ts";
import { LogSourceError } from "./errors.ts";

interface TailInternals {
  _pollFileForChanges(): Promise<void>;
  _scheduleTimer(ms: number): void;
  _openFile(): Promise<void>;
}

function hasInternals(tail: object): tail is TailInternals {
  const t = tail as Partial<TailInternals>;
  return (
    typeof t._pollFileForChanges === "function" &&
    typeof t._scheduleTimer === "function" &&
    typeof t._openFile === "function"
  );
}

/** Called with what the path is, each time a non-regular file is refused. */
export type RefuseFile = (kind: string) => void;

/** A refusal the library takes for a missing file (it retries), with our reason in it. */
function missing(
  path: string,
  st: Stats | BigIntStats,
  refuse: RefuseFile,
): Error {
  const kind = describeFileKind(st);
  refuse(kind);
  const error = new LogSourceError(
    "LOG_NOT_REGULAR",
    `${JSON.stringify(path)} is ${kind}, not a regular file`,
  );
  return Object.assign(error, { code: "ENOENT" });
}

/**
 * The `fs` of tail-file's read streams (`readStreamOpts.fs`): `open` with `O_NONBLOCK`, then a
 * descriptor that is not a regular file is closed and the open fails.
 */
export function readStreamFs(
  path: string,
  refuse: RefuseFile,
): {
  open: typeof open;
  read: typeof read;
  close: typeof close;
} {
  const guarded = ((
    file: string,
    _flags: unknown,
    _mode: unknown,
    cb: (err: NodeJS.ErrnoException | null, fd: number) => void,
  ): void => {
    open(file, OPEN_LOG_FLAGS, (error, fd) => {
      if (error) return cb(error, -1);
      fstat(fd, { bigint: true }, (e, st) => {
        if (!e && st.isFile()) return cb(null, fd);
        close(fd, () => cb(e ?? missing(path, st, refuse), -1));
      });
    });
  }) as unknown as typeof open;
  return { open: guarded, read, close };
}

/**
 * Guards `tail` (call before `addPollNow` and `tail.start()`): see the file's comment. False when
 * this TailFile lacks the internals (then only its read stream is guarded).
 */
export function guardRegular(
  tail: TailFile,
  path: string,
  retryMs: number,
  refuse: RefuseFile,
): boolean {
  const handleKey = Object.getOwnPropertySymbols(tail).find(
    (s) => s.description === "fileHandle",
  );
  if (!hasInternals(tail) || handleKey === undefined) return false;
  const poll = tail._pollFileForChanges.bind(tail);
  tail._pollFileForChanges = async (): Promise<void> => {
    const st = await stat(path).catch(() => undefined); // missing: the library's business
    if (st === undefined || st.isFile()) return poll();
    refuse(describeFileKind(st));
    tail._scheduleTimer(retryMs);
  };
  tail._openFile = async (): Promise<void> => {
    try {
      (tail as unknown as Record<symbol, unknown>)[handleKey] =
        await openRegular(path);
    } catch (error) {
      if (!(error instanceof LogSourceError)) throw error;
      const st = await stat(path).catch(() => undefined);
      throw st === undefined ? error : missing(path, st, refuse);
    }
  };
  return true;
}
