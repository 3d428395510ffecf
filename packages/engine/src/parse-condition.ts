/**
 * Conditions (spec: daemon.md §4): parsed once at load into an `Expr`; never `eval`. Pure.
 */
import type { ConfigWhere } from "@portknock/config";
import type { Diagnostic } from "@portknock/core";
import type { Expr } from "./ast.ts";
import { parseExpression } from "./parse-expression.ts";
import type { Cursor, ParseContext } from "./parser-state.ts";
import {
  NOWHERE,
  SyntaxAbort,
  createCursor,
  describeToken,
  fail,
  peek,
  whereAt,
} from "./parser-state.ts";
import { tokenizeCondition } from "./tokenize-condition.ts";
import type { Token } from "./tokenize-condition.ts";
import type { VariableKind } from "./variables.ts";

/** Options of `parseCondition` and `parseStateStatements`. */
export interface ParseOptions {
  /** Variables available with this knock format (see `knownVariables`). */
  variables: ReadonlyMap<string, VariableKind>;
  /** Where the text starts; its `column` (when known) is the column of the first character. */
  where?: ConfigWhere;
}

/** Result of `parseCondition`: the tree when there is no error, and every finding. */
export interface ParseConditionResult {
  expr?: Expr;
  diagnostics: Diagnostic[];
}

/**
 * Parses a condition such as `PORT == 22 && inside(IP, "10.0.0.0/8")`. Syntax errors, unknown
 * names and functions, bad regexes and bad literal CIDRs are error diagnostics pointing at the
 * offending character (column = `where.column` + offset). Never throws.
 */
export function parseCondition(
  text: string,
  options: ParseOptions,
): ParseConditionResult {
  return withTokens(text, options, (c) => {
    const expr = parseExpression(c);
    const t = peek(c);
    if (t.kind !== "eof") fail(c, t, unexpectedAfter(t));
    return expr;
  });
}

/** Message for a token that cannot follow a complete expression. */
export function unexpectedAfter(t: Token): string {
  if (t.kind === "op" && t.text === "=") {
    return `"=" assigns: compare numbers with == and strings with eq`;
  }
  return `expected an operator or the end of the condition, got ${describeToken(t)}`;
}

/**
 * Runs `parse` over the tokens of `text`, turning tokenizer failures and aborts into diagnostics.
 * The result is returned only when no error was recorded.
 */
export function withTokens<T>(
  text: string,
  options: ParseOptions,
  parse: (c: Cursor) => T,
): { expr?: T; diagnostics: Diagnostic[] } {
  const ctx: ParseContext = {
    variables: options.variables,
    where: options.where ?? NOWHERE,
  };
  const tokens = tokenizeCondition(text);
  if (!tokens.ok) {
    return {
      diagnostics: [
        {
          code: "ENGINE_SYNTAX",
          severity: "error",
          message: tokens.error.message,
          where: whereAt(ctx, tokens.error.offset),
        },
      ],
    };
  }
  const c = createCursor(tokens.tokens, ctx);
  let result: T | undefined;
  try {
    result = parse(c);
  } catch (error) {
    if (!(error instanceof SyntaxAbort)) {
      // A broken invariant must not take the config load down: report it as data.
      const detail = error instanceof Error ? error.message : String(error);
      c.diagnostics.push({
        code: "ENGINE_SYNTAX",
        severity: "error",
        message: `cannot parse: ${detail}`,
        where: whereAt(ctx, 0),
      });
    }
  }
  const failed = c.diagnostics.some((d) => d.severity === "error");
  return failed || result === undefined
    ? { diagnostics: c.diagnostics }
    : { expr: result, diagnostics: c.diagnostics };
}
