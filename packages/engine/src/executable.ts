/**
 * Load-time check that a command's executable exists (spec: daemon.md §5: "a missing executable
 * is a load-time warning and a run-time error").
 */
import { accessSync, constants, statSync } from "node:fs";
import { delimiter, isAbsolute, join } from "node:path";

function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Why `file` would not run, or undefined when it would: a path (containing `/`) must be an
 * executable file; a bare name must be found as one in a directory of `pathVariable` (`PATH`).
 */
export function checkExecutable(
  file: string,
  pathVariable: string | undefined,
): string | undefined {
  if (file.includes("/")) {
    if (isExecutableFile(file)) return undefined;
    return isAbsolute(file)
      ? "does not exist or is not an executable file"
      : "does not exist or is not an executable file (relative to the daemon's working directory)";
  }
  const dirs = (pathVariable ?? "").split(delimiter).filter((d) => d !== "");
  if (dirs.some((dir) => isExecutableFile(join(dir, file)))) return undefined;
  return `is not an executable found on PATH (${dirs.join(delimiter) || "empty"})`;
}
