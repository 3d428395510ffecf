/**
 * Reading one config file without trusting what is at its path (#16): opened non-blocking (a FIFO
 * with no writer does not hang the process), checked with `fstat` on the open descriptor (no race
 * between the check and the read), refused unless it is a regular file, and read up to a size cap
 * (`<<include /dev/zero>>` or a runaway file cannot grow the process without end). Its identity is
 * the device and inode, so an include cycle through a symlink or `..` is still a cycle.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from "node:fs";
import type { Stats } from "node:fs";

/** Largest config file read, in bytes (4 MiB; a real one is a few KiB). */
export const MAX_CONFIG_FILE_BYTES: number = 4 * 1024 * 1024;

/** A file that was read: its text, its identity (`dev:ino`) and its permission bits. */
export interface ConfigFileText {
  text: string;
  id: string;
  /** `st_mode & 0o7777` of the open file. */
  mode: number;
}

/** Why a file was not read: the OS's code (`ENOENT`, …) or our own reason, and one sentence. */
export class ConfigFileError extends Error {
  override name = "ConfigFileError";
  readonly code: string;
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

function kindOf(st: Stats): string {
  if (st.isDirectory()) return "a directory";
  if (st.isFIFO()) return "a FIFO";
  if (st.isCharacterDevice()) return "a character device";
  if (st.isBlockDevice()) return "a block device";
  if (st.isSocket()) return "a socket";
  return "not a regular file";
}

/**
 * Reads the regular file at `path` (UTF-8). Throws `ConfigFileError`: the OS's code for an open
 * or read failure (message as Node gives it, `ENOENT: no such file or directory, open '…'`),
 * `ENOTREG` for anything but a regular file, `EFBIG` above `maxBytes`.
 */
export function readConfigFile(
  path: string,
  maxBytes: number = MAX_CONFIG_FILE_BYTES,
): ConfigFileText {
  let fd: number;
  try {
    fd = openSync(
      path,
      constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY,
    );
  } catch (cause) {
    throw asFileError(cause);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) {
      throw new ConfigFileError(
        "ENOTREG",
        `${path} is ${kindOf(st)}, not a regular file`,
      );
    }
    if (st.size > maxBytes) {
      throw new ConfigFileError(
        "EFBIG",
        `${path} is ${st.size} bytes, more than the ${maxBytes} a config file may have`,
      );
    }
    // Read to the end or the cap, not to st.size: the file may change while it is read.
    const chunks: Buffer[] = [];
    let length = 0;
    while (length <= maxBytes) {
      const chunk = Buffer.allocUnsafe(
        Math.min(64 * 1024, maxBytes + 1 - length),
      );
      let n: number;
      try {
        n = readSync(fd, chunk, 0, chunk.length, null);
      } catch (cause) {
        throw asFileError(cause);
      }
      if (n === 0) break;
      chunks.push(chunk.subarray(0, n));
      length += n;
    }
    if (length > maxBytes) {
      throw new ConfigFileError(
        "EFBIG",
        `${path} grew beyond the ${maxBytes} bytes a config file may have`,
      );
    }
    const buf = Buffer.concat(chunks, length);
    return {
      text: buf.toString("utf8", 0, length),
      id: `${st.dev}:${st.ino}`,
      mode: st.mode & 0o7777,
    };
  } finally {
    closeSync(fd);
  }
}

function asFileError(cause: unknown): ConfigFileError {
  if (cause instanceof ConfigFileError) return cause;
  const code = (cause as NodeJS.ErrnoException).code ?? "EIO";
  const message = cause instanceof Error ? cause.message : String(cause);
  return new ConfigFileError(code, message, { cause });
}
