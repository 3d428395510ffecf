/**
 * Old lines are never knocks (issue #15). A `logcommand` such as `journalctl -f` prints its last
 * entries at every start: the built daemon runs a fake `journalctl` (a script exec'd by argv)
 * that prints the journal's last lines at each start, then a new knock, and exits once to be
 * restarted; the knock stamped before the daemon started, and the one seen before the restart,
 * never run the action again. And a followed file starts at its end: a knock written before the
 * start is never read.
 */
import {
  appendFileSync,
  chmodSync,
  readFileSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  daemonConfig,
  knockToLog,
  recorder,
  spawnDaemon,
  tempDir,
  waitFor,
} from "./helpers.ts";

const OPEN = `
<action>
  condition = CLIENT eq SOURCE
  template = open
</action>
<template open>
  system = "REC open CLIENT PORT FLAG0"
</template>`;

/** The lines `knock -logtofile` writes for a knock with `flag0`, without their syslog date. */
function knockRecords(dir: string, flag0: number): string[] {
  const file = join(dir, `knock-${flag0}.log`);
  knockToLog(file, [
    "-client",
    "127.0.0.1",
    "-port",
    "22",
    "-flag0",
    `${flag0}`,
  ]);
  return readFileSync(file, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => l.replace(/^\w{3} [ \d]\d [\d:]{8} /, ""));
}

/** The JSON log lines of a daemon's stderr. */
function jsonLines(stderr: string): Record<string, unknown>[] {
  return stderr
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/**
 * A fake `journalctl -k -f -o short-iso`: the journal is the file `journal` (stamped lines). At
 * each start it prints the journal's last 100 lines, as `journalctl -f` does; then, if
 * `new-RUN.txt` exists, its records stamped now (appended to the journal too). Run 1 then exits
 * (knockd restarts it after its 1 s back-off); later runs stay until killed.
 */
function fakeJournalctl(dir: string): string {
  const path = join(dir, "journalctl");
  writeFileSync(
    path,
    `#!${process.execPath}
import { appendFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
const dir = ${JSON.stringify(dir)};
const runs = dir + "/runs";
const run = (existsSync(runs) ? Number(readFileSync(runs, "utf8")) : 0) + 1;
writeFileSync(runs, String(run));
appendFileSync(dir + "/argv", JSON.stringify(process.argv.slice(2)) + "\\n");
const journal = readFileSync(dir + "/journal", "utf8").split("\\n").filter(Boolean);
process.stdout.write(journal.slice(-100).map((l) => l + "\\n").join(""));
setTimeout(() => {
  const file = dir + "/new-" + run + ".txt";
  if (existsSync(file)) {
    const stamp = new Date().toISOString().slice(0, 19) + "+00:00";
    const lines = readFileSync(file, "utf8").split("\\n").filter(Boolean);
    const out = lines.map((l) => stamp + " " + l + "\\n").join("");
    appendFileSync(dir + "/journal", out);
    process.stdout.write(out);
  }
  if (run === 1) setTimeout(() => process.exit(0), 300);
  else setInterval(() => undefined, 1000);
}, 200);
`,
  );
  chmodSync(path, 0o755);
  return path;
}

describe("old lines are not knocks (#15)", { timeout: 30_000 }, () => {
  it("logcommand: the last entries a command prints at each (re)start never run an action; new knocks do", async () => {
    const dir = tempDir();
    const rec = recorder(dir);
    const old = knockRecords(dir, 1); // in the journal before knockd starts
    const first = knockRecords(dir, 2); // new in run 1, part of the backlog of run 2
    const second = knockRecords(dir, 3); // new in run 2, after the restart
    const hourAgo = new Date(Date.now() - 3_600_000).toISOString().slice(0, 19);
    writeFileSync(
      join(dir, "journal"),
      old.map((l) => `${hourAgo}+00:00 ${l}\n`).join(""),
    );
    writeFileSync(join(dir, "new-1.txt"), first.join("\n"));
    writeFileSync(join(dir, "new-2.txt"), second.join("\n"));
    const conf = daemonConfig(
      dir,
      `logcommand = ${fakeJournalctl(dir)} -k -f -o short-iso\n<actions>\n${OPEN.replace("REC", rec.path)}\n</actions>`,
    );
    const d = await spawnDaemon(["-conf", conf, "-logjson"]);
    await waitFor(() => rec.lines().length === 2, "the two new knocks");
    // Run 2 printed the old knock and run 1's knock first: both dropped before the new one.
    await waitFor(
      () => (d.stderr().match(/LOG_LINE_BEFORE_START/g) ?? []).length === 2,
      "a warning for each run",
    );
    expect(await d.stop()).toBe(0);

    expect(rec.lines()).toEqual(["open 127.0.0.1 22 2", "open 127.0.0.1 22 3"]);
    expect(readFileSync(join(dir, "runs"), "utf8")).toBe("2");
    const logs = jsonLines(d.stderr());
    expect(
      logs
        .filter((l) => l.code === "LOG_LINE_BEFORE_START")
        .map((l) => [l.event, l.count]),
    ).toEqual([
      ["source.rejected", old.length],
      ["source.rejected", old.length + first.length],
    ]);
    const stop = logs.find((l) => l.event === "counters");
    expect(stop).toMatchObject({
      rejections: { LOG_LINE_BEFORE_START: 2 * old.length + first.length },
    });
    // Not stopped by the detector's replay check: the old lines never reached it.
    expect(
      (stop?.rejections as Record<string, number> | undefined)?.KNOCK_REPLAY,
    ).toBeUndefined();
  });

  it("logfile: a knock written before the start is never read; one written after is", async () => {
    const dir = tempDir();
    const rec = recorder(dir);
    const log = join(dir, "firewall.log");
    knockToLog(log, ["-client", "127.0.0.1", "-port", "22", "-flag0", "1"]);
    const before = readFileSync(log, "utf8").split("\n").filter(Boolean);
    const conf = daemonConfig(
      dir,
      `logfile = ${log}\n<actions>\n${OPEN.replace("REC", rec.path)}\n</actions>`,
    );
    const d = await spawnDaemon(["-conf", conf, "-logjson"]);
    const after = knockRecords(dir, 2).map((l) => `Nov 25 08:23:27 ${l}`);
    appendFileSync(log, after.map((l) => `${l}\n`).join(""));
    await waitFor(() => rec.lines().length === 1, "the new knock");
    expect(await d.stop()).toBe(0);
    expect(rec.lines()).toEqual(["open 127.0.0.1 22 2"]);
    const stop = jsonLines(d.stderr()).find((l) => l.event === "counters");
    expect(before.length).toBeGreaterThan(0);
    expect(stop).toMatchObject({ linesSeen: after.length });
  });
});
