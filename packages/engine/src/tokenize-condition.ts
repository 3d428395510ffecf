/**
 * Tokenizer for conditions and state statements (spec: daemon.md §4, §6). Pure. A `/regex/` (or
 * `m/regex/`, `m{regex}` …) is only recognised right after `=~` or `!~`; elsewhere `/` divides.
 */

/** What a token is. Word operators (`and`, `eq`, …) are `ident` tokens. */
export type TokenKind = "num" | "str" | "ident" | "op" | "regex" | "eof";

/** One token with its character offset in the source text. */
export interface Token {
  kind: TokenKind;
  /** The operator, identifier or the raw source text. */
  text: string;
  /** Offset of the first character (0-based). */
  offset: number;
  /** `num`: the value; `str`: the unescaped text; `regex`: the pattern source. */
  value?: number | string;
  /** `regex`: the flags written after the closing delimiter. */
  flags?: string;
}

/** A tokenizer failure: where and why. */
export interface TokenizeError {
  offset: number;
  message: string;
}

/** Result of `tokenizeCondition`. */
export type TokenizeResult =
  { ok: true; tokens: Token[] } | { ok: false; error: TokenizeError };

const OPERATORS = [
  "<=",
  ">=",
  "==",
  "!=",
  "=~",
  "!~",
  "&&",
  "||",
  "++",
  "--",
  "+=",
  "-=",
  "(",
  ")",
  ",",
  ";",
  "!",
  "<",
  ">",
  "+",
  "-",
  "*",
  "/",
  "%",
  "=",
];

const NUMBER =
  /^(?:0[xX][0-9a-fA-F]+|(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)/;
const IDENT = /^[A-Za-z_][A-Za-z0-9_]*/;
const CLOSER: Readonly<Record<string, string>> = {
  "{": "}",
  "(": ")",
  "[": "]",
  "<": ">",
};

/** Splits `text` into tokens ending with an `eof` token, or says where it cannot. */
export function tokenizeCondition(text: string): TokenizeResult {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i] ?? "";
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const prev = tokens[tokens.length - 1];
    if (prev?.kind === "op" && (prev.text === "=~" || prev.text === "!~")) {
      const r = scanRegex(text, i);
      if ("message" in r) return { ok: false, error: r };
      tokens.push(r.token);
      i = r.end;
      continue;
    }
    const rest = text.slice(i);
    const num = NUMBER.exec(rest);
    if (num != null && (/\d/.test(c) || c === ".")) {
      if (
        /^\d+\.\d+\.\d+/.test(rest) ||
        /^[0-9a-fA-F]*::?[0-9a-fA-F]/.test(rest)
      ) {
        return fail(i, `addresses are strings: quote them, as in "10.0.0.1"`);
      }
      const raw = num[0];
      const after = text[i + raw.length];
      if (after != null && /[A-Za-z_]/.test(after)) {
        return fail(i, `a number cannot run into a name: ${snippet(text, i)}`);
      }
      tokens.push({ kind: "num", text: raw, offset: i, value: Number(raw) });
      i += raw.length;
      continue;
    }
    const ident = IDENT.exec(rest);
    if (ident != null) {
      tokens.push({ kind: "ident", text: ident[0], offset: i });
      i += ident[0].length;
      continue;
    }
    if (c === '"' || c === "'") {
      const s = scanString(text, i);
      if ("message" in s) return { ok: false, error: s };
      tokens.push(s.token);
      i = s.end;
      continue;
    }
    const op = OPERATORS.find((o) => text.startsWith(o, i));
    if (op != null) {
      tokens.push({ kind: "op", text: op, offset: i });
      i += op.length;
      continue;
    }
    return fail(i, `unexpected character ${JSON.stringify(c)}`);
  }
  tokens.push({ kind: "eof", text: "", offset: text.length });
  return { ok: true, tokens };
}

function fail(offset: number, message: string): TokenizeResult {
  return { ok: false, error: { offset, message } };
}

function snippet(text: string, at: number): string {
  return JSON.stringify(text.slice(at, at + 12));
}

interface Scanned {
  token: Token;
  end: number;
}

// Double quotes understand \\ \" \n \t \r and \$ (no interpolation); single quotes \\ and \'.
function scanString(text: string, start: number): Scanned | TokenizeError {
  const quote = text[start] ?? '"';
  let out = "";
  let i = start + 1;
  while (i < text.length) {
    const c = text[i] ?? "";
    if (c === quote) {
      const raw = text.slice(start, i + 1);
      return {
        token: { kind: "str", text: raw, offset: start, value: out },
        end: i + 1,
      };
    }
    if (c === "\\" && i + 1 < text.length) {
      const n = text[i + 1] ?? "";
      if (quote === "'") {
        out += n === "\\" || n === "'" ? n : c + n;
      } else {
        const map: Record<string, string> = { n: "\n", t: "\t", r: "\r" };
        out += map[n] ?? n;
      }
      i += 2;
      continue;
    }
    out += c;
    i++;
  }
  return { offset: start, message: `string starting here is never closed` };
}

function scanRegex(text: string, start: number): Scanned | TokenizeError {
  let i = start;
  if (
    text[i] === "m" &&
    i + 1 < text.length &&
    /[^\w\s]/.test(text[i + 1] ?? "")
  ) {
    i++;
  }
  const open = text[i] ?? "";
  if (i === start && open !== "/") {
    return {
      offset: start,
      message: "expected a /regex/ after =~ or !~",
    };
  }
  const close = CLOSER[open] ?? open;
  let source = "";
  let inClass = false;
  let j = i + 1;
  for (; j < text.length; j++) {
    const c = text[j] ?? "";
    if (c === "\\" && j + 1 < text.length) {
      const n = text[j + 1] ?? "";
      // An escaped delimiter is the delimiter itself; everything else stays escaped.
      source += n === close && close !== "/" ? n : c + n;
      j++;
      continue;
    }
    if (c === "[" && !inClass) inClass = true;
    else if (c === "]" && inClass) inClass = false;
    else if (c === close && !inClass) break;
    source += c;
  }
  if (j >= text.length) {
    return { offset: start, message: "regex starting here is never closed" };
  }
  const flagMatch = /^[A-Za-z]*/.exec(text.slice(j + 1));
  const flags = flagMatch?.[0] ?? "";
  const end = j + 1 + flags.length;
  return {
    token: {
      kind: "regex",
      text: text.slice(start, end),
      offset: start,
      value: source,
      flags,
    },
    end,
  };
}
