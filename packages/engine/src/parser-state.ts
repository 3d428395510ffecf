/**
 * The cursor and diagnostics shared by the condition and state-statement parsers. Pure.
 * Syntax errors abort the parse (thrown as `SyntaxAbort`, caught by the entry points); unknown
 * names are collected and parsing goes on, so one run reports every unknown name.
 */
import type { ConfigWhere } from "@portknock/config";
import type { Diagnostic } from "@portknock/core";
import type { LoadCode } from "./errors.ts";
import type { Token } from "./tokenize-condition.ts";
import type { VariableKind } from "./variables.ts";
import { isFieldName } from "./variables.ts";

/** What the parsers need to know: the variables available and where the text was written. */
export interface ParseContext {
  /** Variables available with this knock format (see `knownVariables`). */
  variables: ReadonlyMap<string, VariableKind>;
  /** Where the text starts; `column` (when known) is the column of its first character. */
  where: ConfigWhere;
}

/** The default location for text parsed outside a config file. */
export const NOWHERE: ConfigWhere = {
  kind: "config",
  file: "<input>",
  line: 1,
  column: 1,
};

/** Internal: aborts a parse after a syntax error has been recorded. */
export class SyntaxAbort extends Error {
  override name = "SyntaxAbort";
}

/** Deepest nesting of parentheses/operators accepted (keeps the recursion bounded). */
export const MAX_DEPTH = 64;

/** Parser cursor over a token list. */
export interface Cursor {
  tokens: readonly Token[];
  pos: number;
  depth: number;
  ctx: ParseContext;
  diagnostics: Diagnostic[];
}

/** Creates a cursor at the first token. */
export function createCursor(
  tokens: readonly Token[],
  ctx: ParseContext,
): Cursor {
  return { tokens, pos: 0, depth: 0, ctx, diagnostics: [] };
}

/** The current token (the final `eof` when past the end). */
export function peek(c: Cursor, ahead = 0): Token {
  const t = c.tokens[Math.min(c.pos + ahead, c.tokens.length - 1)];
  if (t == null) throw new SyntaxAbort("empty token list");
  return t;
}

/** Consumes and returns the current token. */
export function next(c: Cursor): Token {
  const t = peek(c);
  if (t.kind !== "eof") c.pos++;
  return t;
}

/** Whether the current token is the operator or word `text`. */
export function isAt(c: Cursor, text: string): boolean {
  const t = peek(c);
  return (t.kind === "op" || t.kind === "ident") && t.text === text;
}

/** Consumes the operator `text` or fails with "expected …". */
export function expectToken(c: Cursor, text: string, what: string): Token {
  if (!isAt(c, text))
    fail(c, peek(c), `expected ${what}, got ${describeToken(peek(c))}`);
  return next(c);
}

/** How a token reads in a message. */
export function describeToken(t: Token): string {
  if (t.kind === "eof") return "the end of the text";
  return JSON.stringify(
    t.text.length > 24 ? t.text.slice(0, 24) + "…" : t.text,
  );
}

/** The config location of a character offset (column only when the start column is known). */
export function whereAt(ctx: ParseContext, offset: number): ConfigWhere {
  const { where } = ctx;
  return where.column == null
    ? { ...where }
    : { ...where, column: where.column + offset };
}

/** Records a diagnostic at `offset`. */
export function report(
  c: Cursor,
  code: LoadCode,
  offset: number,
  message: string,
  severity: "error" | "warning" = "error",
): void {
  c.diagnostics.push({
    code,
    severity,
    message,
    where: whereAt(c.ctx, offset),
  });
}

/** Records a syntax error at `token` and aborts the parse. */
export function fail(
  c: Cursor,
  token: Token,
  message: string,
  code: LoadCode = "ENGINE_SYNTAX",
): never {
  report(c, code, token.offset, message);
  throw new SyntaxAbort(message);
}

/** Reports `word` unless it is an available variable; says why when it can guess. */
export function checkVariable(c: Cursor, word: string, offset: number): void {
  if (c.ctx.variables.has(word)) return;
  const upper = word.toUpperCase();
  let hint = "";
  if (isFieldName(upper)) {
    hint =
      upper === word
        ? `: ${word} is a knock field, but this knock format has no ${word} field`
        : `: variable names are upper-case (${upper})`;
  } else if (c.ctx.variables.has(upper)) {
    hint = `: variable names are upper-case (did you mean ${upper}?)`;
  }
  const known = [...c.ctx.variables.keys()].join(", ");
  report(
    c,
    "ENGINE_UNKNOWN_NAME",
    offset,
    `unknown name ${JSON.stringify(word)}${hint}; expected one of ${known}`,
  );
}
