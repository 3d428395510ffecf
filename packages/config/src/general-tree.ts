/**
 * The generic parse tree of a Config::General file (spec: config.md "Syntax"): what `parseGeneral`
 * returns before any schema is applied. Every value keeps the file, line and column it came from.
 */
import type { ConfigWhere, LocatedText } from "./types.ts";

/** One `name = value` (or here-document) entry: the value as text, and where value and key were. */
export interface GeneralValue extends LocatedText {
  /** Where the key was written (its first character). */
  keyWhere: ConfigWhere;
}

/**
 * What one name maps to inside a block. A name is used in one way only: values (repeated keys
 * form the list), anonymous blocks (repeated ones form the ordered list) or named blocks (by name).
 */
export type GeneralEntry =
  | { kind: "values"; values: GeneralValue[] }
  | { kind: "blocks"; blocks: GeneralBlock[] }
  | { kind: "named"; blocks: Map<string, GeneralBlock> };

/** A block (`<type>` or `<type NAME>`), or the whole file (type `""`). */
export interface GeneralBlock {
  /** Block type, lower-cased (`<Template x>` is `template`); `""` for the file itself. */
  type: string;
  /** The block's name as written (case kept); absent for anonymous blocks and the file. */
  name?: string;
  /** Where the `<type …>` line is (line 1, column 1 for the file). */
  where: ConfigWhere;
  /** Lower-cased key or block type → its entry, in order of first appearance. */
  entries: Map<string, GeneralEntry>;
}

/** A plain JSON-like value shaped like Config::General's `getall` result. */
export type PlainValue = string | PlainObject | PlainValue[];

/** A plain JSON-like object shaped like Config::General's `getall` result. */
export interface PlainObject {
  [key: string]: PlainValue;
}

/**
 * Convert a parse tree into the shape Perl's `Config::General->getall` returns (with
 * `-AllowMultiOptions`, `-LowerCaseNames`): a key used once is a string, a repeated key an array;
 * an anonymous block used once is an object, a repeated one an array of objects; named blocks are
 * an object keyed by name. Locations are dropped. Useful for debugging and oracle tests.
 */
export function toPlainObject(block: GeneralBlock): PlainObject {
  const out: PlainObject = {};
  for (const [key, entry] of block.entries) {
    switch (entry.kind) {
      case "values": {
        const texts = entry.values.map((v) => v.text);
        setOwn(out, key, texts.length === 1 ? (texts[0] ?? "") : texts);
        break;
      }
      case "blocks": {
        const objects = entry.blocks.map(toPlainObject);
        setOwn(out, key, objects.length === 1 ? (objects[0] ?? {}) : objects);
        break;
      }
      case "named": {
        const named: PlainObject = {};
        for (const [name, b] of entry.blocks) {
          setOwn(named, name, toPlainObject(b));
        }
        setOwn(out, key, named);
        break;
      }
    }
  }
  return out;
}

// Keys come from the file: `__proto__` must become a key, not a prototype.
function setOwn(target: PlainObject, key: string, value: PlainValue): void {
  Object.defineProperty(target, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}
