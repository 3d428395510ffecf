/**
 * Issue #14: every code `knockd` makes is declared in `codes.ts` (audit codes are typed by it
 * too); this test holds the literals and the table together.
 */
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { KNOCKD_CODES } from "../src/index.ts";

const SRC = fileURLToPath(new URL("../src/", import.meta.url));
const sources = readdirSync(SRC, { recursive: true, encoding: "utf8" })
  .filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts"))
  .map((f) => ({ file: f, text: readFileSync(join(SRC, f), "utf8") }));
// A code is a quoted AREA_WHAT literal.
const CODE_LITERAL = /["'`]([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)["'`]/g;

describe("#14: codes.ts declares every code knockd makes", () => {
  it("#14: every code literal in src/ is a key of KNOCKD_CODES", () => {
    const used = sources
      .filter((s) => s.file !== "codes.ts")
      .flatMap((s) =>
        [...s.text.matchAll(CODE_LITERAL)].map((m) => `${m[1]} (${s.file})`),
      );
    expect(used.length).toBeGreaterThan(5);
    const undeclared = used.filter((u) => !(u.split(" ")[0]! in KNOCKD_CODES));
    expect(undeclared).toEqual([]);
  });

  it("#14: every declared code is made somewhere (no orphans)", () => {
    const text = sources
      .filter((s) => s.file !== "codes.ts")
      .map((s) => s.text)
      .join("\n");
    const orphans = Object.keys(KNOCKD_CODES).filter(
      (code) => !text.includes(`"${code}"`),
    );
    expect(orphans).toEqual([]);
  });

  it("#14: each code has a TSDoc line in codes.ts", () => {
    const text = readFileSync(join(SRC, "codes.ts"), "utf8");
    for (const code of Object.keys(KNOCKD_CODES)) {
      expect(text).toMatch(new RegExp(`/\\*\\*[^\\n]+\\*/\\n\\s+${code}:`));
    }
  });
});
