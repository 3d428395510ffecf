/**
 * Whether a command's executable would start, checked without running it (spec: daemon.md §5: "a
 * missing executable is a load-time warning and a run-time error"). The lookup is the one
 * `spawnRunner` gets from `child_process.spawn` (libuv → the C library's `execvp`): a name with a
 * `/` is a path (relative to the working directory); a bare name is searched in each directory
 * of `PATH`, an empty entry meaning the working directory.
 */
import { accessSync, constants, statSync } from "node:fs";
import { delimiter, isAbsolute, join } from "node:path";

/** glibc's `execvp` searches this when `PATH` is not set (`confstr(_CS_PATH)`). */
const DEFAULT_PATH = "/bin:/usr/bin";

/** Why an executable would not start. */
export interface ExecutableProblem {
  /**
   * `missing`: nothing by that name (`ENOENT`, `ENOTDIR`); `not-executable`: something is there
   * but it is not an executable regular file (a directory, no execute bit, `EACCES`). A spawn
   * would fail with `ENOENT` or `EACCES` respectively.
   */
  reason: "missing" | "not-executable";
  /** What is wrong, with the OS error code: completes a sentence that starts with the name. */
  message: string;
}

type Probe =
  | { ok: true }
  | { ok: false; reason: ExecutableProblem["reason"]; why: string };

/** Whether `path` would start; `why` names what is there, with the errno a spawn would get. */
function probe(path: string): Probe {
  try {
    const st = statSync(path);
    if (!st.isFile()) {
      const what = st.isDirectory() ? "a directory" : "not a regular file";
      return { ok: false, reason: "not-executable", why: `${what} (EACCES)` };
    }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "ERROR";
    if (code === "ENOENT" || code === "ENOTDIR")
      return { ok: false, reason: "missing", why: code };
    const why =
      code === "EACCES"
        ? "behind a directory it may not search (EACCES)"
        : code;
    return { ok: false, reason: "not-executable", why };
  }
  try {
    accessSync(path, constants.X_OK);
    return { ok: true };
  } catch {
    return {
      ok: false,
      reason: "not-executable",
      why: "a file without execute permission (EACCES)",
    };
  }
}

/**
 * Why `file` would not start, or undefined when it would. A path (containing `/`) must be an
 * executable regular file; a bare name must be one in a directory of `pathVariable` (`PATH`;
 * when undefined, glibc's default `/bin:/usr/bin`). Never throws.
 */
export function checkExecutable(
  file: string,
  pathVariable: string | undefined,
): ExecutableProblem | undefined {
  if (file.includes("/")) {
    const p = probe(file);
    if (p.ok) return undefined;
    const where = isAbsolute(file)
      ? ""
      : " (relative to the daemon's working directory)";
    return {
      reason: p.reason,
      message:
        p.reason === "missing"
          ? `does not exist${where} (${p.why})`
          : `is not an executable file${where}: ${p.why}`,
    };
  }
  const path = pathVariable ?? DEFAULT_PATH;
  let blocked: string | undefined;
  for (const entry of path.split(delimiter)) {
    const candidate = join(entry === "" ? "." : entry, file);
    const p = probe(candidate);
    if (p.ok) return undefined;
    // execvp goes on after EACCES, and fails with it at the end if nothing else starts.
    if (p.reason === "not-executable") blocked ??= `${candidate} is ${p.why}`;
  }
  return blocked != null
    ? {
        reason: "not-executable",
        message: `is not an executable file on PATH: ${blocked}`,
      }
    : {
        reason: "missing",
        message: `is not found on PATH (${path === "" ? "empty" : path}) (ENOENT)`,
      };
}
