/**
 * Issue #14: every code a CLI makes is declared in its `codes.ts` table. One suite for both CLIs:
 * the code literals in `src/` and the table's keys must be the same set, each with a TSDoc line.
 */
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

// A code is a quoted AREA_WHAT literal.
const CODE_LITERAL = /["'`]([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)["'`]/g;

/** Declares the suite for the package whose sources are in `srcDir` and table is `table`. */
export function describeCodesTable(
  program: string,
  srcDir: string,
  table: Readonly<Record<string, unknown>>,
): void {
  const sources = readdirSync(srcDir, { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts"))
    .map((f) => ({
      file: f,
      // Code, not comments: a comment may name an environment variable in backticks.
      text: readFileSync(join(srcDir, f), "utf8")
        .replace(/\/\*[\s\S]*?\*\//g, "")
        .replace(/^\s*\/\/.*$/gm, ""),
    }));
  const others = sources.filter((s) => s.file !== "codes.ts");

  describe(`#14: codes.ts declares every code ${program} makes`, () => {
    it("every code literal in src/ is a key of the table", () => {
      const used = others.flatMap((s) =>
        [...s.text.matchAll(CODE_LITERAL)].map((m) => `${m[1]} (${s.file})`),
      );
      expect(used.length).toBeGreaterThan(3);
      expect(used.filter((u) => !(u.split(" ")[0]! in table))).toEqual([]);
    });

    it("every declared code is made somewhere (no orphans)", () => {
      const text = others.map((s) => s.text).join("\n");
      expect(
        Object.keys(table).filter((code) => !text.includes(`"${code}"`)),
      ).toEqual([]);
    });

    it("each code has a TSDoc line in codes.ts", () => {
      const text = readFileSync(join(srcDir, "codes.ts"), "utf8");
      for (const code of Object.keys(table)) {
        expect(text).toMatch(new RegExp(`/\\*\\*[^\\n]+\\*/\\n\\s+${code}:`));
      }
    });
  });
}
