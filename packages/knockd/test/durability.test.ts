/**
 * #15, durability before effect, with the real daemon: a statefile on a full disk (a real 64 KiB
 * tmpfs) refuses the knock (no "open" without its "close" on disk) and the stop reports the unsaved
 * statefile in one line instead of a stack trace; `kill -9` while a delayed action runs never runs
 * it twice.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import {
  daemonConfig,
  knockToLog,
  recorder,
  spawnDaemon,
  tempDir,
  waitFor,
} from "./helpers.ts";

const isRoot = process.getuid?.() === 0;

const ACTIONS = `
<actions>
<action>
  template = open
</action>
<action>
  delay = 1s
  template = close
</action>
<template open>
  system = "REC open CLIENT"
</template>
<template close>
  system = "REC close CLIENT"
  system = "/bin/sleep SLEEP"
</template>
</actions>`;

function setup(statefile: string, sleep = "0") {
  const dir = tempDir();
  const rec = recorder(dir);
  const log = join(dir, "firewall.log");
  writeFileSync(log, "");
  const conf = daemonConfig(
    dir,
    `logfile = ${log}\nstatefile = ${statefile}\n${ACTIONS.replaceAll("REC", rec.path).replace("SLEEP", sleep)}`,
  );
  return { dir, rec, log, conf };
}

const KNOCK = ["-client", "127.0.0.1", "-port", "22", "-flag0", "0"];

describe.skipIf(!isRoot)(
  "a statefile on a full disk (real tmpfs, root)",
  { timeout: 30_000 },
  () => {
    it("refuses the knock with one ERROR line, runs nothing, and stops with STATEFILE_NOT_SAVED (exit 1), no stack trace", async () => {
      const disk = join(tempDir(), "var");
      mkdirSync(disk);
      execFileSync("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", disk]);
      onTestFinished(() => void execFileSync("umount", ["-l", disk]));
      const statefile = join(disk, "state.json");
      const { rec, log, conf } = setup(statefile);
      const filler = join(disk, "filler");
      // Fill the disk: dd stops with ENOSPC (exit 1) once the tmpfs is full.
      spawnSync("dd", ["if=/dev/zero", `of=${filler}`, "bs=4k"]);

      const d = await spawnDaemon(["-conf", conf]);
      knockToLog(log, KNOCK);
      const line = await d.waitForLine(/ENGINE_STATE_NOT_DURABLE/);
      expect(line).toContain("ERROR");
      expect(line).toContain(statefile);
      expect(line).toContain("ENOSPC");
      await new Promise((r) => setTimeout(r, 300));
      expect(rec.lines()).toEqual([]);

      // Room again: the next knock acts, its close is on disk first.
      rmSync(filler);
      const from = d.stderr().length;
      knockToLog(log, KNOCK);
      await waitFor(() => rec.lines().length === 2, "open and close");
      expect(rec.lines()).toEqual(["open 127.0.0.1", "close 127.0.0.1"]);

      // Full again at stop: one error line, exit 1, no stack trace.
      spawnSync("dd", ["if=/dev/zero", `of=${filler}`, "bs=4k"]);
      knockToLog(log, KNOCK);
      await d.waitForLine(/ENGINE_STATE_NOT_DURABLE/, 10_000, from);
      expect(await d.stop("SIGTERM")).toBe(1);
      const notSaved = d
        .stderr()
        .split("\n")
        .filter((l) => l.includes("STATEFILE_NOT_SAVED"));
      expect(notSaved).toHaveLength(1);
      expect(notSaved[0]).toContain("ENOSPC");
      expect(d.stderr()).not.toMatch(/^\s+at /m);
      expect(d.stderr()).not.toContain("StoreError");
    });
  },
);

describe("kill -9 while a delayed action runs", { timeout: 30_000 }, () => {
  it("is not run again by the next daemon, which reports it (at most once)", async () => {
    const dir = tempDir();
    // A sleep no other test uses, so the orphan can be found and ended.
    const sleep = `${(20 + Math.random()).toFixed(4)}`;
    onTestFinished(
      () => void spawnSync("pkill", ["-f", `^/bin/sleep ${sleep}$`]),
    );
    const statefile = join(dir, "state.json");
    const { rec, log, conf } = setup(statefile, sleep);
    const first = await spawnDaemon(["-conf", conf]);
    knockToLog(log, KNOCK);
    await waitFor(() => rec.lines().length === 2, "open, then close");
    await first.waitForLine(/action\.started.*\/bin\/sleep/);
    expect(await first.stop("SIGKILL")).toBe(null);

    const second = await spawnDaemon(["-conf", conf]);
    const line = await second.waitForLine(/action\.interrupted/);
    expect(line).toContain("ERROR");
    expect(line).toContain("not run again");
    await new Promise((r) => setTimeout(r, 500));
    expect(rec.lines()).toEqual(["open 127.0.0.1", "close 127.0.0.1"]);
    expect(await second.stop("SIGTERM")).toBe(0);
  });
});
