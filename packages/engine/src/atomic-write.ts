/**
 * Atomic file replacement (STYLE.md §6): write a temp file in the same directory, fsync it,
 * rename it over the target, fsync the directory. A crash at any moment leaves either the old
 * file or the new one, never a mix. The temp file is removed when anything fails.
 */
import { randomBytes } from "node:crypto";
import { open, readdir, rename, stat, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

/** Mode of a new statefile: state names client addresses, so it is private. */
export const DEFAULT_FILE_MODE = 0o600;

/** The prefix of `path`'s temp files. */
export function tempPrefix(path: string): string {
  return `.${basename(path)}.tmp-`;
}

/**
 * Replaces `path` with `text` atomically. Keeps the mode of an existing file (a new one gets
 * `DEFAULT_FILE_MODE`). Rejects with the underlying error after removing the temp file.
 */
export async function writeFileAtomic(
  path: string,
  text: string,
): Promise<void> {
  const dir = dirname(path);
  const tmp = join(
    dir,
    `${tempPrefix(path)}${process.pid}-${randomBytes(4).toString("hex")}`,
  );
  const mode = await currentMode(path);
  const handle = await open(tmp, "wx", mode);
  let closed = false;
  try {
    await handle.chmod(mode); // open() applied the umask; keep the mode exactly
    await handle.writeFile(text, "utf8");
    await handle.sync();
    closed = true;
    await handle.close();
    await rename(tmp, path);
  } catch (error) {
    if (!closed) await handle.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw error;
  }
  await syncDirectory(dir);
}

async function currentMode(path: string): Promise<number> {
  try {
    return (await stat(path)).mode & 0o7777;
  } catch {
    return DEFAULT_FILE_MODE;
  }
}

async function syncDirectory(dir: string): Promise<void> {
  // Makes the rename itself durable; some filesystems refuse fsync on a directory.
  try {
    const d = await open(dir, "r");
    try {
      await d.sync();
    } finally {
      await d.close();
    }
  } catch {
    // best effort
  }
}

/** Removes temp files a crashed writer left next to `path`; returns how many. */
export async function removeStaleTempFiles(path: string): Promise<number> {
  const prefix = tempPrefix(path);
  let removed = 0;
  let names: string[];
  try {
    names = await readdir(dirname(path));
  } catch {
    return 0;
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    try {
      await unlink(join(dirname(path), name));
      removed++;
    } catch {
      // already gone
    }
  }
  return removed;
}
