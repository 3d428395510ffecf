/**
 * Building the parse tree: how values and blocks are added to a block, with Config::General's
 * rules for repeated names made strict (spec: config.md "Syntax").
 */
import { quoteValue } from "@portknock/core";
import type { GeneralCode } from "./codes.ts";
import type { ConfigWhere } from "./types.ts";
import type {
  GeneralBlock,
  GeneralEntry,
  GeneralValue,
} from "./general-tree.ts";

/** Reports an error at a place. */
export type Report = (
  code: GeneralCode,
  where: ConfigWhere,
  message: string,
) => void;

/** `type NAME` or `type`, for messages. */
export function blockLabel(block: GeneralBlock): string {
  return block.name === undefined ? block.type : `${block.type} ${block.name}`;
}

/** `file:line`, for messages. */
export function lineOf(where: ConfigWhere): string {
  return `${where.file}:${where.line}`;
}

function firstWhere(entry: GeneralEntry): ConfigWhere | undefined {
  switch (entry.kind) {
    case "values":
      return entry.values[0]?.keyWhere;
    case "blocks":
      return entry.blocks[0]?.where;
    case "named":
      return entry.blocks.values().next().value?.where;
  }
}

function describe(entry: GeneralEntry): string {
  return entry.kind === "values"
    ? "a key"
    : entry.kind === "blocks"
      ? "a block without a name"
      : "a named block";
}

function conflict(
  name: string,
  entry: GeneralEntry,
  as: string,
  where: ConfigWhere,
  report: Report,
): void {
  const first = firstWhere(entry);
  report(
    "CONFIG_KEY_CONFLICT",
    where,
    `${quoteValue(name)} is used as ${as} here but as ${describe(entry)}${
      first ? ` at ${lineOf(first)}` : ""
    }`,
  );
}

/** Add a key's value to a block; a name already used for blocks is `CONFIG_KEY_CONFLICT`. */
export function addValue(
  block: GeneralBlock,
  key: string,
  value: GeneralValue,
  report: Report,
): void {
  const entry = block.entries.get(key);
  if (!entry) block.entries.set(key, { kind: "values", values: [value] });
  else if (entry.kind === "values") entry.values.push(value);
  else conflict(key, entry, "a key", value.keyWhere, report);
}

/**
 * Add a block to its parent: anonymous blocks form a list, named ones a map by name (a repeated
 * name is `CONFIG_DUPLICATE_BLOCK`); mixing kinds under one name is `CONFIG_KEY_CONFLICT`.
 */
export function addBlock(
  parent: GeneralBlock,
  block: GeneralBlock,
  report: Report,
): void {
  const entry = parent.entries.get(block.type);
  if (block.name === undefined) {
    if (!entry)
      parent.entries.set(block.type, { kind: "blocks", blocks: [block] });
    else if (entry.kind === "blocks") entry.blocks.push(block);
    else
      conflict(
        block.type,
        entry,
        "a block without a name",
        block.where,
        report,
      );
    return;
  }
  if (!entry) {
    parent.entries.set(block.type, {
      kind: "named",
      blocks: new Map([[block.name, block]]),
    });
  } else if (entry.kind !== "named") {
    conflict(block.type, entry, "a named block", block.where, report);
  } else {
    const previous = entry.blocks.get(block.name);
    if (previous) {
      // compat: Config::General turns a repeated named block into a list; a repeated template or
      // logformat name is almost always a mistake, so it is an error here.
      report(
        "CONFIG_DUPLICATE_BLOCK",
        block.where,
        `<${blockLabel(block)}> is defined twice: here and at ${lineOf(previous.where)}`,
      );
    } else {
      entry.blocks.set(block.name, block);
    }
  }
}
