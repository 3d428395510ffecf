/**
 * `logcommand` split into an argv once at start-up (spec: config.md; the same rules as `system`
 * commands in daemon.md §5, implemented once by `splitCommandLine` of `@portknock/core`). Pure.
 */
import type { ConfigWhere } from "@portknock/config";
import type { CommandLineFault, Diagnostic } from "@portknock/core";
import { splitCommandLine } from "@portknock/core";
import type { CommandCode } from "./errors.ts";

/** Result of `parseLogCommand`: the argv when there is no error, and every finding. */
export interface ParseLogCommandResult {
  argv?: string[];
  diagnostics: Diagnostic<CommandCode>[];
}

const CODES: Readonly<Record<CommandLineFault, CommandCode>> = {
  METACHAR: "LOG_COMMAND_METACHAR",
  QUOTE: "LOG_COMMAND_QUOTE",
  EMPTY: "LOG_COMMAND_EMPTY",
};

const NOWHERE: ConfigWhere = { kind: "config", file: "<logcommand>", line: 0 };

/**
 * Splits a `logcommand` value into an argv. Never throws: a shell metacharacter outside quotes
 * (`LOG_COMMAND_METACHAR`, naming it), an unclosed quote (`LOG_COMMAND_QUOTE`) and an empty line
 * (`LOG_COMMAND_EMPTY`) are error diagnostics at `where` (its column moved to the character when
 * `where` has one).
 */
export function parseLogCommand(
  text: string,
  where: ConfigWhere = NOWHERE,
): ParseLogCommandResult {
  const split = splitCommandLine(text);
  if (split.ok) return { argv: split.words, diagnostics: [] };
  return {
    diagnostics: [
      {
        code: CODES[split.fault],
        severity: "error",
        message: `logcommand: ${split.message}`,
        where:
          where.column === undefined
            ? where
            : { ...where, column: where.column + split.offset },
      },
    ],
  };
}
