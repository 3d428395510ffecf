/**
 * The Config::General dialect parser (spec: config.md "Syntax"). Phase 2, a port of
 * `Config::General::_parse` (2.65) with stricter checks: logical lines → a tree of keys and blocks
 * in which every value keeps its file, line and column. Pure: includes come through a callback.
 */
import type { Diagnostic } from "@portknock/core";
import { quoteValue, sortDiagnostics } from "@portknock/core";
import type { GeneralCode } from "./codes.ts";
import type { ConfigWhere } from "./types.ts";
import type { GeneralBlock, GeneralValue } from "./general-tree.ts";
import type { Report } from "./parse-general-tree.ts";
import {
  addBlock,
  addValue,
  blockLabel,
  lineOf,
} from "./parse-general-tree.ts";
import type { Chunk } from "./parse-general-lines.ts";
import type { IncludeFn } from "./parse-general-include.ts";
import { readChunks } from "./parse-general-include.ts";
import type { Seg, SourceText } from "./source-text.ts";
import { WS, segWhere, trimSeg, trimText } from "./source-text.ts";

/** Options of `parseGeneral`. */
export interface ParseGeneralOptions {
  /** The name of the file the text came from: every diagnostic and value location names it. */
  file: string;
  /**
   * Reads `<<include PATH>>` written in `fromFile` (resolve `PATH` relative to it). Without it, an
   * include is a `CONFIG_INCLUDE_FAILED` diagnostic. May return or throw an `Error`.
   */
  include?: IncludeFn;
}

/** What `parseGeneral` returns: the tree (best effort, even with errors) and every diagnostic. */
export interface ParseGeneralResult {
  tree: GeneralBlock;
  diagnostics: Diagnostic<GeneralCode>[];
  /** Every file read, the main file first. */
  files: string[];
}

const SPLIT = new RegExp(`${WS}*=${WS}*|${WS}+`);
const OPEN = /^<([^/][\s\S]*)>$/;
const CLOSE = /^<\/([\s\S]+?)>$/;
const QUOTED_BLOCK = /^"([^"]+)"$/;
const NAMED_BLOCK = /^(?:"([^"]+)"|(\S+))(?:\s+(?:"([^"]+)"|([\s\S]*)))?$/;
const QUOTED_VALUE = /^"((?:[^"\\]|\\[\s\S])*)"$/;

/**
 * Parse Config::General text into a tree. Keys and block types are lower-cased, block names keep
 * their case; repeated keys form a list, repeated anonymous blocks an ordered list, named blocks a
 * map by name. Never throws: every problem (unclosed or mismatched block, include cycle, duplicate
 * named block, …) is a diagnostic naming file and line, and all of them are collected.
 *
 * @example
 * const { tree, diagnostics } = parseGeneral("knock = IP,PORT\n", { file: "k.conf" });
 */
export function parseGeneral(
  text: string,
  options: ParseGeneralOptions,
): ParseGeneralResult {
  const read = readChunks(text, options.file, options.include);
  const diagnostics = read.diagnostics;
  const root: GeneralBlock = {
    type: "",
    where: { kind: "config", file: options.file, line: 1, column: 1 },
    entries: new Map(),
  };
  const stack: GeneralBlock[] = [];
  const report = (
    code: GeneralCode,
    where: ConfigWhere,
    message: string,
  ): void => {
    diagnostics.push({ code, severity: "error", message, where });
  };
  const current = (): GeneralBlock => stack.at(-1) ?? root;

  for (const chunk of read.chunks) {
    if (chunk.kind === "heredoc") {
      const { key, value } = hereDocValue(chunk);
      addValue(current(), key, value, report);
      continue;
    }
    const seg = trimSeg(chunk.seg);
    const where = segWhere(chunk.src, seg);
    const open = OPEN.exec(seg.s);
    if (open) {
      const block = openBlock(open[1] ?? "", where, report);
      if (block) {
        addBlock(current(), block, report);
        stack.push(block);
      }
      continue;
    }
    const close = CLOSE.exec(seg.s);
    if (close) {
      closeBlock(stack, close[1] ?? "", where, report);
      continue;
    }
    const option = optionValue(chunk.src, seg, report);
    if (option) addValue(current(), option.key, option.value, report);
  }
  for (const block of stack) {
    report(
      "CONFIG_UNCLOSED_BLOCK",
      block.where,
      `<${blockLabel(block)}> is not closed: expected </${block.type}>`,
    );
  }
  return {
    tree: root,
    diagnostics: sortDiagnostics(diagnostics, read.files),
    files: read.files,
  };
}

/** `"x"` → `x` when the quotes wrap the whole value; then `\#`, `\"`, `\$`, `\\` → the character. */
function cookValue(raw: string): string {
  const quoted = QUOTED_VALUE.exec(raw);
  const value = quoted ? (quoted[1] ?? "") : raw;
  return value.replace(/\\([$\\"#])/g, "$1");
}

interface KeyedValue {
  key: string;
  value: GeneralValue;
}

function hereDocValue(chunk: Extract<Chunk, { kind: "heredoc" }>): KeyedValue {
  const key = trimSeg(chunk.key);
  const { file } = chunk.src;
  return {
    key: key.s.toLowerCase(),
    value: {
      text: cookValue(trimText(chunk.body)),
      where: { kind: "config", file, line: chunk.bodyLine, column: 1 },
      keyWhere: segWhere(chunk.src, key),
    },
  };
}

function optionValue(
  src: SourceText,
  seg: Seg,
  report: Report,
): KeyedValue | undefined {
  // As Perl's `split /\s*=\s*|\s+/, $_, 2`: the first `=` or whitespace run ends the key.
  const sep = SPLIT.exec(seg.s);
  const keyEnd = sep ? sep.index : seg.s.length;
  const valueStart = sep ? sep.index + sep[0].length : seg.s.length;
  const key = seg.s.slice(0, keyEnd);
  const keyWhere = segWhere(src, seg);
  if (key === "") {
    report(
      "CONFIG_SYNTAX",
      keyWhere,
      `line has no key name before ${quoteValue(seg.s)}`,
    );
    return undefined;
  }
  return {
    key: key.toLowerCase(),
    value: {
      text: cookValue(seg.s.slice(valueStart)),
      where: segWhere(src, seg, valueStart),
      keyWhere,
    },
  };
}

function openBlock(
  inner: string,
  where: ConfigWhere,
  report: Report,
): GeneralBlock | undefined {
  let type: string | undefined;
  let name: string | undefined;
  const quoted = QUOTED_BLOCK.exec(inner);
  if (quoted) {
    type = quoted[1];
  } else {
    const named = NAMED_BLOCK.exec(inner.trim());
    type = named?.[1] ?? named?.[2];
    name = named?.[3] ?? named?.[4]?.trim();
  }
  if (!type) {
    report("CONFIG_SYNTAX", where, `block line <${inner}> has no block type`);
    return undefined;
  }
  return {
    type: type.toLowerCase(),
    ...(name ? { name } : {}),
    where,
    entries: new Map(),
  };
}

function closeBlock(
  stack: GeneralBlock[],
  inner: string,
  where: ConfigWhere,
  report: Report,
): void {
  const word = /^\s*(?:"([^"]*)"|(\S*))/.exec(inner);
  const type = (word?.[1] ?? word?.[2] ?? "").toLowerCase();
  const top = stack.at(-1);
  if (!top) {
    report("CONFIG_STRAY_CLOSE", where, `</${inner}> closes no open block`);
    return;
  }
  if (top.type === type) {
    stack.pop();
    return;
  }
  const outer = stack.findLastIndex((b) => b.type === type);
  if (outer >= 0) {
    report(
      "CONFIG_MISMATCHED_CLOSE",
      where,
      `</${inner}> closes <${type}> but <${blockLabel(top)}> (${lineOf(top.where)}) is still open`,
    );
    stack.length = outer;
  } else {
    // Config::General closes the innermost block whatever the name; we do too, after reporting.
    report(
      "CONFIG_MISMATCHED_CLOSE",
      where,
      `</${inner}> does not match <${blockLabel(top)}> (${lineOf(top.where)}): expected </${top.type}>`,
    );
    stack.pop();
  }
}
