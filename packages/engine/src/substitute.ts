/**
 * Substitution of knock variables into command words and state keys (spec: daemon.md §5–6).
 * Every substituted value is validated against its variable's kind first; a value that does not
 * fit refuses the whole action (`RefusalSignal`), so nothing half-substituted ever runs.
 */
import type { StateKey } from "./ast.ts";
import { RefusalSignal } from "./errors.ts";
import type { CommandWord } from "./parse-command.ts";
import { checkStateKey } from "./state-key.ts";
import { formatNumber } from "./values.ts";
import type { VariableKind, VariableValue } from "./variables.ts";
import { isValidValue } from "./variables.ts";

/** The variables of one accepted knock and the kinds that validate them. */
export interface Bindings {
  vars: Readonly<Record<string, VariableValue>>;
  kinds: ReadonlyMap<string, VariableKind>;
}

/** The raw value of `name`; refuses (`ENGINE_VALUE_MISSING`) when the knock has none. */
export function lookupVariable(b: Bindings, name: string): VariableValue {
  const value = Object.hasOwn(b.vars, name) ? b.vars[name] : undefined;
  if (value === undefined) {
    throw new RefusalSignal({
      code: "ENGINE_VALUE_MISSING",
      message: `the knock has no value for ${name}`,
    });
  }
  return value;
}

/**
 * The text of `name`, validated against its kind; refuses with `ENGINE_VALUE_INVALID` (the value
 * under `input`) when it does not fit, e.g. an IP with a newline or a port of 70000.
 */
export function substituteVariable(b: Bindings, name: string): string {
  const value = lookupVariable(b, name);
  const kind = b.kinds.get(name);
  if (kind === undefined || !isValidValue(kind, value)) {
    const text =
      typeof value === "number" ? formatNumber(value) : String(value);
    throw new RefusalSignal({
      code: "ENGINE_VALUE_INVALID",
      message: `${name} is not a valid ${kind ?? "value"}`,
      input: text,
    });
  }
  return typeof value === "number" ? formatNumber(value) : value;
}

/** Builds the argv of a command from its words, substituting and validating every variable. */
export function substituteCommand(
  words: readonly CommandWord[],
  b: Bindings,
): string[] {
  return words.map((word) =>
    word
      .map((part) =>
        part.kind === "text" ? part.text : substituteVariable(b, part.name),
      )
      .join(""),
  );
}

/**
 * The key path of `state(K…)`: variables substituted and validated (as for commands), then every
 * key checked for sanity; refuses with `STATE_KEY_INVALID` otherwise.
 */
export function resolveStateKeys(
  keys: readonly StateKey[],
  b: Bindings,
): string[] {
  return keys.map((key) => {
    const text =
      key.kind === "var" ? substituteVariable(b, key.name) : key.value;
    const problem = checkStateKey(text);
    if (problem != null) {
      throw new RefusalSignal({
        code: "STATE_KEY_INVALID",
        message: `state key ${problem}`,
        input: text,
      });
    }
    return text;
  });
}
