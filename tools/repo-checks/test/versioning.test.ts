/**
 * One version for the whole release (#18): every published `@portknock/*` package is in the one
 * changesets `fixed` group, so `pnpm version-packages` (`changeset version`) gives them all the
 * same version, and they carry the same version now. The private tools are not versioned.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));
const PACKAGES = join(ROOT, "packages");

interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  files?: string[];
}

function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, "utf8")) as T;
}

const published = readdirSync(PACKAGES)
  .filter((d) =>
    statSync(join(PACKAGES, d, "package.json"), { throwIfNoEntry: false }),
  )
  .map((d) => readJson<Manifest>(join(PACKAGES, d, "package.json")))
  .filter((m) => m.private !== true);

const changesets = readJson<{
  fixed: string[][];
  linked: string[][];
  privatePackages?: { version: boolean; tag: boolean };
}>(join(ROOT, ".changeset", "config.json"));

describe("versioning (#18)", () => {
  it("one changesets fixed group holds exactly the published packages", () => {
    expect(changesets.fixed).toHaveLength(1);
    expect([...(changesets.fixed[0] ?? [])].sort()).toEqual(
      published.map((m) => m.name).sort(),
    );
    expect(changesets.linked).toEqual([]);
    expect(changesets.privatePackages).toEqual({ version: false, tag: false });
  });

  it("the published packages share one version", () => {
    expect(new Set(published.map((m) => m.version)).size).toBe(1);
    expect(published[0]?.version).toMatch(/^\d+\.\d+\.\d+(-[\w.]+)?$/);
  });

  it("each published package ships the CHANGELOG.md changesets writes", () => {
    for (const m of published)
      expect(m.files, m.name).toContain("CHANGELOG.md");
  });

  it("the root has the version-packages and release:npm scripts", () => {
    const root = readJson<{ scripts: Record<string, string> }>(
      join(ROOT, "package.json"),
    );
    expect(root.scripts["version-packages"]).toBe("changeset version");
    expect(root.scripts["release:npm"]).toBe("node tools/release/npm.js");
  });
});
