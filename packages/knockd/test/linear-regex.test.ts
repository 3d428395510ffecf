/**
 * Issue #16, regexes: user regexes run on a linear-time engine. The real daemon follows a log
 * with the issue's `<logformat>` (`^.*,.*,.*,.*,.*,(\d+)$`, which V8 needs about 6 s for on one
 * 300-character line and longer than the test run on a 4,000-character one) and with a condition
 * regex V8 needs hours for on "127.0.0.1"; the knock after the hostile lines is accepted at once
 * and SIGTERM stops the daemon (exit 0).
 */
import { appendFileSync, readFileSync, writeFileSync } from "node:fs";
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
  condition = CONDITION
  template = open
</action>
<template open>
  system = "REC open CLIENT PORT FLAG0"
</template>`;

function setup(
  condition: string,
  extra = "",
): {
  dir: string;
  log: string;
  conf: string;
  rec: ReturnType<typeof recorder>;
} {
  const dir = tempDir();
  const rec = recorder(dir);
  const log = join(dir, "firewall.log");
  writeFileSync(log, "");
  const actions = OPEN.replace("CONDITION", condition).replaceAll(
    "REC",
    rec.path,
  );
  const conf = daemonConfig(
    dir,
    `logfile = ${log}\nstatefile = ${join(dir, "state.json")}\n${extra}\n<actions>\n${actions}\n</actions>`,
  );
  return { dir, log, conf, rec };
}

/** The netfilter lines `knock -logtofile` writes for one knock. */
function knockLines(dir: string, args: string[]): string[] {
  const file = join(dir, "knock.log");
  knockToLog(file, args);
  return readFileSync(file, "utf8").split("\n").filter(Boolean);
}

const HOSTILE = [300, 4000, 30_000].map((n) => "a,".repeat(n / 2));

describe(
  "user regexes cannot stall the daemon (#16)",
  { timeout: 60_000 },
  () => {
    it("the issue's <logformat>: hostile lines of 300, 4,000 and 30,000 characters, then a knock", async () => {
      const { dir, log, conf, rec } = setup(
        "CLIENT eq SOURCE",
        [
          "<logformat csv>",
          "  ipclient = ^knock,([^,]+),",
          "  port = ^.*,.*,.*,.*,.*,(\\d+)$",
          "</logformat>",
          "uselogformat = csv",
        ].join("\n"),
      );
      const d = await spawnDaemon(["-conf", conf]);
      // The same knock as comma-separated records: knock,SRC,…,DPT.
      const csv = knockLines(dir, [
        "-client",
        "127.0.0.1",
        "-port",
        "22",
        "-flag0",
        "5",
      ]).map(
        (l) =>
          `knock,${/SRC=(\S+)/.exec(l)![1]},x,y,z,${/DPT=(\d+)/.exec(l)![1]}`,
      );
      appendFileSync(log, [...HOSTILE, ...csv].join("\n") + "\n");
      await waitFor(
        () => rec.lines().length === 1,
        "the knock's action",
        15_000,
      );
      expect(rec.lines()).toEqual(["open 127.0.0.1 22 5"]);
      const t0 = Date.now();
      expect(await d.stop("SIGTERM")).toBe(0);
      expect(Date.now() - t0).toBeLessThan(10_000);
    });

    it("a condition regex (CLIENT !~ /…/) that V8 would backtrack on for hours", async () => {
      const nested = `^${"(?:".repeat(16)}[\\d.]+${")+".repeat(16)}x$`;
      const { dir, log, conf, rec } = setup(`CLIENT !~ /${nested}/`);
      const d = await spawnDaemon(["-conf", conf]);
      const lines = knockLines(dir, [
        "-client",
        "127.0.0.1",
        "-port",
        "22",
        "-flag0",
        "6",
      ]);
      appendFileSync(log, lines.join("\n") + "\n");
      await waitFor(
        () => rec.lines().length === 1,
        "the knock's action",
        15_000,
      );
      expect(rec.lines()).toEqual(["open 127.0.0.1 22 6"]);
      expect(await d.stop("SIGTERM")).toBe(0);
    });
  },
);
