/**
 * Reads the keys of one block against a schema: each key is taken once by its reader, and every
 * key left over at the end is reported as unknown (a misspelt key must not be silently ignored).
 */
import type { Diagnostic, Where } from "@portknock/core";
import { formatWhere, quoteValue } from "@portknock/core";
import type { ConfigCode } from "./codes.ts";
import type { GeneralBlock, GeneralEntry } from "./general-tree.ts";
import type { ConfigWhere } from "./types.ts";
import {
  matchChoice,
  parseBoolean,
  parseDuration,
  parseInteger,
} from "./schema-values.ts";

/** A value to read: text and where it came from (a config line, or a command-line flag). */
export interface Val {
  text: string;
  where: Where;
}

/** An entry of a block; values may come from the command line (`overrides`). */
export type ReaderEntry<V extends Val> =
  { kind: "values"; values: V[] } | Exclude<GeneralEntry, { kind: "values" }>;

/** Collects diagnostics for one parse. */
export interface Sink {
  diagnostics: Diagnostic<ConfigCode>[];
}

/** Typed access to the keys of one block; see `createSectionReader`. */
export interface SectionReader<V extends Val> {
  /** Where missing keys are reported: the block's line, or line 0 (the whole file). */
  readonly where: ConfigWhere;
  error(code: ConfigCode, where: Where, message: string): void;
  warn(code: ConfigCode, where: Where, message: string): void;
  /**
   * A key that may appear once (the last value is returned); a repeat is `CONFIG_REPEATED_KEY`
   * naming both places, reported once however often the key is read.
   */
  one(key: string): V | undefined;
  /** Where `key`'s last value was written, without reading it. */
  whereOf(key: string): Where | undefined;
  /** A key that may repeat, in file order. */
  many(key: string): V[];
  /** Anonymous blocks `<type>` in order (a named one is `CONFIG_BLOCK_NAME`). */
  anonymous(type: string): GeneralBlock[];
  /** Named blocks `<type NAME>` by name (an anonymous one is `CONFIG_BLOCK_NAME`). */
  named(type: string): ReadonlyMap<string, GeneralBlock>;
  /** Every entry not read yet; they count as read. */
  rest(): [string, ReaderEntry<V>][];
  /** Report every entry not read as `CONFIG_UNKNOWN_KEY` / `CONFIG_UNKNOWN_BLOCK`. */
  finish(): void;
  bool(key: string, fallback: boolean): boolean;
  int(key: string, fallback: number, min: number, max: number): number;
  optionalInt(key: string, min: number, max: number): number | undefined;
  duration(
    key: string,
    unit: "ms" | "s" | "m",
    fallbackMs: number,
    opts: { minMs: number; maxMs: number },
  ): number;
  choice<T extends string>(key: string, choices: readonly T[], fallback: T): T;
  /** A text key that, when present, must not be empty. */
  text(key: string): V | undefined;
}

// createSectionReader is long because it is a factory: it returns one small closure per way of
// reading a key, all sharing the set of keys read so far.
/**
 * Make a reader over `entries` (a block's entries, possibly merged with command-line overrides).
 * `label` names the block in messages (`<action>`, `<template exec>`), or is `""` for the file.
 */
export function createSectionReader<V extends Val>(
  entries: ReadonlyMap<string, ReaderEntry<V>>,
  where: ConfigWhere,
  label: string,
  sink: Sink,
): SectionReader<V> {
  const used = new Set<string>();
  const inBlock = label ? ` in ${label}` : "";
  const push = (
    severity: "error" | "warning",
    code: ConfigCode,
    at: Where,
    message: string,
  ): void => {
    sink.diagnostics.push({ code, severity, message, where: at });
  };
  const error = (code: ConfigCode, at: Where, message: string): void =>
    push("error", code, at, message);
  const take = (key: string): ReaderEntry<V> | undefined => {
    used.add(key);
    return entries.get(key);
  };
  const values = (key: string): V[] => {
    const entry = take(key);
    if (!entry) return [];
    if (entry.kind === "values") return entry.values;
    const first =
      entry.kind === "blocks"
        ? entry.blocks[0]
        : entry.blocks.values().next().value;
    error(
      "CONFIG_EXPECTED_VALUE",
      first?.where ?? where,
      `${key} must be a value (${key} = …), not a block${inBlock}`,
    );
    return [];
  };
  // Memoized so that a key may be looked at twice without reporting it twice.
  const seen = new Map<string, V | undefined>();
  const one = (key: string): V | undefined => {
    if (seen.has(key)) return seen.get(key);
    const all = values(key);
    const [first, second] = all;
    if (first && second) {
      error(
        "CONFIG_REPEATED_KEY",
        second.where,
        `${key} is set twice${inBlock}: at ${formatWhere(first.where)} and ${formatWhere(second.where)}`,
      );
    }
    const last = all.at(-1);
    seen.set(key, last);
    return last;
  };
  const blockError = (
    type: string,
    entry: ReaderEntry<V>,
    named: boolean,
  ): void => {
    if (entry.kind === "values") {
      error(
        "CONFIG_EXPECTED_BLOCK",
        entry.values[0]?.where ?? where,
        `${type} must be a block <${type}${named ? " NAME" : ""}> … </${type}>, not a value`,
      );
    } else {
      const first =
        entry.kind === "blocks"
          ? entry.blocks[0]
          : entry.blocks.values().next().value;
      error(
        "CONFIG_BLOCK_NAME",
        first?.where ?? where,
        named
          ? `<${type}> needs a name: <${type} NAME>`
          : `<${type}> takes no name`,
      );
    }
  };
  const bad = (code: ConfigCode, v: V, key: string, expected: string): void =>
    error(
      code,
      v.where,
      `${key} must be ${expected}, got ${quoteValue(v.text)}`,
    );

  return {
    where,
    error,
    warn: (code, at, message) => push("warning", code, at, message),
    one,
    whereOf(key) {
      const entry = entries.get(key);
      return entry?.kind === "values" ? entry.values.at(-1)?.where : undefined;
    },
    many: values,
    anonymous(type) {
      const entry = take(type);
      if (!entry) return [];
      if (entry.kind === "blocks") return entry.blocks;
      blockError(type, entry, false);
      return [];
    },
    named(type) {
      const entry = take(type);
      if (!entry) return new Map();
      if (entry.kind === "named") return entry.blocks;
      blockError(type, entry, true);
      return new Map();
    },
    rest() {
      const out = [...entries].filter(([k]) => !used.has(k));
      for (const [k] of out) used.add(k);
      return out;
    },
    finish() {
      for (const [key, entry] of entries) {
        if (used.has(key)) continue;
        if (entry.kind === "values") {
          for (const v of entry.values) {
            error(
              "CONFIG_UNKNOWN_KEY",
              v.where,
              `unknown key ${quoteValue(key)}${inBlock}`,
            );
          }
        } else {
          const blocks =
            entry.kind === "blocks" ? entry.blocks : [...entry.blocks.values()];
          for (const b of blocks) {
            error(
              "CONFIG_UNKNOWN_BLOCK",
              b.where,
              `unknown block <${key}>${inBlock}`,
            );
          }
        }
      }
    },
    bool(key, fallback) {
      const v = one(key);
      if (!v) return fallback;
      const b = parseBoolean(v.text);
      if (b === undefined) {
        bad(
          "CONFIG_BAD_BOOLEAN",
          v,
          key,
          "yes or no (also on/off, true/false, 1/0)",
        );
      }
      return b ?? fallback;
    },
    int(key, fallback, min, max) {
      return this.optionalInt(key, min, max) ?? fallback;
    },
    optionalInt(key, min, max) {
      const v = one(key);
      if (!v) return undefined;
      const n = parseInteger(v.text);
      if (n === undefined || n < min || n > max) {
        bad("CONFIG_BAD_INTEGER", v, key, `an integer from ${min} to ${max}`);
        return undefined;
      }
      return n;
    },
    duration(key, unit, fallbackMs, { minMs, maxMs }) {
      const v = one(key);
      if (!v) return fallbackMs;
      const ms = parseDuration(v.text, unit);
      const unitName = { ms: "milliseconds", s: "seconds", m: "minutes" }[unit];
      const example = { ms: "50ms", s: "30s", m: "5m" }[unit];
      if (ms === undefined) {
        bad(
          "CONFIG_BAD_DURATION",
          v,
          key,
          `${unitName} or a duration like "${example}"`,
        );
        return fallbackMs;
      }
      if (ms < minMs || ms > maxMs) {
        const range = `from ${formatMs(minMs)} to ${formatMs(maxMs)}`;
        bad("CONFIG_BAD_DURATION", v, key, range);
        return fallbackMs;
      }
      return ms;
    },
    choice(key, choices, fallback) {
      const v = one(key);
      if (!v) return fallback;
      const c = matchChoice(v.text, choices);
      if (c === undefined)
        bad("CONFIG_BAD_ENUM", v, key, `one of ${choices.join(", ")}`);
      return c ?? fallback;
    },
    text(key) {
      const v = one(key);
      if (v && v.text === "") {
        error(
          "CONFIG_EMPTY_VALUE",
          v.where,
          `${key} must not be empty${inBlock}`,
        );
      }
      return v;
    },
  };
}

function formatMs(ms: number): string {
  if (ms === 0) return "0";
  if (ms % 86_400_000 === 0) return `${ms / 86_400_000} days`;
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
