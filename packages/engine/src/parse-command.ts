/**
 * `system` command lines (spec: daemon.md §5): split into words once at load, with no shell.
 * Pure. Double and single quotes group (and may join with adjacent text: `--x="a b"` is one word);
 * inside double quotes `\"` and `\\` are escapes, inside single quotes nothing is. Outside quotes,
 * `| ; & $ \` > < \` are refused: no shell runs, so they would reach the program literally.
 * Each word is then cut into literal text and whole-word variable references (a "word" character
 * is `A-Z a-z 0-9 _`, as in Perl's `\b`): `IP/32` holds `IP`, `IPX` and `MYIP` do not.
 */
import type { CommandLineFault, Diagnostic } from "@portknock/core";
import { splitCommandLine } from "@portknock/core";
import type { LoadCode } from "./errors.ts";
import type { ParseOptions } from "./parse-condition.ts";
import { NOWHERE, whereAt } from "./parser-state.ts";
import { isFieldName } from "./variables.ts";

/** A piece of a command word: literal text or a variable to substitute. */
export type CommandPart =
  { kind: "text"; text: string } | { kind: "var"; name: string };

/** One argv word as a list of parts (joined after substitution). */
export type CommandWord = CommandPart[];

/** The load code of each fault `splitCommandLine` (of `@portknock/core`) reports. */
const FAULT_CODES: Readonly<Record<CommandLineFault, LoadCode>> = {
  METACHAR: "ENGINE_COMMAND_METACHAR",
  QUOTE: "ENGINE_COMMAND_QUOTE",
  EMPTY: "ENGINE_COMMAND_EMPTY",
};

/** Result of `parseCommand`. */
export interface ParseCommandResult {
  words?: CommandWord[];
  diagnostics: Diagnostic[];
}

/**
 * Parses a `system` command line into words with variable parts. A whole-word name of a knock
 * field this knock format lacks (`FLAG1` without FLAG1) is left literal with a warning
 * (`ENGINE_FIELD_UNAVAILABLE`). Never throws.
 */
export function parseCommand(
  text: string,
  options: ParseOptions,
): ParseCommandResult {
  const ctx = { variables: options.variables, where: options.where ?? NOWHERE };
  const split = splitCommandLine(text);
  if (!split.ok) {
    return {
      diagnostics: [
        {
          code: FAULT_CODES[split.fault],
          severity: "error",
          message: split.message,
          where: whereAt(ctx, split.offset),
        },
      ],
    };
  }
  const diagnostics: Diagnostic[] = [];
  const words = split.words.map((w, index) => {
    const parts: CommandWord = [];
    let last = 0;
    for (const m of w.matchAll(/[A-Za-z0-9_]+/g)) {
      const name = m[0];
      if (!options.variables.has(name)) {
        if (isFieldName(name) && name !== "CHECKSUM") {
          diagnostics.push({
            code: "ENGINE_FIELD_UNAVAILABLE",
            severity: "warning",
            message: `${name} looks like a knock field but this knock format has none: it is passed literally`,
            where: whereAt(ctx, split.offsets[index] ?? 0),
          });
        }
        continue;
      }
      if (m.index > last)
        parts.push({ kind: "text", text: w.slice(last, m.index) });
      parts.push({ kind: "var", name });
      last = m.index + name.length;
    }
    if (last < w.length || parts.length === 0) {
      parts.push({ kind: "text", text: w.slice(last) });
    }
    return parts;
  });
  return { words, diagnostics };
}
