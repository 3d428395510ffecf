/**
 * Reading a file and everything it includes (`<<include FILE>>`, relative to the including file)
 * into logical lines, detecting include cycles. Pure: files are read through a callback.
 */
import type { Diagnostic } from "@portknock/core";
import { quoteValue } from "@portknock/core";
import type { GeneralCode } from "./codes.ts";
import type { ConfigWhere } from "./types.ts";
import { makeSource } from "./source-text.ts";
import type { Chunk, LineSink } from "./parse-general-lines.ts";
import { readLogicalLines } from "./parse-general-lines.ts";

/** What the include callback returns: the included text and the path to report it under. */
export interface IncludedFile {
  text: string;
  /** The resolved path, for diagnostics (and the identity, when there is no `id`). */
  file: string;
  /** The file's identity for cycles and repeats (`dev:ino`): two paths to one file are one. */
  id?: string;
}

/** Most files one configuration may read, the main file included. */
export const MAX_INCLUDED_FILES: number = 256;
/** Deepest nesting of includes. */
export const MAX_INCLUDE_DEPTH: number = 16;
/** Most bytes all files of one configuration may hold together (16 MiB). */
export const MAX_TOTAL_CONFIG_BYTES: number = 16 * 1024 * 1024;

/** Resolves `<<include PATH>>` written in `fromFile`; an `Error` becomes a diagnostic. */
export type IncludeFn = (
  path: string,
  fromFile: string,
) => IncludedFile | Error;

/** The logical lines of a file and its includes, in reading order. */
export interface ReadResult {
  chunks: Chunk[];
  diagnostics: Diagnostic<GeneralCode>[];
  /** Every file read, the main file first. */
  files: string[];
}

interface Reader {
  include: IncludeFn | undefined;
  chunks: Chunk[];
  diagnostics: Diagnostic<GeneralCode>[];
  /** Identities of every file read. */
  seen: Set<string>;
  files: string[];
  bytes: number;
}

/**
 * Read `text` (named `file`) and everything it includes into logical lines. Never throws: every
 * problem is a diagnostic naming file and line.
 */
export function readChunks(
  text: string,
  file: string,
  include?: IncludeFn,
): ReadResult {
  const r: Reader = {
    include,
    chunks: [],
    diagnostics: [],
    seen: new Set([file]),
    files: [file],
    bytes: text.length,
  };
  readFile(r, file, text, [{ id: file, file }]);
  return { chunks: r.chunks, diagnostics: r.diagnostics, files: r.files };
}

/** A file being read: its identity and its path. */
interface Frame {
  id: string;
  file: string;
}

function readFile(
  r: Reader,
  file: string,
  text: string,
  stack: readonly Frame[],
): void {
  const sink: LineSink = {
    chunks: r.chunks,
    report: (code, where, message, severity = "error") =>
      r.diagnostics.push({ code, severity, message, where }),
    include: (path, where) => includeFile(r, file, stack, path, where),
  };
  readLogicalLines(makeSource(file, text), sink);
}

function includeFile(
  r: Reader,
  fromFile: string,
  stack: readonly Frame[],
  path: string,
  where: ConfigWhere,
): void {
  const report = (
    code: GeneralCode,
    message: string,
    severity: "error" | "warning" = "error",
  ): void => {
    r.diagnostics.push({ code, severity, message, where });
  };
  if (!r.include) {
    report(
      "CONFIG_INCLUDE_FAILED",
      `cannot include ${quoteValue(path)}: includes are not available here`,
    );
    return;
  }
  if (stack.length > MAX_INCLUDE_DEPTH) {
    report(
      "CONFIG_INCLUDE_LIMIT",
      `cannot include ${quoteValue(path)}: includes are nested more than ${MAX_INCLUDE_DEPTH} deep`,
    );
    return;
  }
  if (r.files.length >= MAX_INCLUDED_FILES) {
    report(
      "CONFIG_INCLUDE_LIMIT",
      `cannot include ${quoteValue(path)}: the configuration already reads ${MAX_INCLUDED_FILES} files`,
    );
    return;
  }
  let result: IncludedFile | Error;
  try {
    result = r.include(path, fromFile);
  } catch (cause) {
    result = cause instanceof Error ? cause : new Error(String(cause));
  }
  if (result instanceof Error) {
    report(
      "CONFIG_INCLUDE_FAILED",
      `cannot include ${quoteValue(path)}: ${result.message}`,
    );
    return;
  }
  const id = result.id ?? result.file;
  // The main file is known by its path only (its text came from the caller).
  if (stack.some((f) => f.id === id || f.file === result.file)) {
    const chain = [...stack.map((f) => f.file), result.file].join(" → ");
    report("CONFIG_INCLUDE_CYCLE", `include cycle: ${chain}`);
  } else if (r.seen.has(id) || r.files.includes(result.file)) {
    report(
      "CONFIG_INCLUDE_REPEATED",
      `${quoteValue(result.file)} was already included; it is not read again`,
      "warning",
    );
  } else if (r.bytes + result.text.length > MAX_TOTAL_CONFIG_BYTES) {
    report(
      "CONFIG_INCLUDE_LIMIT",
      `cannot include ${quoteValue(path)}: the configuration's files would hold more than ${MAX_TOTAL_CONFIG_BYTES} bytes`,
    );
  } else {
    r.seen.add(id);
    r.bytes += result.text.length;
    r.files.push(result.file);
    readFile(r, result.file, result.text, [
      ...stack,
      { id, file: result.file },
    ]);
  }
}
