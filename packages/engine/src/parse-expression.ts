/**
 * Pratt parser for condition expressions (spec: daemon.md §4). Pure.
 *
 * Precedence, tightest first (symbolic operators as daemon.md §4 lists them; word operators
 * `not`/`and`/`or` where Perl puts them, below everything else):
 *   ! unary- unary+ │ * / % │ + - │ < <= > >= lt gt le ge │ == != eq ne │ =~ !~ │ && │ ││ │
 *   not │ and │ or
 * Comparisons and matches do not chain (`a < b < c` is a syntax error); the rest are
 * left-associative.
 */
import type { BinaryOp, Expr } from "./ast.ts";
import { compileRegex } from "./compile-regex.ts";
import { parseCidr } from "./ip-address.ts";
import type { Cursor } from "./parser-state.ts";
import {
  MAX_DEPTH,
  checkVariable,
  describeToken,
  expectToken,
  fail,
  isAt,
  next,
  peek,
  report,
} from "./parser-state.ts";
import { parseStateKeys } from "./parse-state-keys.ts";

interface InfixInfo {
  bp: number;
  chain: boolean;
}

const INFIX: Readonly<Record<string, InfixInfo>> = {
  or: { bp: 10, chain: true },
  and: { bp: 20, chain: true },
  "||": { bp: 40, chain: true },
  "&&": { bp: 50, chain: true },
  "=~": { bp: 60, chain: false },
  "!~": { bp: 60, chain: false },
  "==": { bp: 70, chain: false },
  "!=": { bp: 70, chain: false },
  eq: { bp: 70, chain: false },
  ne: { bp: 70, chain: false },
  "<": { bp: 80, chain: false },
  "<=": { bp: 80, chain: false },
  ">": { bp: 80, chain: false },
  ">=": { bp: 80, chain: false },
  lt: { bp: 80, chain: false },
  gt: { bp: 80, chain: false },
  le: { bp: 80, chain: false },
  ge: { bp: 80, chain: false },
  "+": { bp: 90, chain: true },
  "-": { bp: 90, chain: true },
  "*": { bp: 100, chain: true },
  "/": { bp: 100, chain: true },
  "%": { bp: 100, chain: true },
};

const NOT_BP = 30;
const PREFIX_BP = 110;
const FUNCTIONS = new Set(["abs", "inside", "state"]);
const WORD_OPERATORS = new Set([
  "and",
  "or",
  "not",
  "eq",
  "ne",
  "lt",
  "gt",
  "le",
  "ge",
]);

function infixOf(c: Cursor): InfixInfo | undefined {
  const t = peek(c);
  if (t.kind !== "op" && t.kind !== "ident") return undefined;
  return Object.hasOwn(INFIX, t.text) ? INFIX[t.text] : undefined;
}

/** Parses an expression whose operators bind tighter than `rbp` (0: a whole expression). */
export function parseExpression(c: Cursor, rbp = 0): Expr {
  if (++c.depth > MAX_DEPTH) {
    fail(
      c,
      peek(c),
      `expression nested deeper than ${MAX_DEPTH} levels`,
      "ENGINE_TOO_DEEP",
    );
  }
  let left = parsePrefix(c);
  for (;;) {
    const info = infixOf(c);
    if (info == null || info.bp <= rbp) break;
    const op = next(c);
    if (op.text === "=~" || op.text === "!~") {
      left = parseMatch(c, left, op.text === "!~", op.offset);
    } else {
      const right = parseExpression(c, info.bp);
      left = {
        type: "binary",
        op: op.text as BinaryOp,
        left,
        right,
        offset: op.offset,
      };
    }
    const again = infixOf(c);
    if (!info.chain && again?.bp === info.bp) {
      fail(
        c,
        peek(c),
        `${describeToken(peek(c))} cannot follow a ${JSON.stringify(op.text)} comparison: add parentheses or use &&`,
      );
    }
  }
  c.depth--;
  return left;
}

function parseMatch(
  c: Cursor,
  subject: Expr,
  negate: boolean,
  offset: number,
): Expr {
  const t = next(c);
  if (t.kind !== "regex")
    fail(c, t, `expected a /regex/ after =~, got ${describeToken(t)}`);
  const compiled = compileRegex(String(t.value ?? ""), t.flags ?? "");
  if (!compiled.ok) fail(c, t, compiled.message, "ENGINE_BAD_REGEX");
  return { type: "match", negate, subject, regex: compiled.regex, offset };
}

function parsePrefix(c: Cursor): Expr {
  const t = next(c);
  switch (t.kind) {
    case "num":
      return { type: "num", value: Number(t.value), offset: t.offset };
    case "str":
      return { type: "str", value: String(t.value), offset: t.offset };
    case "ident":
      return parseWord(c, t.text, t.offset);
    case "op":
      if (t.text === "(") {
        const inner = parseExpression(c);
        expectToken(
          c,
          ")",
          `")" to close the "(" at character ${t.offset + 1}`,
        );
        return inner;
      }
      if (t.text === "!" || t.text === "-" || t.text === "+") {
        const operand = parseExpression(c, PREFIX_BP);
        const op = t.text === "!" ? "!" : t.text === "-" ? "neg" : "plus";
        return { type: "unary", op, operand, offset: t.offset };
      }
      if (t.text === "++" || t.text === "--" || t.text === "=") {
        fail(
          c,
          t,
          `${describeToken(t)} changes state: use it in a state template, not in a condition`,
        );
      }
      return fail(c, t, `expected a value, got ${describeToken(t)}`);
    default:
      return fail(c, t, `expected a value, got ${describeToken(t)}`);
  }
}

function parseWord(c: Cursor, word: string, offset: number): Expr {
  if (word === "not") {
    const operand = parseExpression(c, NOT_BP);
    return { type: "unary", op: "not", operand, offset };
  }
  if (isAt(c, "(")) return parseCall(c, word, offset);
  if (WORD_OPERATORS.has(word) || word === "state" || word === "delete") {
    return fail(
      c,
      peek(c, -1),
      `expected a value, got ${JSON.stringify(word)}`,
    );
  }
  checkVariable(c, word, offset);
  return { type: "var", name: word, offset };
}

function parseCall(c: Cursor, name: string, offset: number): Expr {
  if (!FUNCTIONS.has(name)) {
    fail(
      c,
      peek(c, -1),
      `unknown function ${JSON.stringify(name)}; expected abs(), inside() or state()`,
      "ENGINE_UNKNOWN_FUNCTION",
    );
  }
  if (name === "state")
    return { type: "state", keys: parseStateKeys(c), offset };
  next(c); // (
  const args: Expr[] = [];
  if (!isAt(c, ")")) {
    args.push(parseExpression(c));
    while (isAt(c, ",")) {
      next(c);
      args.push(parseExpression(c));
    }
  }
  expectToken(c, ")", `")" to close ${name}(`);
  const arity = name === "abs" ? 1 : 2;
  if (args.length !== arity) {
    fail(
      c,
      { kind: "ident", text: name, offset },
      `${name}() takes ${arity} argument${arity === 1 ? "" : "s"}, got ${args.length}`,
      "ENGINE_BAD_ARGUMENTS",
    );
  }
  const [first, second] = args as [Expr, Expr];
  if (name === "abs") return { type: "abs", arg: first, offset };
  if (second.type !== "str")
    return { type: "inside", ip: first, cidr: second, offset };
  const literal = parseCidr(second.value);
  if (literal == null) {
    report(
      c,
      "ENGINE_BAD_CIDR",
      second.offset,
      `inside(): expected a network like "10.0.0.0/8" or "2001:db8::/32", got ${JSON.stringify(second.value)}`,
    );
  }
  return literal == null
    ? { type: "inside", ip: first, cidr: second, offset }
    : { type: "inside", ip: first, cidr: second, literal, offset };
}
