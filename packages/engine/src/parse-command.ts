/**
 * `system` command lines (spec: daemon.md §5): split into words once at load, with no shell.
 * Pure. Double and single quotes group (and may join with adjacent text: `--x="a b"` is one word);
 * inside double quotes `\"` and `\\` are escapes, inside single quotes nothing is. Outside quotes,
 * `| ; & $ \` > < \` are refused: no shell runs, so they would reach the program literally.
 * Each word is then cut into literal text and whole-word variable references (a "word" character
 * is `A-Z a-z 0-9 _`, as in Perl's `\b`): `IP/32` holds `IP`, `IPX` and `MYIP` do not.
 */
import type { Diagnostic } from "@portknock/config";
import type { LoadCode } from "./errors.ts";
import type { ParseOptions } from "./parse-condition.ts";
import { NOWHERE, whereAt } from "./parser-state.ts";
import { isFieldName } from "./variables.ts";

/** A piece of a command word: literal text or a variable to substitute. */
export type CommandPart =
  { kind: "text"; text: string } | { kind: "var"; name: string };

/** One argv word as a list of parts (joined after substitution). */
export type CommandWord = CommandPart[];

/** Result of `splitCommandLine`. */
export type SplitResult =
  | { ok: true; words: string[]; offsets: number[] }
  | { ok: false; code: LoadCode; offset: number; message: string };

const WHY: Readonly<Record<string, string>> = {
  "|": "a pipe",
  ";": "a command separator",
  "&": "background or && lists",
  $: "variable expansion",
  "`": "command substitution",
  ">": "output redirection",
  "<": "input redirection",
  "\\": "an escape",
};

/**
 * Splits a command line into words (no substitution). Never throws: metacharacters outside
 * quotes (`ENGINE_COMMAND_METACHAR`), an unclosed quote (`ENGINE_COMMAND_QUOTE`) and an empty line
 * (`ENGINE_COMMAND_EMPTY`) are failures with the character offset.
 */
export function splitCommandLine(text: string): SplitResult {
  const words: string[] = [];
  const offsets: number[] = [];
  let word = "";
  let start = -1;
  let i = 0;
  const end = (): void => {
    if (start >= 0) {
      words.push(word);
      offsets.push(start);
    }
    word = "";
    start = -1;
  };
  while (i < text.length) {
    const c = text[i] ?? "";
    if (/\s/.test(c)) {
      end();
      i++;
      continue;
    }
    if (start < 0) start = i;
    if (c === '"' || c === "'") {
      const close = findClose(text, i);
      if (close < 0) {
        return fail(
          "ENGINE_COMMAND_QUOTE",
          i,
          `the ${c === '"' ? "double" : "single"} quote opened here is never closed`,
        );
      }
      const inner = text.slice(i + 1, close);
      word += c === '"' ? inner.replace(/\\(["\\])/g, "$1") : inner;
      i = close + 1;
      continue;
    }
    const why = Object.hasOwn(WHY, c) ? WHY[c] : undefined;
    if (why != null) {
      return fail(
        "ENGINE_COMMAND_METACHAR",
        i,
        `shell metacharacter ${JSON.stringify(c)} (${why}) outside quotes: commands run without a shell, so it would reach the program as a literal argument; quote it if that is meant, or put shell syntax in a script`,
      );
    }
    word += c;
    i++;
  }
  end();
  if (words.length === 0) {
    return fail("ENGINE_COMMAND_EMPTY", 0, "the command line is empty");
  }
  return { ok: true, words, offsets };
}

function fail(code: LoadCode, offset: number, message: string): SplitResult {
  return { ok: false, code, offset, message };
}

function findClose(text: string, open: number): number {
  const q = text[open];
  for (let j = open + 1; j < text.length; j++) {
    if (q === '"' && text[j] === "\\") {
      j++;
      continue;
    }
    if (text[j] === q) return j;
  }
  return -1;
}

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
          code: split.code,
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
