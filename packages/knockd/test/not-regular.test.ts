/**
 * Issue #16: the log path becomes a FIFO (no writer) or a device after the start. The built
 * daemon never opens it: it logs `LOG_NOT_REGULAR` (once a minute), keeps running, accepts knocks
 * again once a regular file is back, and SIGTERM stops it at once. `-replay` of a FIFO or a
 * device ends with that error, exit 1, instead of blocking or reading without end.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  KNOCKD,
  daemonConfig,
  knockToLog,
  recorder,
  spawnDaemon,
  tempDir,
  waitFor,
} from "./helpers.ts";

const OPEN = `
<actions>
  <action>
    condition = CLIENT eq SOURCE
    template = open
  </action>
  <template open>
    system = "REC open CLIENT PORT"
  </template>
</actions>`;

function setup(): {
  dir: string;
  log: string;
  conf: string;
  rec: ReturnType<typeof recorder>;
} {
  const dir = tempDir();
  const rec = recorder(dir);
  const log = join(dir, "firewall.log");
  writeFileSync(log, "");
  const conf = daemonConfig(
    dir,
    `logfile = ${log}\n${OPEN.replaceAll("REC", rec.path)}`,
  );
  return { dir, log, conf, rec };
}

describe(
  "knockd when the log path is not a regular file (#16)",
  { timeout: 30_000 },
  () => {
    it("a FIFO in place of the log: refused and logged; a regular file again: knocks accepted; SIGTERM exits 0", async () => {
      const { dir, log, conf, rec } = setup();
      const d = await spawnDaemon(["-conf", conf]);
      renameSync(log, `${log}.1`);
      execFileSync("mkfifo", [log]); // no writer: an open of it would block
      await d.waitForLine(/LOG_NOT_REGULAR/);
      expect(d.stderr()).toMatch(/source\.not_regular .*FIFO/);
      rmSync(log);
      const knock = join(dir, "knock.log");
      knockToLog(knock, ["-client", "127.0.0.1", "-port", "22", "-flag0", "0"]);
      renameSync(knock, log);
      await waitFor(() => rec.lines().length === 1, "the action");
      expect(rec.lines()).toEqual(["open 127.0.0.1 22"]);
      expect(await d.stop("SIGTERM")).toBe(0);
    });

    it("SIGTERM exits 0 while a FIFO is at the log path", async () => {
      const { log, conf } = setup();
      const d = await spawnDaemon(["-conf", conf]);
      rmSync(log);
      execFileSync("mkfifo", [log]);
      await d.waitForLine(/LOG_NOT_REGULAR/);
      expect(await d.stop("SIGTERM")).toBe(0);
    });

    it.each([
      ["/dev/zero", /character device/],
      ["a FIFO", /FIFO/],
    ])("-replay of %s ends with LOG_NOT_REGULAR, exit 1", (what, kind) => {
      const { dir, conf } = setup();
      let file = what;
      if (what === "a FIFO") {
        file = join(dir, "fifo");
        execFileSync("mkfifo", [file]);
      }
      const r = spawnSync(
        process.execPath,
        [KNOCKD, "-conf", conf, "-replay", file, "-test", "-quiet"],
        { encoding: "utf8", timeout: 20_000 },
      );
      expect(r.signal).toBeNull(); // not killed by the timeout
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/LOG_NOT_REGULAR/);
      expect(r.stderr).toMatch(kind);
    });
  },
);
