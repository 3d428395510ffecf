/**
 * The package layering of STYLE.md §1 and ARCHITECTURE.md, held by a test: `core` depends on
 * nothing; `codec` and `config` only on `core`; the libraries (`logsource`, `pcap`, `engine`,
 * `detector`, `firewall`) on those; `cluster` (issue #19) on `engine`; the CLIs (`knockd`, `knock`)
 * on the libraries, and nothing on the CLIs. Both the declared dependencies and the imports in the sources are checked.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));
const PACKAGES = join(ROOT, "packages");

/** Layer of each package: a package may depend only on packages of a lower layer. */
const LAYER: Readonly<Record<string, number>> = {
  core: 0,
  codec: 1,
  config: 1,
  logsource: 2,
  pcap: 2,
  engine: 2,
  detector: 2,
  firewall: 2,
  cluster: 3,
  knockd: 4,
  knock: 4,
};

interface Manifest {
  name: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

const dirs = readdirSync(PACKAGES).filter((d) =>
  statSync(join(PACKAGES, d, "package.json"), { throwIfNoEntry: false }),
);

function manifest(dir: string): Manifest {
  return JSON.parse(
    readFileSync(join(PACKAGES, dir, "package.json"), "utf8"),
  ) as Manifest;
}

function internal(deps: Record<string, string> | undefined): string[] {
  return Object.keys(deps ?? {})
    .filter((n) => n.startsWith("@portknock/"))
    .map((n) => n.slice("@portknock/".length));
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(ts|js|mjs)$/.test(e.name)) out.push(p);
    }
  };
  for (const sub of ["src", "bin"]) {
    if (statSync(join(dir, sub), { throwIfNoEntry: false })) {
      walk(join(dir, sub));
    }
  }
  return out;
}

/** The `@portknock/*` packages a file imports (static, dynamic and type imports). */
function importedPackages(text: string): string[] {
  const names = new Set<string>();
  for (const m of text.matchAll(
    /(?:from|import\s*\(|import)\s*["']@portknock\/([a-z-]+)/g,
  )) {
    names.add(m[1] ?? "");
  }
  return [...names];
}

describe("package layering (STYLE.md §1)", () => {
  it("knows the layer of every package", () => {
    for (const dir of dirs) expect(LAYER[dir], dir).toBeTypeOf("number");
  });

  it.each(dirs)(
    "%s declares runtime dependencies on lower layers only",
    (dir) => {
      const m = manifest(dir);
      const own = LAYER[dir] ?? -1;
      const runtime = [
        ...internal(m.dependencies),
        ...internal(m.peerDependencies),
        ...internal(m.optionalDependencies),
      ];
      for (const dep of runtime) {
        expect(LAYER[dep], `${dir} → ${dep}`).toBeLessThan(own);
      }
    },
  );

  it("@portknock/core has no dependencies at all", () => {
    const m = manifest("core");
    expect(m.dependencies ?? {}).toEqual({});
    expect(m.peerDependencies ?? {}).toEqual({});
    expect(m.optionalDependencies ?? {}).toEqual({});
  });

  it("no package but knockd depends on @portknock/logsource, not even for its tests", () => {
    for (const dir of dirs) {
      if (dir === "knockd") continue;
      const m = manifest(dir);
      expect(
        [...internal(m.dependencies), ...internal(m.devDependencies)],
        dir,
      ).not.toContain("logsource");
    }
  });

  it.each(dirs)(
    "%s imports, in its sources, only packages it declares (and may use)",
    (dir) => {
      const m = manifest(dir);
      const declared = new Set(internal(m.dependencies));
      for (const file of sourceFiles(join(PACKAGES, dir))) {
        const isTest = /\.test\.ts$/.test(file);
        for (const name of importedPackages(readFileSync(file, "utf8"))) {
          if (name === dir) continue; // a package's tests may import it by name
          const where = `${relative(ROOT, file)} imports @portknock/${name}`;
          if (isTest) {
            expect(
              declared.has(name) || internal(m.devDependencies).includes(name),
              where,
            ).toBe(true);
          } else {
            expect(declared.has(name), where).toBe(true);
          }
        }
      }
    },
  );

  it("the check sees imports of every form", () => {
    expect(
      importedPackages(
        'import type { A } from "@portknock/core";\nconst x = await import("@portknock/pcap");\nimport "@portknock/codec";',
      ).sort(),
    ).toEqual(["codec", "core", "pcap"]);
  });
});
