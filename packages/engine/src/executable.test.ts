import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { checkExecutable } from "./executable.ts";
import { spawnRunner } from "./runner.ts";

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

function dir(): string {
  const d = mkdtempSync(join(tmpdir(), "portknock-exec-"));
  onTestFinished(() => rmSync(d, { recursive: true, force: true }));
  writeFileSync(join(d, "tool"), "#!/bin/sh\necho ran\n");
  chmodSync(join(d, "tool"), 0o755);
  writeFileSync(join(d, "plain"), "#!/bin/sh\necho ran\n");
  chmodSync(join(d, "plain"), 0o644);
  mkdirSync(join(d, "sub"));
  return d;
}

/** `reason: message`, or "ok". */
function verdict(file: string, path: string | undefined): string {
  const problem = checkExecutable(file, path);
  return problem == null ? "ok" : `${problem.reason}: ${problem.message}`;
}

describe("checkExecutable", () => {
  it("finds paths and bare names on PATH as spawn does, and says why not", async () => {
    const d = dir();
    const other = dir();
    const path = `${other}:${d}`;
    expect(verdict(join(d, "tool"), path)).toBe("ok");
    expect(verdict("tool", path)).toBe("ok");
    expect(verdict(join(d, "absent"), path)).toMatch(/^missing: .*ENOENT/);
    expect(verdict(join(d, "tool", "x"), path)).toMatch(/^missing: .*ENOTDIR/);
    expect(verdict(join(d, "plain"), path)).toMatch(
      /^not-executable: .*EACCES/,
    );
    expect(verdict(join(d, "sub"), path)).toMatch(
      /^not-executable: .*a directory/,
    );
    expect(verdict("absent", path)).toMatch(/^missing: /);
    // Found only without the execute bit: spawn fails with EACCES, not ENOENT.
    expect(verdict("plain", path)).toMatch(
      new RegExp(`^not-executable: .*${escape(join(other, "plain"))}`),
    );
    // The verdicts agree with what spawning them really does.
    const run = spawnRunner({ env: { PATH: path } });
    const spawned = async (file: string): Promise<string | undefined> =>
      (await run([file], { timeoutMs: 5000 })).error?.code;
    expect(await spawned("tool")).toBeUndefined();
    expect(await spawned("absent")).toBe("ENOENT");
    expect(await spawned("plain")).toBe("EACCES");
    expect(await spawned(join(d, "sub"))).toBe("EACCES");
  });

  it("an empty PATH entry is the working directory; an unset PATH is /bin:/usr/bin", () => {
    const d = dir();
    const cwd = process.cwd();
    process.chdir(d);
    onTestFinished(() => process.chdir(cwd));
    expect(verdict("tool", "/nonexistent:")).toBe("ok");
    expect(verdict("tool", "/nonexistent")).toMatch(/^missing: /);
    expect(verdict("sh", undefined)).toBe("ok");
    expect(verdict("tool", undefined)).toMatch(
      /^missing: .*\(\/bin:\/usr\/bin\)/,
    );
  });
});
