/**
 * `logcommand` split into an argv once at start-up (spec: config.md; the same rules as `system`
 * commands in daemon.md §5). Pure. Words are separated by whitespace; double and single quotes
 * group and may join adjacent text (`--x="a b"` is one word); inside double quotes `\"` and `\\`
 * are escapes, inside single quotes nothing is. Outside quotes `| ; & $ \` > < \` are refused:
 * no shell runs the command, so they would reach the program literally.
 */
import type { ConfigWhere, Diagnostic } from "@portknock/config";
import type { CommandCode } from "./errors.ts";

/** Result of `splitCommandLine`: the words when there is no error, and every finding. */
export interface SplitCommandLineResult {
  argv?: string[];
  diagnostics: Diagnostic<CommandCode>[];
}

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

const NOWHERE: ConfigWhere = { kind: "config", file: "<logcommand>", line: 0 };

/**
 * Splits a command line into an argv. Never throws: a shell metacharacter outside quotes
 * (`LOG_COMMAND_METACHAR`, naming it), an unclosed quote (`LOG_COMMAND_QUOTE`) and an empty line
 * (`LOG_COMMAND_EMPTY`) are error diagnostics at `where` (its column moved to the character when
 * `where` has one).
 */
export function splitCommandLine(
  text: string,
  where: ConfigWhere = NOWHERE,
): SplitCommandLineResult {
  const fail = (
    code: CommandCode,
    offset: number,
    message: string,
  ): SplitCommandLineResult => ({
    diagnostics: [
      {
        code,
        severity: "error",
        message: `logcommand: ${message}`,
        where:
          where.column === undefined
            ? where
            : { ...where, column: where.column + offset },
      },
    ],
  });
  const argv: string[] = [];
  let word: string | undefined;
  let i = 0;
  while (i < text.length) {
    const c = text[i] ?? "";
    if (/\s/.test(c)) {
      if (word !== undefined) argv.push(word);
      word = undefined;
      i++;
      continue;
    }
    if (c === '"' || c === "'") {
      let close = i + 1;
      while (close < text.length && text[close] !== c) {
        close += c === '"' && text[close] === "\\" ? 2 : 1;
      }
      if (close >= text.length) {
        const kind = c === '"' ? "double" : "single";
        return fail(
          "LOG_COMMAND_QUOTE",
          i,
          `the ${kind} quote opened here is never closed`,
        );
      }
      const inner = text.slice(i + 1, close);
      word =
        (word ?? "") + (c === '"' ? inner.replace(/\\(["\\])/g, "$1") : inner);
      i = close + 1;
      continue;
    }
    const why = WHY[c];
    if (why !== undefined) {
      return fail(
        "LOG_COMMAND_METACHAR",
        i,
        `${JSON.stringify(c)} (${why}) outside quotes; the command runs without a shell, so quote it to pass it literally or wrap the pipeline in a script`,
      );
    }
    word = (word ?? "") + c;
    i++;
  }
  if (word !== undefined) argv.push(word);
  if (argv.length === 0) {
    return fail("LOG_COMMAND_EMPTY", 0, "the command line has no words");
  }
  return { argv, diagnostics: [] };
}
