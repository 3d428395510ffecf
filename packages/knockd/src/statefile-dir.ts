/**
 * The statefile's directory, checked before the daemon acts on anything (#15): a pending close that
 * cannot be written is a door left open, so a directory that is missing or not writable stops the
 * start with its path and the OS's reason. A missing directory whose parent exists is created,
 * mode 0700 (the statefile holds the sealed replay cache); `/var/lib/portknock` of the manual does
 * not exist on a fresh machine.
 */
import { accessSync, constants, mkdirSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";

/** Result of `prepareStatefileDir`. */
export type StatefileDirResult =
  | { ok: true; created: boolean; missing: boolean; dir: string }
  | { ok: false; dir: string; message: string };

/**
 * Makes sure the statefile's directory exists (creating it, unless `create` is false: then
 * `missing` says it would be) and is writable. Never throws.
 */
export function prepareStatefileDir(
  statefile: string,
  create = true,
): StatefileDirResult {
  const dir = dirname(resolve(statefile));
  let created = false;
  try {
    if (statSync(dir, { throwIfNoEntry: false }) === undefined) {
      if (statSync(dirname(dir), { throwIfNoEntry: false }) === undefined) {
        return {
          ok: false,
          dir,
          message: `the statefile's directory ${dir} does not exist, nor does its parent: create it (mode 0700) or choose another statefile`,
        };
      }
      if (!create) return { ok: true, created, missing: true, dir };
      mkdirSync(dir, { mode: 0o700 });
      created = true;
    }
    if (!statSync(dir).isDirectory()) {
      return { ok: false, dir, message: `${dir} is not a directory` };
    }
    accessSync(dir, constants.W_OK | constants.X_OK);
  } catch (error) {
    return {
      ok: false,
      dir,
      message: `the statefile's directory ${dir} cannot be used: ${(error as Error).message}`,
    };
  }
  return { ok: true, created, missing: false, dir };
}
