/**
 * State statements (spec: daemon.md §6): `state(K…)++`, `state(K…)--`, `state(K…) = EXPR`,
 * `state(K…) += EXPR`, `state(K…) -= EXPR`, `delete state(K…)`, separated by `;` (empty
 * statements are allowed). Parsed once at load; never `eval`. Pure.
 */
import type { Diagnostic } from "@portknock/core";
import type { StateStatement } from "./ast.ts";
import type { ParseOptions } from "./parse-condition.ts";
import { withTokens } from "./parse-condition.ts";
import { parseExpression } from "./parse-expression.ts";
import { parseStateKeys } from "./parse-state-keys.ts";
import type { Cursor } from "./parser-state.ts";
import { describeToken, fail, isAt, next, peek } from "./parser-state.ts";

/** Result of `parseStateStatements`. */
export interface ParseStateResult {
  statements?: StateStatement[];
  diagnostics: Diagnostic[];
}

/**
 * Parses a `state = …` value into statements. Syntax errors and unknown names are error
 * diagnostics with the column of the offending character. Never throws.
 */
export function parseStateStatements(
  text: string,
  options: ParseOptions,
): ParseStateResult {
  const { expr, diagnostics } = withTokens(text, options, parseStatements);
  return expr === undefined
    ? { diagnostics }
    : { statements: expr, diagnostics };
}

function parseStatements(c: Cursor): StateStatement[] {
  const statements: StateStatement[] = [];
  for (;;) {
    while (isAt(c, ";")) next(c);
    if (peek(c).kind === "eof") break;
    statements.push(parseStatement(c));
    const t = peek(c);
    if (t.kind !== "eof" && !isAt(c, ";")) {
      fail(
        c,
        t,
        `expected ";" between state statements, got ${describeToken(t)}`,
      );
    }
  }
  if (statements.length === 0)
    fail(c, peek(c), "expected a state statement such as state(IP,visits)++");
  return statements;
}

function parseStatement(c: Cursor): StateStatement {
  const start = peek(c);
  if (start.kind === "ident" && start.text === "delete") {
    next(c);
    expectStateWord(c);
    return { op: "delete", keys: parseStateKeys(c), offset: start.offset };
  }
  if (start.kind === "op" && (start.text === "++" || start.text === "--")) {
    fail(
      c,
      start,
      `write state(…)${start.text} with the operator after the state`,
    );
  }
  expectStateWord(c);
  const keys = parseStateKeys(c);
  const op = next(c);
  if (op.kind === "op" && (op.text === "++" || op.text === "--")) {
    return { op: op.text, keys, offset: start.offset };
  }
  if (
    op.kind === "op" &&
    (op.text === "=" || op.text === "+=" || op.text === "-=")
  ) {
    const value = parseExpression(c);
    return { op: op.text, keys, value, offset: start.offset };
  }
  return fail(
    c,
    op,
    `expected ++, --, =, += or -= after state(…), got ${describeToken(op)}`,
  );
}

function expectStateWord(c: Cursor): void {
  const t = next(c);
  if (t.kind !== "ident" || t.text !== "state") {
    fail(c, t, `expected state(…) or delete state(…), got ${describeToken(t)}`);
  }
}
