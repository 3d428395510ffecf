/**
 * Evaluation of condition and state-statement expressions with Perl semantics (spec: daemon.md
 * §4). Pure: state is read through a callback. A value that cannot be used safely, or a division
 * by zero, aborts with a `RefusalSignal` that the engine turns into a counted refusal.
 */
import type { BinaryOp, Expr } from "./ast.ts";
import { RefusalSignal } from "./errors.ts";
import { parseIp } from "@portknock/core";
import { isInside, parseCidr } from "./ip-address.ts";
import type { Bindings } from "./substitute.ts";
import { lookupVariable, resolveStateKeys } from "./substitute.ts";
import type { Scalar } from "./values.ts";
import { FALSE, bool, isTrue, toNumber, toStr } from "./values.ts";

/** What evaluation needs: the knock's variables and a way to read state. */
export interface EvalContext extends Bindings {
  readState(path: readonly string[]): Scalar;
}

/** Evaluates `expr` to a Perl scalar. Throws only `RefusalSignal`. */
export function evaluate(expr: Expr, ctx: EvalContext): Scalar {
  switch (expr.type) {
    case "num":
    case "str":
      return expr.value;
    case "var":
      return lookupVariable(ctx, expr.name);
    case "unary": {
      const v = evaluate(expr.operand, ctx);
      if (expr.op === "!" || expr.op === "not") return bool(!isTrue(v));
      return expr.op === "neg" ? -toNumber(v) : v;
    }
    case "binary":
      return evaluateBinary(expr.op, expr.left, expr.right, ctx);
    case "match": {
      const matched = expr.regex.test(toStr(evaluate(expr.subject, ctx)));
      return bool(matched !== expr.negate);
    }
    case "abs":
      return Math.abs(toNumber(evaluate(expr.arg, ctx)));
    case "inside": {
      const ip = parseIp(toStr(evaluate(expr.ip, ctx)));
      const cidr = expr.literal ?? parseCidr(toStr(evaluate(expr.cidr, ctx)));
      return bool(ip != null && cidr != null && isInside(ip, cidr));
    }
    case "state":
      return ctx.readState(resolveStateKeys(expr.keys, ctx));
  }
}

/** Evaluates a condition to a boolean (Perl truth). Throws only `RefusalSignal`. */
export function evaluateCondition(expr: Expr, ctx: EvalContext): boolean {
  return isTrue(evaluate(expr, ctx));
}

function evaluateBinary(
  op: BinaryOp,
  l: Expr,
  r: Expr,
  ctx: EvalContext,
): Scalar {
  // Logical operators short-circuit and return the deciding operand, as Perl does.
  if (op === "&&" || op === "and") {
    const left = evaluate(l, ctx);
    return isTrue(left) ? evaluate(r, ctx) : left;
  }
  if (op === "||" || op === "or") {
    const left = evaluate(l, ctx);
    return isTrue(left) ? left : evaluate(r, ctx);
  }
  const a = evaluate(l, ctx);
  const b = evaluate(r, ctx);
  switch (op) {
    case "eq":
      return bool(toStr(a) === toStr(b));
    case "ne":
      return bool(toStr(a) !== toStr(b));
    case "lt":
      return bool(toStr(a) < toStr(b));
    case "gt":
      return bool(toStr(a) > toStr(b));
    case "le":
      return bool(toStr(a) <= toStr(b));
    case "ge":
      return bool(toStr(a) >= toStr(b));
    default:
      return arithmetic(op, toNumber(a), toNumber(b));
  }
}

function arithmetic(op: BinaryOp, x: number, y: number): Scalar {
  switch (op) {
    case "+":
      return x + y;
    case "-":
      return x - y;
    case "*":
      return x * y;
    case "/":
      if (y === 0) throw divisionByZero("division");
      return x / y;
    case "%": {
      // compat: Perl's % works on integers and takes the sign of the right operand.
      const m = Math.trunc(x);
      const n = Math.trunc(y);
      if (n === 0) throw divisionByZero("modulus");
      return m - n * Math.floor(m / n);
    }
    case "==":
      return bool(x === y);
    case "!=":
      return bool(x !== y);
    case "<":
      return bool(x < y);
    case "<=":
      return bool(x <= y);
    case ">":
      return bool(x > y);
    case ">=":
      return bool(x >= y);
    default:
      return FALSE;
  }
}

function divisionByZero(what: string): RefusalSignal {
  return new RefusalSignal({
    code: "ENGINE_DIVISION_BY_ZERO",
    message: `illegal ${what} by zero`,
  });
}
