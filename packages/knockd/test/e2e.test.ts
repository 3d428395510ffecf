/**
 * knockd end to end (issue #6): the built daemon follows a real log file while the real client
 * appends knocks to it (`knock -logtofile`); actions are real scripts whose output files are the
 * assertions.
 */
import {
  appendFileSync,
  readFileSync,
  renameSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  daemonConfig,
  knockToLog,
  recorder,
  runMain,
  spawnDaemon,
  tempDir,
  waitFor,
} from "./helpers.ts";

const NOISE = [
  "Nov 25 08:00:01 gw sshd[811]: Invalid user admin from 203.0.113.9 port 50022",
  "Nov 25 08:00:02 gw CRON[900]: (root) CMD (echo SRC=198.51.100.1 DPT=2000 PROTO=TCP)",
  "Nov 25 08:00:03 gw kernel: [  12.345678] eth0: link up",
  "Nov 25 08:00:04 gw kernel: [  13.000000] portknock IN=eth0 OUT= MAC= SRC=198.51.100.77 DST=192.0.2.1 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=1 DF PROTO=TCP SPT=4000 DPT=80 WINDOW=64240 RES=0x00 SYN URGP=0",
];

function setup(
  actions: string,
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
  const conf = daemonConfig(
    dir,
    `logfile = ${log}\nstatefile = ${join(dir, "state.json")}\n${extra}\n<actions>\n${actions.replaceAll("REC", rec.path)}\n</actions>`,
  );
  return { dir, log, conf, rec };
}

const OPEN = `
<action>
  condition = CLIENT eq SOURCE
  template = open
</action>
<template open>
  system = "REC open CLIENT PORT FLAG0"
</template>`;

/** The lines `knock -logtofile` writes for one knock, without appending them to the real log. */
function knockLines(dir: string, args: string[]): string[] {
  const file = join(dir, `knock-${Math.random().toString(36).slice(2)}.log`);
  knockToLog(file, args);
  return readFileSync(file, "utf8").split("\n").filter(Boolean);
}

describe("knockd in file mode, end to end", { timeout: 30_000 }, () => {
  it("accepts knocks interleaved with noise and other sources, and runs the action", async () => {
    const { dir, log, conf, rec } = setup(OPEN);
    const d = await spawnDaemon(["-conf", conf]);
    const a = knockLines(dir, [
      "-client",
      "127.0.0.1",
      "-port",
      "22",
      "-flag0",
      "1",
    ]);
    const b = knockLines(dir, [
      "-client",
      "127.0.0.2",
      "-port",
      "443",
      "-flag0",
      "2",
    ]);
    const mixed: string[] = [];
    for (let i = 0; i < a.length; i++)
      mixed.push(a[i]!, NOISE[i % NOISE.length]!, b[i]!);
    appendFileSync(log, mixed.join("\n") + "\n");
    await waitFor(() => rec.lines().length === 2, "two actions");
    expect(rec.lines().sort()).toEqual([
      "open 127.0.0.1 22 1",
      "open 127.0.0.2 443 2",
    ]);
    expect(await d.stop()).toBe(0);
    expect(d.stderr()).toMatch(/counters stopping .*linesSeen=\d+/);
  });

  it("survives a log rotation in the middle of a knock", async () => {
    const { dir, log, conf, rec } = setup(OPEN);
    const d = await spawnDaemon(["-conf", conf, "-debug"]);
    const lines = knockLines(dir, [
      "-client",
      "127.0.0.1",
      "-port",
      "22",
      "-flag0",
      "3",
    ]);
    appendFileSync(log, lines.slice(0, 7).join("\n") + "\n");
    // Rotate only once the daemon has queued the first half from the old file.
    await waitFor(
      () => (d.stderr().match(/hit\.queued/g) ?? []).length === 7,
      "7 queued hits",
    );
    renameSync(log, `${log}.1`);
    writeFileSync(log, lines.slice(7).join("\n") + "\n");
    await waitFor(() => rec.lines().length === 1, "the action after rotation");
    expect(rec.lines()).toEqual(["open 127.0.0.1 22 3"]);
    await d.stop();
  });

  it("counts kernel retransmits once, and drops a replayed knock within knocktimeout", async () => {
    const { dir, log, conf, rec } = setup(OPEN);
    const d = await spawnDaemon(["-conf", conf, "-logjson"]);
    const lines = knockLines(dir, [
      "-client",
      "127.0.0.1",
      "-port",
      "22",
      "-flag0",
      "4",
    ]);
    // Every line twice: what the kernel logs when it retransmits each SYN.
    appendFileSync(log, lines.flatMap((l) => [l, l]).join("\n") + "\n");
    await waitFor(() => rec.lines().length === 1, "the first knock's action");
    // The same knock again from fresh source ports: a replay by whoever captured it.
    let sport = 20000;
    const replayed = lines.map((l) => l.replace(/SPT=\d+/, `SPT=${sport++}`));
    appendFileSync(log, replayed.join("\n") + "\n");
    await d.waitForLine(/KNOCK_REPLAY/);
    expect(rec.lines()).toEqual(["open 127.0.0.1 22 4"]);
    const from = d.stderr().length;
    d.child.kill("SIGUSR1");
    const counters = JSON.parse(
      await d.waitForLine(/"event":"counters"/, 10_000, from),
    ) as {
      retransmitsDropped: number;
      queue: { replaysDropped: number; knocksAccepted: number };
    };
    expect(counters.retransmitsDropped).toBe(lines.length);
    expect(counters.queue).toMatchObject({
      replaysDropped: 1,
      knocksAccepted: 1,
    });
    await d.stop();
  });

  it("-test decodes and evaluates but runs nothing", async () => {
    const { dir, log, conf, rec } = setup(OPEN);
    const d = await spawnDaemon(["-conf", conf, "-test"]);
    appendFileSync(
      log,
      knockLines(dir, [
        "-client",
        "127.0.0.1",
        "-port",
        "22",
        "-flag0",
        "5",
      ]).join("\n") + "\n",
    );
    await d.waitForLine(/action\.tested|would run/);
    expect(rec.lines()).toEqual([]);
    await d.stop();
  });

  it("SIGHUP with a broken config keeps the old one running; a good one replaces it", async () => {
    const { dir, log, conf, rec } = setup(OPEN);
    const d = await spawnDaemon(["-conf", conf]);
    const good = readFileSync(conf, "utf8");
    writeFileSync(
      conf,
      good.replace("portspan = 1024-33791", "portspan = 900-800"),
    );
    d.child.kill("SIGHUP");
    await d.waitForLine(/reload\.rejected/);
    expect(d.stderr()).toMatch(/SPAN_DESCENDING/);
    appendFileSync(
      log,
      knockLines(dir, [
        "-client",
        "127.0.0.1",
        "-port",
        "22",
        "-flag0",
        "6",
      ]).join("\n") + "\n",
    );
    await waitFor(
      () => rec.lines().length === 1,
      "the action under the old config",
    );

    writeFileSync(
      conf,
      good.replace("REC open".replace("REC", rec.path), `${rec.path} reloaded`),
    );
    const from = d.stderr().length;
    d.child.kill("SIGHUP");
    await d.waitForLine(/reload\.done/, 10_000, from);
    appendFileSync(
      log,
      knockLines(dir, [
        "-client",
        "127.0.0.1",
        "-port",
        "22",
        "-flag0",
        "7",
      ]).join("\n") + "\n",
    );
    await waitFor(
      () => rec.lines().length === 2,
      "the action under the new config",
    );
    expect(rec.lines()[1]).toBe("reloaded 127.0.0.1 22 7");
    expect(await d.stop()).toBe(0);
  });

  it("SIGHUP with a new <logformat> swaps it in without reopening the log (#14)", async () => {
    const { dir, log, conf, rec } = setup(OPEN);
    const d = await spawnDaemon(["-conf", conf]);
    const good = readFileSync(conf, "utf8");
    writeFileSync(
      conf,
      `${good}
<logformat mine>
  required = XX=
  ipclient = SRC=(\\S+)
  port = DPT=(\\d+)
</logformat>
uselogformat = mine
`,
    );
    const from = d.stderr().length;
    d.child.kill("SIGHUP");
    await d.waitForLine(/reload\.done/, 10_000, from);
    // Lines only the new format reads: the built-in one needs IN=.
    const lines = knockLines(dir, [
      "-client",
      "127.0.0.1",
      "-port",
      "22",
      "-flag0",
      "9",
    ]).map((l) => l.replace(" IN=", " XX="));
    appendFileSync(log, lines.join("\n") + "\n");
    await waitFor(() => rec.lines().length === 1, "the action");
    expect(rec.lines()).toEqual(["open 127.0.0.1 22 9"]);
    // One source for the whole run: opened once, never reopened.
    expect(d.stderr()).not.toMatch(/source\.open|source reopened/);
    expect(await d.stop()).toBe(0);
  });

  it("a second daemon on the same statefile exits 1: already running, with the first one's pid (#15)", async () => {
    const { dir, conf } = setup(OPEN);
    // An empty log to replay (not /dev/null: a device is LOG_NOT_REGULAR, #16).
    const empty = join(dir, "empty.log");
    writeFileSync(empty, "");
    const d = await spawnDaemon(["-conf", conf]);
    const second = await runMain(["-conf", conf]);
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/STORE_LOCKED/);
    expect(second.stderr).toContain(`already running`);
    expect(second.stderr).toContain(`pid ${d.child.pid}`);
    // -test changes no state: it may run beside the daemon.
    const tested = await runMain(["-conf", conf, "-test", "-replay", empty]);
    expect(tested.code).toBe(0);
    expect(await d.stop()).toBe(0);
    // Stopped, the statefile is free again.
    const third = await runMain(["-conf", conf, "-replay", empty]);
    expect(third.stderr).not.toMatch(/STORE_LOCKED/);
    expect(third.code).toBe(0);
  });

  it("SIGTERM keeps a delayed action in the statefile; a restarted daemon runs it", async () => {
    const { dir, log, conf, rec } = setup(`
<action>
  template = close
  delay = 2s
</action>
<template close>
  system = "REC close CLIENT PORT"
</template>`);
    const d = await spawnDaemon(["-conf", conf]);
    appendFileSync(
      log,
      knockLines(dir, [
        "-client",
        "127.0.0.1",
        "-port",
        "22",
        "-flag0",
        "8",
      ]).join("\n") + "\n",
    );
    await d.waitForLine(/action\.scheduled/);
    expect(await d.stop("SIGTERM")).toBe(0);
    expect(rec.lines()).toEqual([]);
    const state = JSON.parse(readFileSync(join(dir, "state.json"), "utf8")) as {
      pending: unknown[];
    };
    expect(state.pending).toHaveLength(1);

    const again = await spawnDaemon(["-conf", conf]);
    await waitFor(
      () => rec.lines().length === 1,
      "the delayed action after restart",
    );
    expect(rec.lines()).toEqual(["close 127.0.0.1 22"]);
    await again.stop();
    const after = JSON.parse(readFileSync(join(dir, "state.json"), "utf8")) as {
      pending: unknown[];
    };
    expect(after.pending).toHaveLength(0);
  });
});
