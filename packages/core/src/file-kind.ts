/**
 * What is at a path, in words, for the errors of the readers that accept regular files only (the
 * log follower and replay, knockd's environment check): a FIFO or a device must never be opened
 * blocking or read without end (issue #16).
 */
import type { BigIntStats, Stats } from "node:fs";

/** What a file is, in words: "a FIFO (named pipe)", "a directory", "a regular file", … */
export function describeFileKind(st: Stats | BigIntStats): string {
  if (st.isFIFO()) return "a FIFO (named pipe)";
  if (st.isCharacterDevice()) return "a character device";
  if (st.isBlockDevice()) return "a block device";
  if (st.isDirectory()) return "a directory";
  if (st.isSocket()) return "a socket";
  return st.isFile() ? "a regular file" : "not a regular file";
}
