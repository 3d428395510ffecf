/** Helpers shared by the parseGeneral tests. */
import { expect } from "vitest";
import { parseGeneral } from "../src/parse-general.ts";
import type { ParseGeneralResult } from "../src/parse-general.ts";
import { toPlainObject } from "../src/general-tree.ts";
import type { GeneralBlock, GeneralValue } from "../src/general-tree.ts";

/** Parse `text` as `main.conf`; `files` are the includable files, by path. */
export function parse(
  text: string,
  files: Record<string, string> = {},
): ParseGeneralResult {
  return parseGeneral(text, {
    file: "main.conf",
    include: (path, fromFile) => {
      const file = fromFile.includes("/")
        ? fromFile.replace(/[^/]*$/, path)
        : path;
      const content = files[file];
      return content === undefined
        ? new Error(`ENOENT: no such file ${file}`)
        : { file, text: content };
    },
  });
}

export function plain(text: string, files?: Record<string, string>): unknown {
  const result = parse(text, files);
  expect(result.diagnostics).toEqual([]);
  return toPlainObject(result.tree);
}

export function codes(result: ParseGeneralResult): [string, number][] {
  return result.diagnostics.map((d) => [
    d.code,
    d.where.kind === "config" ? d.where.line : -1,
  ]);
}

export function value(tree: GeneralBlock, key: string, i = 0): GeneralValue {
  const entry = tree.entries.get(key);
  if (entry?.kind !== "values") throw new Error(`no values for ${key}`);
  const v = entry.values[i];
  if (!v) throw new Error(`no value ${i} for ${key}`);
  return v;
}
