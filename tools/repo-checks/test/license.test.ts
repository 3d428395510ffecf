/**
 * The licence ships with every package (#18): the root `LICENSE` is the GNU GPL version 2 text
 * (the packages are "GPL-2.0-or-later"), and every published package carries a byte-identical
 * copy that its `files` list names, so `npm pack` and the Debian package both include it.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));
const PACKAGES = join(ROOT, "packages");

interface Manifest {
  name: string;
  private?: boolean;
  license?: string;
  files?: string[];
}

const dirs = readdirSync(PACKAGES).filter((d) =>
  statSync(join(PACKAGES, d, "package.json"), { throwIfNoEntry: false }),
);
const licence = readFileSync(join(ROOT, "LICENSE"), "utf8");

describe("LICENSE (#18)", () => {
  it("the root LICENSE is the full GNU GPL version 2", () => {
    expect(licence).toMatch(
      /^\s*GNU GENERAL PUBLIC LICENSE\s+Version 2, June 1991/,
    );
    expect(licence).toContain("END OF TERMS AND CONDITIONS");
    expect(licence).toContain("How to Apply These Terms to Your New Programs");
  });

  it.each(dirs)("packages/%s ships the same LICENSE", (dir) => {
    const pkg = JSON.parse(
      readFileSync(join(PACKAGES, dir, "package.json"), "utf8"),
    ) as Manifest;
    expect(pkg.private ?? false).toBe(false);
    expect(pkg.license).toBe("GPL-2.0-or-later");
    expect(pkg.files).toContain("LICENSE");
    const copy = readFileSync(join(PACKAGES, dir, "LICENSE"), "utf8");
    expect(
      copy === licence,
      `packages/${dir}/LICENSE differs from LICENSE`,
    ).toBe(true);
  });
});
