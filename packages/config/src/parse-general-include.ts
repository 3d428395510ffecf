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
  /** The resolved path; also the identity used to detect cycles. */
  file: string;
}

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
  seen: Set<string>;
  files: string[];
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
  };
  readFile(r, file, text, [file]);
  return { chunks: r.chunks, diagnostics: r.diagnostics, files: r.files };
}

function readFile(
  r: Reader,
  file: string,
  text: string,
  stack: readonly string[],
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
  stack: readonly string[],
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
  } else if (stack.includes(result.file)) {
    const chain = [...stack, result.file].join(" → ");
    report("CONFIG_INCLUDE_CYCLE", `include cycle: ${chain}`);
  } else if (r.seen.has(result.file)) {
    report(
      "CONFIG_INCLUDE_REPEATED",
      `${quoteValue(result.file)} was already included; it is not read again`,
      "warning",
    );
  } else {
    r.seen.add(result.file);
    r.files.push(result.file);
    readFile(r, result.file, result.text, [...stack, result.file]);
  }
}
