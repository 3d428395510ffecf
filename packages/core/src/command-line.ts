/**
 * Command lines split into an argv once, at load, with no shell (spec: daemon.md §5; `system`
 * templates and `logcommand` follow the same rules). Pure. Words are separated by whitespace;
 * double and single quotes group and may join adjacent text (`--x="a b"` is one word); inside
 * double quotes `\"` and `\\` are escapes, inside single quotes nothing is. Outside quotes
 * `| ; & $ \` > < \` are refused: no shell runs the command, so they would reach the program
 * literally.
 */

/** Why a command line was refused. */
export type CommandLineFault = "METACHAR" | "QUOTE" | "EMPTY";

/** Result of `splitCommandLine`: the words and where each starts, or the fault and its offset. */
export type SplitCommandLineResult =
  | { ok: true; words: string[]; offsets: number[] }
  | { ok: false; fault: CommandLineFault; offset: number; message: string };

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
 * Splits a command line into words (no substitution). Never throws: a shell metacharacter outside
 * quotes (`METACHAR`, naming it), an unclosed quote (`QUOTE`) and a line without words (`EMPTY`)
 * are faults with the character offset and a one-sentence message. Linear in the text's length.
 */
export function splitCommandLine(text: string): SplitCommandLineResult {
  const words: string[] = [];
  const offsets: number[] = [];
  let word = "";
  let start = -1;
  let i = 0;
  while (i < text.length) {
    const c = text[i] ?? "";
    if (/\s/.test(c)) {
      if (start >= 0) {
        words.push(word);
        offsets.push(start);
      }
      word = "";
      start = -1;
      i++;
      continue;
    }
    if (start < 0) start = i;
    if (c === '"' || c === "'") {
      let close = i + 1;
      while (close < text.length && text[close] !== c) {
        close += c === '"' && text[close] === "\\" ? 2 : 1;
      }
      if (close >= text.length) {
        const kind = c === '"' ? "double" : "single";
        return fail(
          "QUOTE",
          i,
          `the ${kind} quote opened here is never closed`,
        );
      }
      const inner = text.slice(i + 1, close);
      word += c === '"' ? inner.replace(/\\(["\\])/g, "$1") : inner;
      i = close + 1;
      continue;
    }
    const why = Object.hasOwn(WHY, c) ? WHY[c] : undefined;
    if (why !== undefined) {
      return fail(
        "METACHAR",
        i,
        `shell metacharacter ${JSON.stringify(c)} (${why}) outside quotes: commands run without a shell, so it would reach the program as a literal argument; quote it if that is meant, or put shell syntax in a script`,
      );
    }
    word += c;
    i++;
  }
  if (start >= 0) {
    words.push(word);
    offsets.push(start);
  }
  if (words.length === 0) return fail("EMPTY", 0, "the command line is empty");
  return { ok: true, words, offsets };
}

function fail(
  fault: CommandLineFault,
  offset: number,
  message: string,
): SplitCommandLineResult {
  return { ok: false, fault, offset, message };
}
