/**
 * #15: `-check` and the start verify the environment, not only the syntax: the log file (a
 * readable regular file; missing is only a warning), `logcommand` and action executables, the
 * capture interfaces (in a test network namespace), and IPv4-only templates that may receive an
 * IPv6 address. Errors make `-check` exit 1 and stop the real bin before it opens anything.
 */
import { spawnSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { main as knock } from "@portknock/knock";
import { checkInterfaces } from "../src/environment.ts";
import {
  KNOCKD,
  daemonConfig,
  knockToLog,
  recorder,
  runMain,
  spawnDaemon,
  tempDir,
  waitFor,
} from "./helpers.ts";
import { createNetns, execIn, gateRootTests } from "./netns.ts";

/** The real bin, to its end: exit code and stderr. */
function runBin(
  args: string[],
  options: { uid?: number; gid?: number } = {},
): { code: number | null; stderr: string; stdout: string } {
  const r = spawnSync(process.execPath, [KNOCKD, ...args], {
    encoding: "utf8",
    timeout: 20_000,
    ...options,
  });
  return { code: r.status, stderr: r.stderr, stdout: r.stdout };
}

/** A daemon config with one action running `rec` and a statefile in a directory not made yet. */
function setup(body: string): {
  dir: string;
  conf: string;
  stateDir: string;
  rec: ReturnType<typeof recorder>;
} {
  const dir = tempDir();
  const rec = recorder(dir);
  const stateDir = join(dir, "state");
  const conf = daemonConfig(
    dir,
    [
      `statefile = ${join(stateDir, "state.json")}`,
      body.replaceAll("REC", rec.path),
    ].join("\n"),
  );
  return { dir, conf, stateDir, rec };
}

const ACTION = `<actions>
<action>
  template = t
</action>
<template t>
  system = "REC CLIENT PORT"
</template>
</actions>`;

describe("the log file (#15)", () => {
  it("missing: a warning; -check passes and the daemon starts and waits for it", async () => {
    const { dir, conf, rec } = setup(`logfile = DIR/later.log\n${ACTION}`);
    const log = join(dir, "later.log");
    writeFileSync(conf, readFileSync(conf, "utf8").replace("DIR", dir));
    const check = await runMain(["-check", "-conf", conf]);
    expect(check.code).toBe(0);
    expect(check.stdout).toMatch(
      /warning ENV_LOGFILE_MISSING: logfile ".*later\.log" does not exist \(ENOENT\)/,
    );
    const daemon = await spawnDaemon(["-conf", conf]);
    expect(daemon.stderr()).toMatch(
      /WARN environment .*later\.log.* code=ENV_LOGFILE_MISSING setting=logfile source=.*knockdaemon\.conf:\d+/,
    );
    // The file appears with a knock in it: the follower was waiting, the action runs.
    knockToLog(log, ["-port", "22", "-flag0", "1", "-client", "10.1.2.3"]);
    await waitFor(() => rec.lines().length > 0, "the action");
    expect(rec.lines()).toEqual(["10.1.2.3 22"]);
    expect(await daemon.stop()).toBe(0);
  });

  it("a FIFO or a directory: -check exits 1; the bin refuses to start at once, before the statefile's directory is made", async () => {
    for (const make of [
      (p: string) => spawnSync("mkfifo", [p]),
      (p: string) => mkdirSync(p),
    ]) {
      const { dir, conf, stateDir } = setup(`logfile = DIR/fw\n${ACTION}`);
      writeFileSync(conf, readFileSync(conf, "utf8").replace("DIR", dir));
      make(join(dir, "fw"));
      const check = await runMain(["-check", "-conf", conf]);
      expect(check.code).toBe(1);
      expect(check.stdout).toMatch(
        /error ENV_LOGFILE_NOT_REGULAR: logfile ".*fw" is (a FIFO|a directory)/,
      );
      // A FIFO opened for reading would block forever: the bin must end on its own.
      const r = runBin(["-conf", conf]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        /ERROR environment .* code=ENV_LOGFILE_NOT_REGULAR setting=logfile/,
      );
      expect(r.stderr).toMatch(/start\.refused/);
      expect(r.stderr).not.toMatch(/\bready\b/);
      expect(existsSync(stateDir)).toBe(false);
    }
  });

  it("under a file (ENOTDIR) and, for a user other than root, unreadable (EACCES): errors naming the reason", async () => {
    const { dir, conf } = setup(`logfile = DIR/file/fw\n${ACTION}`);
    writeFileSync(join(dir, "file"), "");
    writeFileSync(conf, readFileSync(conf, "utf8").replace("DIR", dir));
    const check = await runMain(["-check", "-conf", conf]);
    expect(check.code).toBe(1);
    expect(check.stdout).toMatch(
      /error ENV_LOGFILE_UNREADABLE: logfile ".*file\/fw" cannot be used: ENOTDIR/,
    );

    // EACCES is real only for a user without root's override: as root, run the bin as nobody.
    const other = setup(`logfile = DIR/fw\n${ACTION}`);
    const log = join(other.dir, "fw");
    writeFileSync(log, "");
    chmodSync(log, 0o600);
    writeFileSync(
      other.conf,
      readFileSync(other.conf, "utf8")
        .replace("DIR", other.dir)
        .replace(/^statefile = .*$/m, ""),
    );
    chmodSync(other.dir, 0o755);
    chmodSync(other.conf, 0o644);
    const asUser = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
    const r = runBin(["-check", "-conf", other.conf], asUser);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      /error ENV_LOGFILE_UNREADABLE: logfile ".*fw" cannot be read: EACCES \(permission denied\)/,
    );
    const start = runBin(["-conf", other.conf], asUser);
    expect(start.code).toBe(1);
    expect(start.stderr).toMatch(/code=ENV_LOGFILE_UNREADABLE setting=logfile/);
  });
});

describe("executables (#15)", () => {
  it("an action's missing or non-executable program: -check exits 1 naming the template, action and line; -test only warns; use = no is not checked", async () => {
    const { dir, conf, stateDir, rec } = setup(
      `logfile = /dev/null/none
<actions>
<action>
  template = open
  template = close
</action>
<action>
  use = no
  template = spare
</action>
<template open>
  system = "REC open CLIENT"
  system = "DIR/no-such-iptables -I INPUT -s CLIENT"
</template>
<template close>
  system = "DIR/plain CLIENT"
</template>
<template spare>
  system = "DIR/also-missing"
</template>
</actions>`,
    );
    writeFileSync(conf, readFileSync(conf, "utf8").replaceAll("DIR", dir));
    writeFileSync(join(dir, "plain"), "#!/bin/sh\n");
    chmodSync(join(dir, "plain"), 0o644);
    const check = await runMain(["-check", "-conf", conf]);
    expect(check.code).toBe(1);
    const lines = check.stdout.split("\n").filter((l) => l.includes("ENV_"));
    expect(lines).toEqual([
      expect.stringMatching(
        /^ {2}error ENV_LOGFILE_UNREADABLE: logfile "\/dev\/null\/none" cannot be used: ENOTDIR/,
      ),
      expect.stringMatching(
        /^ {2}error ENV_EXECUTABLE_MISSING: <template open> \(action at .*knockdaemon\.conf:\d+\): ".*no-such-iptables" does not exist \(ENOENT\) \(.*knockdaemon\.conf:\d+:\d+\)$/,
      ),
      expect.stringMatching(
        /^ {2}error ENV_EXECUTABLE_NOT_EXECUTABLE: <template close> .*\/plain" is not an executable file: a file without execute permission \(EACCES\)/,
      ),
    ]);
    // -test runs no command: the same findings are warnings (the log file is still an error).
    const test = await runMain(["-check", "-test", "-conf", conf]);
    expect(test.stdout).toMatch(
      /warning ENV_EXECUTABLE_MISSING: .*-test runs no command/,
    );
    // The real start stops before the store, the engine or any command.
    const r = runBin(["-conf", conf]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /ERROR environment .*no-such-iptables.* code=ENV_EXECUTABLE_MISSING setting=system source=.*knockdaemon\.conf:\d+:\d+/,
    );
    expect(r.stderr).toMatch(/start\.refused .* errors=3/);
    expect(existsSync(stateDir)).toBe(false);
    expect(rec.lines()).toEqual([]);
  });

  it("logcommand: its program is looked up on PATH as the spawn does", async () => {
    const bad = setup(`logcommand = no-such-journalctl -k -f\n${ACTION}`);
    const check = await runMain(["-check", "-conf", bad.conf]);
    expect(check.code).toBe(1);
    expect(check.stdout).toMatch(
      /error ENV_EXECUTABLE_MISSING: logcommand: "no-such-journalctl" is not found on PATH/,
    );
    const good = setup(`logcommand = tail -f /dev/null\n${ACTION}`);
    const ok = await runMain(["-check", "-conf", good.conf]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).not.toContain("ENV_");
  });
});

/** A sealed config (IPv6 CLIENTs possible) with `open` as the template's command. */
function sealed(dir: string, open: string, condition = "PORT == 22"): string {
  const conf = join(dir, "sealed.conf");
  writeFileSync(
    conf,
    [
      "format = sealed",
      "knock = CLIENT,PORT,FLAG0",
      "portspan = 1024-33791",
      `key = ${KEY}`,
      "requiresource = no",
      `logfile = ${join(dir, "firewall.log")}`,
      "<actions>",
      "<action>",
      `  condition = ${condition}`,
      "  template = open",
      "</action>",
      "<template open>",
      `  system = "${open}"`,
      "</template>",
      "</actions>",
    ].join("\n"),
  );
  return conf;
}

const KEY = "base64:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

describe("templates that cannot take IPv6 (#15)", () => {
  it("sealed + CLIENT/32: a warning naming the template, and the knock shows why", async () => {
    const dir = tempDir();
    const rec = recorder(dir);
    const conf = sealed(dir, `${rec.path} -s CLIENT/32 --dport PORT`);
    const check = await runMain(["-check", "-conf", conf]);
    expect(check.code).toBe(0);
    expect(check.stdout).toMatch(
      /warning ENV_IPV6_CLIENT_IPV4_TEMPLATE: <template open> ".*-s CLIENT\/32 --dport PORT": CLIENT may be an IPv6 address \(format = sealed carries IPv6 clients\).*write CLIENT without \/32.* \(.*sealed\.conf:13:\d+\)/,
    );
    // What the warning is about: an IPv6 knock gives the command "2001:db8::7/32".
    const log = join(dir, "firewall.log");
    const out = new PassThrough().resume();
    const err = new PassThrough().resume();
    const client = [
      ...["-format", "sealed", "-knock", "CLIENT,PORT,FLAG0"],
      ...["-portspan", "1024-33791", "-key", KEY, "-logtofile"],
      ...["-logfile", log, "-quiet", "-client", "2001:db8::7"],
      ...["-port", "22", "-flag0", "0"],
    ];
    const env = { HOME: tempDir() };
    expect(await knock(client, { stdout: out, stderr: err, env })).toBe(0);
    const r = await runMain(["-conf", conf, "-replay", log]);
    expect(r.code).toBe(0);
    expect(rec.lines()).toEqual(["-s 2001:db8::7/32 --dport 22"]);
  });

  it("iptables with SOURCE warns in any format; ip6tables, a family test in the condition, or compat's CLIENT do not", async () => {
    const dir = tempDir();
    const iptables = recorder(dir, "iptables");
    const ip6tables = recorder(dir, "ip6tables");
    const warned = async (conf: string): Promise<string[]> => {
      const r = await runMain(["-check", "-conf", conf]);
      expect(r.code).toBe(0);
      return r.stdout
        .split("\n")
        .filter((l) => l.includes("ENV_IPV6_CLIENT_IPV4_TEMPLATE"));
    };
    const source = await warned(
      daemonConfig(
        dir,
        `logfile = ${join(dir, "fw")}\n<actions>\n<action>\ntemplate = t\n</action>\n<template t>\nsystem = "${iptables.path} -I INPUT -s SOURCE -j ACCEPT"\n</template>\n</actions>`,
      ),
    );
    expect(source).toEqual([
      expect.stringMatching(
        /SOURCE may be an IPv6 address \(the log may hold IPv6 lines.*\), which iptables refuses/,
      ),
    ]);
    expect(
      await warned(
        daemonConfig(
          dir,
          `logfile = ${join(dir, "fw")}\n<actions>\n<action>\ntemplate = t\n</action>\n<template t>\nsystem = "${iptables.path} -I INPUT -s CLIENT/32 -j ACCEPT"\n</template>\n</actions>`,
          "compat.conf",
        ),
      ),
    ).toEqual([]);
    expect(await warned(sealed(dir, `${ip6tables.path} -s CLIENT`))).toEqual(
      [],
    );
    expect(
      await warned(
        sealed(
          dir,
          `${iptables.path} -s CLIENT/32`,
          "PORT == 22 && CLIENT !~ /:/",
        ),
      ),
    ).toEqual([]);
    expect(await warned(sealed(dir, `${iptables.path} -s CLIENT/128`))).toEqual(
      [expect.stringContaining("which iptables refuses")],
    );
  });
});

describe("interfaces (#15)", () => {
  it("reads the kernel's device list; without it, only interfaces that are up: a warning", () => {
    const dir = tempDir();
    const dev = join(dir, "dev");
    writeFileSync(
      dev,
      "Inter-|   Receive\n face |bytes\n    lo: 0 0 0\n  knk0: 0 0 0\n",
    );
    expect(
      checkInterfaces(["lo", "knk0", "any", "knk0:1"], undefined, {
        netDevFile: dev,
      }),
    ).toEqual([]);
    const [missing] = checkInterfaces(["knk1"], undefined, {
      netDevFile: dev,
    });
    expect(missing).toMatchObject({
      code: "ENV_INTERFACE_MISSING",
      severity: "error",
      key: "interface",
    });
    expect(missing?.message).toContain('"knk1" does not exist');
    expect(
      checkInterfaces(["knk1"], undefined, { netDevFile: join(dir, "none") }),
    ).toMatchObject([{ code: "ENV_INTERFACE_MISSING", severity: "warning" }]);
  });

  const gate = gateRootTests(["ip"]);
  it.skipIf(gate.skip)(
    "in a network namespace: a device that is down is there; a missing one stops -check and the start (root)",
    async () => {
      const ns = createNetns();
      ns.exec([
        "ip",
        "link",
        "add",
        "knk0",
        "type",
        "veth",
        "peer",
        "name",
        "knk1",
      ]);
      expect(ns.exec(["ip", "link", "show", "knk0"])).toMatch(/state DOWN/);
      const { conf, stateDir } = setup(
        `runmode = network\ninterface = knk0\n${ACTION}`,
      );
      const ok = await execIn(ns.name, [
        process.execPath,
        KNOCKD,
        "-check",
        "-conf",
        conf,
      ]);
      expect(ok.stdout).not.toContain("ENV_INTERFACE_MISSING");
      expect(ok.code).toBe(0);

      writeFileSync(
        conf,
        readFileSync(conf, "utf8").replace("knk0", "knk0 nope0"),
      );
      const check = await execIn(ns.name, [
        process.execPath,
        KNOCKD,
        "-check",
        "-conf",
        conf,
      ]);
      expect(check.code).toBe(1);
      expect(check.stdout).toMatch(
        /error ENV_INTERFACE_MISSING: interface "nope0" does not exist in this network namespace \(ENODEV\); devices: knk0, knk1, lo/,
      );
      const start = await execIn(ns.name, [
        process.execPath,
        KNOCKD,
        "-conf",
        conf,
      ]);
      expect(start.code).toBe(1);
      expect(start.stderr).toMatch(
        /code=ENV_INTERFACE_MISSING setting=interface source=.*knockdaemon\.conf:\d+/,
      );
      expect(start.stderr).not.toMatch(/capture\.filter|\bready\b/);
      expect(existsSync(stateDir)).toBe(false);
    },
  );
});

describe("SIGHUP (#15)", () => {
  it("a new configuration whose executable is missing is rejected; the old one keeps running", async () => {
    const { dir, conf, rec } = setup(`logfile = DIR/fw\n${ACTION}`);
    writeFileSync(conf, readFileSync(conf, "utf8").replace("DIR", dir));
    writeFileSync(join(dir, "fw"), "");
    const daemon = await spawnDaemon(["-conf", conf]);
    writeFileSync(
      conf,
      readFileSync(conf, "utf8").replace(rec.path, join(dir, "gone")),
    );
    const from = daemon.stderr().length;
    daemon.child.kill("SIGHUP");
    await daemon.waitForLine(/reload\.rejected/, 10_000, from);
    expect(daemon.stderr().slice(from)).toMatch(
      /ERROR reload\.environment .*gone\\" does not exist \(ENOENT\).* code=ENV_EXECUTABLE_MISSING/,
    );
    await waitFor(() => daemon.child.exitCode == null, "daemon alive");
    expect(await daemon.stop()).toBe(0);
  });
});
