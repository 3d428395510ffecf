/**
 * `tools/fuzz/run.js` (issue #16), bounded for CI: a second of each target over the built
 * packages finds nothing, and the harness reports a crash, a broken rule and a hang (its
 * `selftest` target) with the input saved. Longer runs: `node tools/fuzz/run.js all --seconds
 * 600` (README in tools/fuzz).
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it, onTestFinished } from "vitest";

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));
const RUN = join(ROOT, "tools/fuzz/run.js");

function fuzz(args: string[]): {
  code: number | null;
  stdout: string;
  out: string;
} {
  const out = mkdtempSync(join(tmpdir(), "pk-fuzz-"));
  onTestFinished(() => rmSync(out, { recursive: true, force: true }));
  const r = spawnSync(process.execPath, [RUN, ...args, "--out", out], {
    encoding: "utf8",
    timeout: 120_000,
  });
  return { code: r.status, stdout: r.stdout + r.stderr, out };
}

describe.skipIf(!existsSync(join(ROOT, "packages/pcap/dist/index.js")))(
  "tools/fuzz (needs pnpm build)",
  () => {
    it("a second of configs, lines, frames and pcaps finds no crash, broken rule or hang", () => {
      const r = fuzz(["all", "--seconds", "1", "--seed", "16"]);
      expect(r.stdout).toMatch(/seed 16/);
      for (const target of ["configs", "lines", "frames", "pcaps"]) {
        expect(r.stdout).toMatch(
          new RegExp(
            `^${target} +[1-9]\\d* cases .*: 0 crashes, 0 findings, 0 hangs`,
            "m",
          ),
        );
      }
      expect(r.code, r.stdout).toBe(0);
    }, 120_000);

    it("reports and saves a crash, a broken rule and a hang, exit 1", () => {
      const r = fuzz([
        "selftest",
        "--seconds",
        "2",
        "--hang-ms",
        "500",
        "--seed",
        "3",
      ]);
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(/1 crashes, 1 findings, 1 hangs/);
      expect(readFileSync(join(r.out, "selftest-hang-3.input"), "utf8")).toBe(
        "3",
      );
      expect(readFileSync(join(r.out, "selftest-crash-1.txt"), "utf8")).toMatch(
        /TypeError: selftest crash/,
      );
    }, 120_000);
  },
);
