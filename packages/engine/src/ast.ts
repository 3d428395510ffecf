/**
 * The syntax tree of conditions and state statements (spec: daemon.md §4, §6), built once at
 * load by `parseCondition` / `parseStateStatements`. Offsets are character offsets into the
 * source text, for runtime messages.
 */
import type { ConditionRegex } from "./compile-regex.ts";
import type { Cidr } from "./ip-address.ts";

/** Binary operators, symbolic and word forms kept apart (they differ in precedence only). */
export type BinaryOp =
  | "*"
  | "/"
  | "%"
  | "+"
  | "-"
  | "<"
  | "<="
  | ">"
  | ">="
  | "lt"
  | "gt"
  | "le"
  | "ge"
  | "=="
  | "!="
  | "eq"
  | "ne"
  | "&&"
  | "||"
  | "and"
  | "or";

/** One key of `state(K1,K2,…)`: a variable (substituted) or a literal bare word/number/string. */
export type StateKey =
  | { kind: "var"; name: string; offset: number }
  | { kind: "literal"; value: string; offset: number };

/** An expression node. */
export type Expr =
  | { type: "num"; value: number; offset: number }
  | { type: "str"; value: string; offset: number }
  | { type: "var"; name: string; offset: number }
  | {
      type: "unary";
      op: "!" | "not" | "neg" | "plus";
      operand: Expr;
      offset: number;
    }
  | { type: "binary"; op: BinaryOp; left: Expr; right: Expr; offset: number }
  | {
      type: "match";
      negate: boolean;
      subject: Expr;
      regex: ConditionRegex;
      offset: number;
    }
  | { type: "abs"; arg: Expr; offset: number }
  | {
      type: "inside";
      ip: Expr;
      cidr: Expr;
      /** The CIDR, parsed at load when it is a string literal. */
      literal?: Cidr;
      offset: number;
    }
  | { type: "state"; keys: StateKey[]; offset: number };

/** One state statement (daemon.md §6). */
export type StateStatement =
  | { op: "++" | "--" | "delete"; keys: StateKey[]; offset: number }
  | { op: "=" | "+=" | "-="; keys: StateKey[]; value: Expr; offset: number };
