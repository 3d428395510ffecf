/**
 * The keys of `state(K1,K2,…)` (spec: daemon.md §6): variables (substituted at knock time), bare
 * words, numbers or quoted strings. Pure.
 */
import type { StateKey } from "./ast.ts";
import type { Cursor } from "./parser-state.ts";
import {
  checkVariable,
  describeToken,
  expectToken,
  fail,
  isAt,
  next,
  report,
} from "./parser-state.ts";
import { checkStateKey } from "./state-key.ts";
import { formatNumber } from "./values.ts";
import { isFieldName } from "./variables.ts";

/** Most keys in one `state(…)`. */
export const MAX_STATE_KEYS = 16;

/**
 * Parses `(K1, K2, …)` after `state`: variables, bare words, numbers or quoted strings. Bare
 * words that name an unavailable knock field are reported as unknown names.
 */
export function parseStateKeys(c: Cursor): StateKey[] {
  expectToken(c, "(", `"(" after state`);
  const keys: StateKey[] = [];
  for (;;) {
    const t = next(c);
    if (t.kind === "ident") {
      if (c.ctx.variables.has(t.text)) {
        keys.push({ kind: "var", name: t.text, offset: t.offset });
      } else {
        if (isFieldName(t.text)) checkVariable(c, t.text, t.offset);
        keys.push({ kind: "literal", value: t.text, offset: t.offset });
      }
    } else if (t.kind === "num" || t.kind === "str") {
      const value =
        t.kind === "num" ? formatNumber(Number(t.value)) : String(t.value);
      const problem = checkStateKey(value);
      if (problem != null) {
        report(
          c,
          "STATE_KEY_INVALID",
          t.offset,
          `state key ${JSON.stringify(value)} ${problem}`,
        );
      }
      keys.push({ kind: "literal", value, offset: t.offset });
    } else {
      fail(
        c,
        t,
        `state keys are variables, bare words, numbers or quoted strings, got ${describeToken(t)}`,
      );
    }
    if (keys.length > MAX_STATE_KEYS) {
      fail(
        c,
        t,
        `state() takes at most ${MAX_STATE_KEYS} keys`,
        "ENGINE_BAD_ARGUMENTS",
      );
    }
    if (isAt(c, ",")) {
      next(c);
      continue;
    }
    expectToken(c, ")", `"," or ")" in state(…)`);
    return keys;
  }
}
