/**
 * #15: the statefile's directory is checked before the daemon acts: created (0700) when only it is
 * missing, a clear start-up error when its parent is missing too; `-check` says which.
 */
import { existsSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { daemonConfig, runMain, tempDir } from "./helpers.ts";

function config(statefile: string): string {
  const dir = tempDir();
  return daemonConfig(
    dir,
    `logfile = ${join(dir, "firewall.log")}\nstatefile = ${statefile}`,
  );
}

/** An empty log to replay (not /dev/null: a device is LOG_NOT_REGULAR, #16). */
function emptyLog(): string {
  const path = join(tempDir(), "empty.log");
  writeFileSync(path, "");
  return path;
}

describe("the statefile's directory (#15)", () => {
  it("missing with an existing parent: -check says it will be made; the daemon makes it, mode 0700", async () => {
    const dir = join(tempDir(), "portknock");
    const conf = config(join(dir, "state.json"));
    const check = await runMain(["-check", "-conf", conf]);
    expect(check.code).toBe(0);
    expect(check.stdout).toContain(`${dir} does not exist yet`);
    expect(existsSync(dir)).toBe(false);
    const r = await runMain(["-conf", conf, "-replay", emptyLog()]);
    expect(r.code).toBe(0);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(r.stderr).toContain("store.dir");
    const again = await runMain(["-check", "-conf", conf]);
    expect(again.stdout).toContain("the statefile's directory is writable");
  });

  it("missing with its parent: -check and the start fail with the path (exit 1)", async () => {
    const dir = join(tempDir(), "no", "such");
    const conf = config(join(dir, "state.json"));
    const check = await runMain(["-check", "-conf", conf]);
    expect(check.code).toBe(1);
    expect(check.stdout).toMatch(
      /error STATEFILE_DIR_UNUSABLE: .*no\/such does not exist/,
    );
    const r = await runMain(["-conf", conf, "-replay", emptyLog()]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/store\.error.*STATEFILE_DIR_UNUSABLE/);
    expect(r.stderr).toContain(dir);
    expect(existsSync(dir)).toBe(false);
  });

  it("-test writes no state, so it does not need the directory", async () => {
    const conf = config(join(tempDir(), "no", "such", "state.json"));
    const r = await runMain(["-conf", conf, "-test", "-replay", emptyLog()]);
    expect(r.code).toBe(0);
  });
});
