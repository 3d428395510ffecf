import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../src/load-config.ts";
import { toPlainObject } from "../src/general-tree.ts";
import type { PlainValue } from "../src/general-tree.ts";
import { fixture } from "./fixtures.ts";

// The golden files were written by Perl's Config::General 2.65 (test/fixtures/oracle/regen.sh)
// with the prototype's options, so they include -AutoTrue, which converts every value; our tree
// converts only schema booleans. Both sides are therefore compared after the same normalisation:
// AutoTrue words become "1"/"0", numbers become strings, and Perl's undef (a key without a value)
// becomes "".

type Json = null | number | string | Json[] | { [key: string]: Json };

function normalise(value: Json | PlainValue): Json {
  if (value === null) return "";
  if (typeof value === "number") return String(value);
  if (typeof value === "string") {
    if (/^(on|yes|true|1)$/i.test(value)) return "1";
    if (/^(off|no|false|0)$/i.test(value)) return "0";
    return value;
  }
  if (Array.isArray(value)) return value.map(normalise);
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k, normalise(v)]),
  );
}

function golden(name: string): { [key: string]: Json } {
  return JSON.parse(
    readFileSync(fixture("oracle", `${name}.golden.json`), "utf8"),
  ) as { [key: string]: Json };
}

function ours(...path: string[]): { [key: string]: Json } {
  const r = loadConfig(fixture(...path));
  expect(r.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  return normalise(toPlainObject(r.tree)) as { [key: string]: Json };
}

describe("the Config::General oracle", () => {
  it("gives Perl's tree for a sample that uses every feature", () => {
    const tree = ours("oracle", "sample.conf");
    expect(tree).toEqual(normalise(golden("sample")));
    // Key order is the file's: first appearance wins.
    expect(Object.keys(tree).slice(0, 4)).toEqual([
      "spaced",
      "tabbed",
      "tight",
      "mixedcase",
    ]);
  });

  it.each(["file-mode", "network-mode", "templates"])(
    "gives Perl's tree for the manual's %s example",
    (name) => {
      expect(ours("manual", `${name}.conf`)).toEqual(normalise(golden(name)));
    },
  );

  it("differs from Perl only where the README says so", () => {
    const perl = normalise(golden("differences")) as { [key: string]: Json };
    const tree = ours("oracle", "differences.conf");
    // Quotes are removed only when they wrap the whole value.
    expect(perl.partial_quotes).toBe('/bin/prog" "an argument');
    expect(tree.partial_quotes).toBe('"/bin/prog" "an argument"');
    // `<name/>` followed by spaces is still an empty block.
    expect(perl["spaced_empty/"]).toEqual({});
    expect(tree.spaced_empty).toEqual({});
    // Block names are trimmed.
    expect(perl.named).toEqual({ "trailing ": {} });
    expect(tree.named).toEqual({ trailing: {} });
    // A last line ending in `\` is kept (with a warning), not dropped.
    expect(perl.continued_last_line).toBeUndefined();
    expect(tree.continued_last_line).toBe("kept");
    // Everything else is the same.
    const rest = (t: { [key: string]: Json }): { [key: string]: Json } =>
      Object.fromEntries(
        Object.entries(t).filter(
          ([k]) => !/partial|spaced|named|continued/.test(k),
        ),
      );
    expect(rest(tree)).toEqual(rest(perl));
    expect(Object.keys(rest(tree))).toEqual(["same"]);
  });
});
