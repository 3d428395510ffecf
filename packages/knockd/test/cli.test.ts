/** knockd's CLI in-process: -check, -replay, usage errors (issue #6). */
import { spawn, spawnSync } from "node:child_process";
import { appendFileSync, readFileSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import {
  KNOCK_SETTINGS,
  KNOCKD,
  daemonConfig,
  knockToLog,
  recorder,
  runMain,
  tempDir,
  waitFor,
} from "./helpers.ts";

const ACTIONS = (rec: string): string => `
<actions>
  <action>
    condition = PORT == 22
    template = open
  </action>
  <template open>
    system = "${rec} open CLIENT PORT"
  </template>
</actions>`;

describe("knockd -check", () => {
  it("prints the resolved settings and the audit, exit 0", async () => {
    const dir = tempDir();
    const rec = recorder(dir);
    const conf = daemonConfig(
      dir,
      `logfile = ${join(dir, "log")}\n${ACTIONS(rec.path)}`,
    );
    const r = await runMain(["-check", "-conf", conf]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^knock length\s+32 bytes = 18 ports$/m);
    expect(r.stdout).toMatch(/^key\s+\(set, not shown\)$/m);
    expect(r.stdout).not.toContain("test passphrase");
    expect(r.stdout).toContain("AUDIT_COMPAT_FORMAT");
    expect(r.stdout).toContain("AUDIT_NO_TIME");
    expect(r.stdout).toContain("AUDIT_NO_STATEFILE");
  });

  it.each([
    ["journalctl -f -n 0 -o cat", true],
    ["journalctl -k -f -n 0 -o cat", false],
  ])(
    "logcommand = %s: the audit warns of untagged lines: %s (#16)",
    async (command, warned) => {
      const dir = tempDir();
      const conf = daemonConfig(
        dir,
        `logcommand = ${command}\n${ACTIONS("/bin/true")}`,
      );
      const r = await runMain(["-check", "-conf", conf]);
      expect(r.code).toBe(0);
      expect(r.stdout.includes("AUDIT_UNTAGGED_LOGCOMMAND")).toBe(warned);
    },
  );

  it("reports every error of every layer with file and line, exit 2", async () => {
    const dir = tempDir();
    const conf = join(dir, "bad.conf");
    writeFileSync(
      conf,
      [
        "knock = CLIENT,PORT,BOGUS", //           1: codec
        "portspan = 900-800", //                   2: codec
        "key = k",
        "<logformat mine>", //                     4
        "  ipclient = SRC=(\\S+)",
        "  port = DPT=[0-9]+", //                  6: no capture group
        "</logformat>",
        "uselogformat = mine",
        "logcommand = journalctl -k | grep x", //  9: shell metacharacter
        "<actions>",
        "  <action>",
        "    condition = PORT === 22", //         12: syntax error
        "    template = t",
        "  </action>",
        "  <template t>",
        '    system = "/bin/true"',
        "  </template>",
        "</actions>",
      ].join("\n"),
    );
    const r = await runMain(["-check", "-conf", conf]);
    expect(r.code).toBe(2);
    const located = [
      ...r.stderr.matchAll(/bad\.conf:(\d+)(?::\d+)?: error (\w+)/g),
    ].map((m) => [Number(m[1]), m[2]]);
    expect(located).toEqual(
      expect.arrayContaining([
        [1, "FIELDS_UNKNOWN"],
        [2, "SPAN_DESCENDING"],
      ]),
    );
    expect(r.stderr).toMatch(/bad\.conf:6(:\d+)?: error LOG_FORMAT_\w+/);
    expect(r.stderr).toMatch(/bad\.conf:9(:\d+)?: error \w+: logcommand/);
    expect(r.stdout).toBe("");
  });

  it("reports engine errors with a caret under the column", async () => {
    const dir = tempDir();
    const conf = daemonConfig(
      dir,
      `<actions>\n<action>\ncondition = PORT == 22 &&& 1\ntemplate = t\n</action>\n<template t>\nsystem = "/bin/true"\n</template>\n</actions>`,
    );
    const r = await runMain(["-check", "-conf", conf]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/knockdaemon\.conf:10:\d+: error/);
    expect(r.stderr).toMatch(/\n\s+condition = PORT == 22 &&& 1\n\s+\^/);
  });
});

describe("knockd -replay", () => {
  function knockLog(dir: string): string {
    const log = join(dir, "firewall.log");
    writeFileSync(
      log,
      "Nov 25 08:00:00 gw sshd[1]: Accepted publickey for root\n",
    );
    knockToLog(log, ["-client", "10.1.2.3", "-port", "22", "-flag0", "0"]);
    appendFileSync(
      log,
      "Nov 25 08:00:01 gw kernel: portknock IN=lo OUT= MAC= SRC=999.1.1.1 DST=127.0.0.1 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=0 DF PROTO=TCP SPT=1 DPT=2000 WINDOW=1 RES=0x00 SYN URGP=0\n",
    );
    knockToLog(log, ["-client", "10.1.2.4", "-port", "80", "-flag0", "0"]);
    // Same wire again within the timeout: dropped as a replay.
    const lines = readFileSync(log, "utf8")
      .split("\n")
      .filter((l) => l.includes("SRC=10.1.2.3"));
    appendFileSync(
      log,
      // One fresh source port per SYN: a knock that repeats a port is no retransmit.
      lines.map((l, i) => l.replace(/SPT=\d+/, `SPT=${i + 1}`)).join("\n") +
        "\n",
    );
    return log;
  }

  // RECIPES.md (a): the custom format that requires the knock rule's prefix.
  const RECIPE_FORMAT = [
    "uselogformat = portknock",
    "<logformat portknock>",
    "  required  = kernel: (?:\\[ *\\d+\\.\\d+\\] )?portknock IN=",
    "  interface = IN=(\\S*) OUT=",
    "  ipclient  = SRC=(\\S+)",
    "  ipserver  = DST=(\\S+)",
    "  protocol  = PROTO=(TCP|UDP) SPT=",
    "  port      = PROTO=(?:TCP|UDP) SPT=\\d+ DPT=(\\d+)",
    "  srcport   = PROTO=(?:TCP|UDP) SPT=(\\d+)",
    "</logformat>",
  ];

  it.each([
    ["with srcport", RECIPE_FORMAT, 1, true],
    [
      "without srcport",
      RECIPE_FORMAT.filter((l) => !l.includes("srcport")),
      0,
      false,
    ],
  ])(
    "a <logformat> %s: nc -z -w2's retransmitted SYNs (same source port, ~1 s later) count once (#16)",
    async (_, format, accepted, dropped) => {
      const dir = tempDir();
      const rec = recorder(dir);
      const conf = daemonConfig(
        dir,
        `logfile = /nonexistent\n${format.join("\n")}\n${ACTIONS(rec.path)}`,
      );
      const log = join(dir, "firewall.log");
      writeFileSync(log, "");
      knockToLog(log, ["-client", "10.1.2.3", "-port", "22", "-flag0", "0"]);
      // nc gets no answer to its SYN and the kernel sends it again: each line twice.
      const lines = readFileSync(log, "utf8").trim().split("\n");
      expect(lines.length).toBeGreaterThan(4);
      writeFileSync(log, lines.flatMap((l) => [l, l]).join("\n") + "\n");
      const r = await runMain([
        "-conf",
        conf,
        "-replay",
        log,
        "-test",
        "-quiet",
      ]);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^knocksAccepted ${accepted}$`, "m"));
      expect(r.stdout).toMatch(
        new RegExp(`^retransmitsDropped ${dropped ? lines.length : 0}$`, "m"),
      );
    },
  );

  it("-test: reads the whole log, prints the counters, runs nothing", async () => {
    const dir = tempDir();
    const rec = recorder(dir);
    const conf = daemonConfig(
      dir,
      `logfile = /nonexistent\n${ACTIONS(rec.path)}`,
    );
    const r = await runMain([
      "-conf",
      conf,
      "-replay",
      knockLog(dir),
      "-test",
      "-quiet",
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^knocksAccepted 2$/m);
    expect(r.stdout).toMatch(/^queue\.replaysDropped 1$/m);
    expect(r.stdout).toMatch(/^linesSeen 56$/m);
    expect(rec.lines()).toEqual([]);
  });

  it("without -test runs the actions whose condition holds, -logjson prints JSON counters", async () => {
    const dir = tempDir();
    const rec = recorder(dir);
    const conf = daemonConfig(
      dir,
      `logfile = /nonexistent\n${ACTIONS(rec.path)}`,
    );
    const r = await runMain([
      "-conf",
      conf,
      "-replay",
      knockLog(dir),
      "-logjson",
    ]);
    expect(r.code).toBe(0);
    expect(rec.lines()).toEqual(["open 10.1.2.3 22"]);
    const counters = JSON.parse(r.stdout) as {
      actionsRun: number;
      knocksAccepted: number;
    };
    expect(counters).toMatchObject({ actionsRun: 1, knocksAccepted: 2 });
  });

  it("-debug prints every decision with its reason", async () => {
    const dir = tempDir();
    const rec = recorder(dir);
    const conf = daemonConfig(
      dir,
      `logfile = /nonexistent\n${ACTIONS(rec.path)}`,
    );
    const r = await runMain([
      "-conf",
      conf,
      "-replay",
      knockLog(dir),
      "-test",
      "-debug",
    ]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/DEBUG hit\.queued .*ip=10\.1\.2\.3/);
    expect(r.stderr).toMatch(/LOG_BAD_IP/);
    expect(r.stderr).toMatch(/knock\.accepted/);
    expect(r.stderr).toMatch(/KNOCK_REPLAY/);
  });

  it("a log of several blocks: parsed on every core, same knocks, same line numbers", async () => {
    const dir = tempDir();
    const rec = recorder(dir);
    const conf = daemonConfig(
      dir,
      `logfile = /nonexistent\n${ACTIONS(rec.path)}`,
    );
    const log = join(dir, "big.log");
    const noiseUpTo = (bytes: number, from: number): string => {
      let t = "";
      for (let i = from; t.length < bytes; i++) {
        t += `Nov 25 08:00:00 gw kernel: portknock IN=lo OUT= MAC= SRC=10.9.${(i >> 8) & 255}.${i & 255} DST=127.0.0.1 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=0 DF PROTO=TCP SPT=1 DPT=${1024 + (i % 1000)} WINDOW=1 RES=0x00 SYN URGP=0\n`;
      }
      return t;
    };
    // The first knock straddles the first block boundary (1 MiB), the second comes 1.2 MiB on.
    writeFileSync(log, noiseUpTo((1 << 20) - 1500, 0));
    knockToLog(log, ["-client", "10.1.2.3", "-port", "22", "-flag0", "0"]);
    appendFileSync(log, noiseUpTo(1.2 * (1 << 20), 9000));
    knockToLog(log, ["-client", "10.1.2.4", "-port", "80", "-flag0", "0"]);
    const lines = readFileSync(log, "latin1").split("\n").slice(0, -1);
    const first = lines.findIndex((l) => l.includes("SRC=10.1.2.3 "));
    const last = lines.findLastIndex((l) => l.includes("SRC=10.1.2.3 ")) + 1;
    expect(lines.slice(0, first).join("\n").length).toBeLessThan(1 << 20);
    expect(lines.slice(0, last).join("\n").length).toBeGreaterThan(1 << 20);
    const r = await runMain(["-conf", conf, "-replay", log, "-logjson"]);
    expect(r.code).toBe(0);
    expect(rec.lines()).toEqual(["open 10.1.2.3 22"]);
    expect(JSON.parse(r.stdout)).toMatchObject({
      linesSeen: lines.length,
      hits: lines.length,
      knocksAccepted: 2,
      actionsRun: 1,
    });
    const accepted = r.stderr
      .split("\n")
      .filter((l) => l.includes('"knock.accepted"'))
      .map((l) => (JSON.parse(l) as { source: string }).source);
    expect(accepted[0]).toBe(`${log}:${last}`);
    // The real process, whose workers start before its modules load: the same counters.
    const child = spawnSync(
      process.execPath,
      [KNOCKD, "-conf", conf, "-replay", log, "-logjson", "-test", "-quiet"],
      { encoding: "utf8" },
    );
    expect(child.status).toBe(0);
    const strip = ({
      elapsedMs: _e,
      linesPerSecond: _l,
      cpuMs: _c,
      linesPerCpuSecond: _p,
      maxRssMiB: _m,
      actionsRun: _a,
      // Who parsed which block depends on timing (and the bin's workers started ahead).
      blocksByWorkers: _w,
      blocksTakenOver: _t,
      workersTakenOver: _o,
      ...rest
    }: Record<string, unknown>): Record<string, unknown> => rest;
    expect(strip(JSON.parse(child.stdout) as Record<string, unknown>)).toEqual(
      strip(JSON.parse(r.stdout) as Record<string, unknown>),
    );
  }, 60_000); // two replays of 2.2 MB, one a spawned process: seconds on a loaded machine

  it("the real bin: the replay takes over the workers started before the daemon loaded, and their blocks (#14)", async (ctx) => {
    if (availableParallelism() < 2) {
      ctx.skip("one core: knockd starts no replay worker");
    }
    const dir = tempDir();
    const log = join(dir, "big.log");
    const line =
      "Nov 25 08:00:00 gw kernel: portknock IN=lo OUT= MAC= SRC=10.9.0.1 DST=127.0.0.1 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=0 DF PROTO=TCP SPT=1 DPT=1024 WINDOW=1 RES=0x00 SYN URGP=0\n";
    const lines = Math.floor((6 << 20) / line.length); // 6 blocks of 1 MiB
    writeFileSync(log, line.repeat(lines));
    // knockd reads its config only once the workers have read 3 MiB of the log (the process read
    // nothing else that big): they had parsed a block before the daemon could know its format.
    // The wait is a preload of this test's own (config files are never FIFOs, #16): it holds the
    // main thread in the first open of the config until the gate file exists.
    const gate = join(dir, "gate");
    const conf = daemonConfig(
      dir,
      `logfile = /nonexistent\n${ACTIONS(recorder(dir).path)}`,
    );
    const preload = join(dir, "hold-config.cjs");
    writeFileSync(
      preload,
      `const fs = require("node:fs");
const { syncBuiltinESMExports } = require("node:module");
const open = fs.openSync;
const wait = new Int32Array(new SharedArrayBuffer(4));
fs.openSync = function (path, ...rest) {
  if (path === ${JSON.stringify(conf)}) {
    while (!fs.existsSync(${JSON.stringify(gate)})) Atomics.wait(wait, 0, 0, 10);
  }
  return open.call(this, path, ...rest);
};
syncBuiltinESMExports();
`,
    );
    const child = spawn(
      process.execPath,
      [
        "--require",
        preload,
        KNOCKD,
        "-conf",
        conf,
        "-replay",
        log,
        "-logjson",
        "-test",
        "-quiet",
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    onTestFinished(() => void child.kill());
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((r) => child.on("close", r));
    const bytesRead = (): number => {
      const io = readFileSync(`/proc/${child.pid}/io`, "utf8");
      return Number(/^rchar: (\d+)$/m.exec(io)?.[1] ?? 0);
    };
    await waitFor(() => bytesRead() > 3 << 20, "the workers to read the log");
    writeFileSync(gate, "");
    expect(await exited, stderr).toBe(0);
    const counters = JSON.parse(stdout) as Record<string, number>;
    expect(counters).toMatchObject({
      linesSeen: lines,
      hits: lines,
      blocks: 6,
    });
    expect(counters.workersTakenOver).toBeGreaterThanOrEqual(1);
    expect(counters.blocksTakenOver).toBeGreaterThanOrEqual(1);
    expect(counters.blocksByWorkers).toBeGreaterThanOrEqual(
      counters.blocksTakenOver!,
    );
  }, 30_000);

  it("the real bin (one bundled module) loads what it loads lazily: node-forge for DES", () => {
    const dir = tempDir();
    const settings = KNOCK_SETTINGS.replace(
      "cipher = Blowfish",
      "cipher = DES",
    );
    const conf = join(dir, "knockdaemon.conf");
    writeFileSync(conf, `${settings}\nlogfile = /nonexistent\n`);
    const log = join(dir, "firewall.log");
    writeFileSync(log, "");
    knockToLog(
      log,
      ["-client", "10.1.2.3", "-port", "22", "-flag0", "0"],
      settings,
    );
    // As installed: without the NODE_PATH that `pnpm exec` sets (it would find any package).
    const { NODE_PATH: _path, ...env } = process.env;
    const child = spawnSync(
      process.execPath,
      [KNOCKD, "-conf", conf, "-replay", log, "-logjson", "-test", "-quiet"],
      { encoding: "utf8", env },
    );
    expect(child.status, child.stderr).toBe(0);
    expect(JSON.parse(child.stdout)).toMatchObject({
      knocksAccepted: 1,
      rejections: {},
    });
  });

  it("an unreadable replay file is a runtime failure", async () => {
    const dir = tempDir();
    const conf = daemonConfig(
      dir,
      `logfile = /nonexistent\n${ACTIONS("/bin/true")}`,
    );
    const r = await runMain([
      "-conf",
      conf,
      "-replay",
      join(dir, "missing.log"),
      "-quiet",
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("missing.log");
  });
});

describe("knockd usage", () => {
  it.each([
    [["-bogus"], "option -bogus"],
    [["-conf"], "option -conf"],
    [["stray"], "option stray"],
  ])("%j is a usage error naming %s", async (argv, where) => {
    const r = await runMain(argv);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`knockd: ${where}:`);
  });

  it("no config file found is a usage error", async () => {
    const r = await runMain([]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("CONFIG_NOT_FOUND");
  });

  it("-h and -man", async () => {
    expect((await runMain(["-h"])).stdout).toMatch(/^usage: knockd /);
    const man = await runMain(["--man"]);
    expect(man.stdout).toContain("SIGNALS");
    expect(man.stdout).toContain("RECIPES");
  });
});
