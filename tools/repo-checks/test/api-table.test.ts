/**
 * Every export of a package's `src/index.ts` has a row in the "API" table of its README, and the
 * table names nothing the package does not export (issue #14: API-first READMEs).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));

/** The packages whose README API table is checked; add a package once its table is complete. */
const API_TABLE_PACKAGES: readonly string[] = [
  "core",
  "codec",
  "config",
  "engine",
  "pcap",
  "logsource",
  "detector",
  "firewall",
  "cluster",
  "knock",
  "knockd",
];

/**
 * The names `src/index.ts` exports. STYLE.md §1 allows explicit named re-exports only
 * (`export { a, b as c } from "./x.ts"`, `export type { T } from …`); anything else is reported
 * in `other` so that the test fails instead of missing a name.
 */
function indexExports(text: string): { names: string[]; other: string[] } {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/\/\/.*$/gm, "");
  const names: string[] = [];
  const clauses =
    /export\s+(?:type\s+)?\{([^}]*)\}\s*from\s*["'][^"']+["']\s*;?/g;
  for (const m of code.matchAll(clauses)) {
    for (const part of (m[1] ?? "").split(",")) {
      const spec = part.trim().replace(/^type\s+/, "");
      if (spec === "") continue;
      const alias = /\bas\s+([A-Za-z_$][\w$]*)$/.exec(spec);
      names.push(alias?.[1] ?? spec);
    }
  }
  const other = [
    ...code.replace(clauses, "").matchAll(/\bexport\b[^\n]*/g),
  ].map((m) => m[0]);
  return { names, other };
}

/** The names the first column of the README's "## API" table lists: each code span's leading identifier. */
function apiTableNames(readme: string): string[] {
  const start = readme.search(/^## API\s*$/m);
  if (start < 0) return [];
  const rest = readme.slice(start).split("\n").slice(1);
  const end = rest.findIndex((line) => /^## /.test(line));
  const names: string[] = [];
  for (const line of end < 0 ? rest : rest.slice(0, end)) {
    if (!line.startsWith("|") || /^\|\s*-/.test(line)) continue;
    const first = line.split(/(?<!\\)\|/)[1] ?? "";
    for (const m of first.matchAll(/`([A-Za-z_$][\w$]*)/g))
      names.push(m[1] ?? "");
  }
  return names;
}

describe("README API tables (#14)", () => {
  it("reads the names of explicit re-exports, aliases and type exports", () => {
    expect(
      indexExports(
        'export type { A, B } from "./a.ts";\nexport { c, d as e } from "./c.ts";\n// export { f } from "./f.ts";',
      ),
    ).toEqual({ names: ["A", "B", "c", "e"], other: [] });
    expect(indexExports("export const x = 1;").other).toEqual([
      "export const x = 1;",
    ]);
  });

  it("reads the first column of the API table only", () => {
    const readme = [
      "# p",
      "| `notApi` | x |",
      "## API",
      "| export | what |",
      "| --- | --- |",
      "| `a(x)` → `B`, `C` | uses `d` |",
      "## Next",
      "| `e` | x |",
    ].join("\n");
    expect(apiTableNames(readme)).toEqual(["a", "B", "C"]);
  });

  describe.each(API_TABLE_PACKAGES)("@portknock/%s", (pkg) => {
    const dir = join(ROOT, "packages", pkg);
    const exported = indexExports(
      readFileSync(join(dir, "src/index.ts"), "utf8"),
    );
    const listed = new Set(
      apiTableNames(readFileSync(join(dir, "README.md"), "utf8")),
    );

    it("src/index.ts has explicit named re-exports only", () => {
      expect(exported.other).toEqual([]);
      expect(exported.names.length).toBeGreaterThan(0);
    });

    it("lists every export in the README's API table", () => {
      const missing = exported.names.filter((n) => !listed.has(n));
      expect(
        missing,
        `missing from packages/${pkg}/README.md "## API"`,
      ).toEqual([]);
    });

    it("lists nothing in the API table that is not exported", () => {
      const names = new Set(exported.names);
      const stale = [...listed].filter((n) => !names.has(n));
      expect(stale, `not exported by packages/${pkg}/src/index.ts`).toEqual([]);
    });
  });
});
