/**
 * `knockd -init` (issue #17): real files in a temp dir. The pair it writes loads with the config
 * package, passes `knockd -check`, and a knock the real client appends from the client file
 * (`knock -logtofile`) is accepted by `knockd -replay` of the daemon file; nothing is
 * overwritten; every bad flag is a coded error naming it, and nothing is written then.
 */
import {
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadClientConfig, loadDaemonConfig } from "@portknock/config";
import { runKnock, runMain, tempDir } from "./helpers.ts";

const init = (dir: string, ...flags: string[]): ReturnType<typeof runMain> =>
  runMain(["-init", "-remote", "gw.example.org", "-dir", dir, ...flags]);

/** The value of `key = …` in a written file. */
const keyOf = (text: string): string | undefined =>
  /^key\s+=\s+(\S+)/m.exec(text)?.[1];

describe("knockd -init (#17)", () => {
  it("network mode: a 0600 pair with one new key that loads and passes -check", async () => {
    const dir = tempDir();
    const statefile = join(dir, "state", "state.json");
    const r = await init(
      dir,
      "-protect",
      "tcp/22",
      "-interface",
      "lo",
      "-statefile",
      statefile,
    );
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const daemonPath = join(dir, "knockdaemon.conf");
    const clientPath = join(dir, "knockclient.conf");
    for (const path of [daemonPath, clientPath]) {
      expect(statSync(path).mode & 0o777).toBe(0o600);
    }
    // The next steps name the files and the commands, in order.
    const steps = [
      `scp ${clientPath} `,
      `knockd -check -conf ${daemonPath}`,
      `knockd -conf ${daemonPath}`,
      "knock -port 22",
      "ssh gw.example.org",
    ].map((s) => r.stdout.indexOf(s));
    expect(steps.every((i) => i > 0)).toBe(true);
    expect([...steps].sort((a, b) => a - b)).toEqual(steps);

    const key = keyOf(readFileSync(daemonPath, "utf8"));
    expect(key).toMatch(/^base64:[A-Za-z0-9+/]{43}=$/);
    expect(keyOf(readFileSync(clientPath, "utf8"))).toBe(key);

    const daemon = loadDaemonConfig(daemonPath);
    expect(daemon.diagnostics).toEqual([]);
    expect(daemon.config).toMatchObject({
      runmode: "network",
      interfaces: ["lo"],
      format: "sealed",
      knock: "CLIENT,PORT",
      portspan: "1024-33791",
      statefile,
      requireSource: true,
      firewall: {
        backend: "auto",
        protect: [{ protocol: "tcp", port: 22 }],
        grantMs: 30_000,
      },
    });
    expect(daemon.config?.firewall?.nflog).toBeUndefined();
    const templates = [...(daemon.config?.actions.templates.values() ?? [])];
    expect(templates.flatMap((t) => t.grant)).toMatchObject([
      { protocol: "tcp", port: 22, lifetimeMs: 30_000, to: "CLIENT" },
    ]);
    const client = loadClientConfig(clientPath);
    expect(client.diagnostics).toEqual([]);
    expect(client.config).toMatchObject({
      remote: "gw.example.org",
      format: "sealed",
      knock: "CLIENT,PORT",
      portspan: "1024-33791",
    });

    const check = await runMain(["-check", "-conf", daemonPath]);
    expect(check.stderr).toBe("");
    expect(check.code).toBe(0);
    expect(check.stdout).toContain("security audit: nothing to report");
    expect(check.stdout).toMatch(/^interface\s+lo$/m);
    // A second run makes another key.
    const other = tempDir();
    await init(other, "-protect", "tcp/22", "-interface", "lo");
    expect(
      keyOf(readFileSync(join(other, "knockdaemon.conf"), "utf8")),
    ).not.toBe(key);
  });

  it("file mode: knocks from the client file (IPv4 and IPv6) are accepted by -replay of the daemon file", async () => {
    const dir = tempDir();
    const r = await init(
      dir,
      "-protect",
      "tcp/22",
      "-protect",
      "udp/53,tcp/53",
      "-runmode",
      "file",
      "-grant",
      "2m",
      "-statefile",
      join(dir, "state.json"),
    );
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("NFLOG group 5");
    const daemonPath = join(dir, "knockdaemon.conf");
    const text = readFileSync(daemonPath, "utf8");
    // The ulogd2 settings that keep latency low are in the comments.
    expect(text).toContain("#   netlink_qthreshold=1");
    expect(text).toContain('#   file="/var/log/ulog/portknock.log"');
    const daemon = loadDaemonConfig(daemonPath);
    expect(daemon.diagnostics).toEqual([]);
    expect(daemon.config).toMatchObject({
      runmode: "file",
      logfile: "/var/log/ulog/portknock.log",
      firewall: {
        protect: [
          { protocol: "tcp", port: 22 },
          { protocol: "udp", port: 53 },
          { protocol: "tcp", port: 53 },
        ],
        grantMs: 120_000,
        nflog: 5,
      },
    });
    const grants = [...(daemon.config?.actions.templates.values() ?? [])].map(
      (t) => t.grant.map((g) => `${g.protocol}/${g.port}`).join(" "),
    );
    expect(grants).toEqual(["tcp/22", "udp/53 tcp/53"]);

    // The test's log instead of ulogd2's.
    const log = join(dir, "firewall.log");
    writeFileSync(log, "");
    writeFileSync(
      daemonPath,
      text.replace(/^logfile\s+=.*$/m, `logfile = ${log}`),
    );
    const clientPath = join(dir, "knockclient.conf");
    for (const [client, port] of [
      ["127.0.0.1", "22"],
      ["::1", "53"],
    ] as const) {
      const k = await runKnock([
        "-conf",
        clientPath,
        "-logtofile",
        "-logfile",
        log,
        "-client",
        client,
        "-port",
        port,
      ]);
      expect(k.stderr).toBe("");
      expect(k.code).toBe(0);
    }
    // -test: the grant is only logged (no firewall is touched here).
    const replay = await runMain([
      "-conf",
      daemonPath,
      "-replay",
      log,
      "-test",
      "-logjson",
    ]);
    expect(replay.code).toBe(0);
    expect(
      (JSON.parse(replay.stdout) as { knocksAccepted: number }).knocksAccepted,
    ).toBe(2);
    const events = replay.stderr
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(
      events
        .filter((e) => e.event === "knock.accepted")
        .map((e) => [e.ip, e.port]),
    ).toEqual([
      ["127.0.0.1", 22],
      ["::1", 53],
    ]);
    // Each knock matched its own action (the line of its <action> block).
    const actionLine = (port: number): string =>
      `${daemonPath}:${
        text.split("\n").indexOf(`    condition = PORT == ${port}`) // the line before is <action>
      }`;
    expect(
      events.filter((e) => e.event === "action.test").map((e) => e.action),
    ).toEqual([actionLine(22), actionLine(53)]);
  });

  it("refuses to overwrite, and leaves nothing of a run that failed", async () => {
    const dir = tempDir();
    const flags = ["-protect", "tcp/22", "-interface", "lo"];
    expect((await init(dir, ...flags)).code).toBe(0);
    const before = readFileSync(join(dir, "knockdaemon.conf"), "utf8");
    const again = await init(dir, ...flags);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(
      /^knockd: INIT_FILE_EXISTS: .*knockdaemon\.conf/,
    );
    expect(again.stdout).toBe("");
    expect(readFileSync(join(dir, "knockdaemon.conf"), "utf8")).toBe(before);

    // Only the client file is there: the daemon file this run wrote is taken back.
    const other = tempDir();
    writeFileSync(join(other, "knockclient.conf"), "mine\n");
    const r = await init(other, ...flags);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/INIT_FILE_EXISTS: .*knockclient\.conf/);
    expect(readdirSync(other)).toEqual(["knockclient.conf"]);
    expect(readFileSync(join(other, "knockclient.conf"), "utf8")).toBe(
      "mine\n",
    );
  });

  it("-dir must be an existing directory, its name one line", async () => {
    const dir = tempDir();
    const file = join(dir, "a-file");
    writeFileSync(file, "");
    const newline = join(dir, "x\nkey = mine");
    mkdirSync(newline);
    for (const target of [join(dir, "missing"), file, newline]) {
      const r = await init(target, "-protect", "tcp/22", "-interface", "lo");
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(
        /^knockd: option -dir: error INIT_DIR_UNUSABLE: /,
      );
    }
    expect(readdirSync(dir).sort()).toEqual(["a-file", "x\nkey = mine"]);
    expect(readdirSync(newline)).toEqual([]);
  });

  it("a directory it cannot write in is INIT_WRITE_FAILED with the OS's reason", async () => {
    // /proc takes no new files, not even from root.
    const r = await init("/proc", "-protect", "tcp/22", "-interface", "lo");
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^knockd: INIT_WRITE_FAILED: cannot create \/proc\/knockdaemon\.conf: E[A-Z]+/,
    );
    expect(r.stdout).toBe("");
  });

  it("a relative -dir: the files' comments and the next steps use absolute paths", async () => {
    const dir = tempDir();
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      const r = await init(".", "-protect", "tcp/22", "-interface", "lo");
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(
        `knockd -check -conf ${join(dir, "knockdaemon.conf")}\n`,
      );
    } finally {
      process.chdir(cwd);
    }
    expect(readFileSync(join(dir, "knockdaemon.conf"), "utf8")).toContain(
      `#   knockd -conf ${join(dir, "knockdaemon.conf")}\n`,
    );
  });

  it.each([
    [["-protect", "tcp/0"], "-protect", "INIT_BAD_PROTECT"],
    [["-protect", "22"], "-protect", "INIT_BAD_PROTECT"],
    [["-protect", "sctp/22"], "-protect", "INIT_BAD_PROTECT"],
    [
      ["-protect", "tcp/22", "-protect", "TCP/22"],
      "-protect",
      "INIT_BAD_PROTECT",
    ],
    [["-interface", "eth 0"], "-interface", "INIT_BAD_INTERFACE"],
    [["-interface", "a-name-too-long0"], "-interface", "INIT_BAD_INTERFACE"],
    [["-interface", "../x"], "-interface", "INIT_BAD_INTERFACE"],
    [["-remote", "127.1"], "-remote", "INIT_BAD_REMOTE"],
    [["-remote", "gw.example.org\n#x"], "-remote", "INIT_BAD_REMOTE"],
    [["-remote", "-bad-.org"], "-remote", "INIT_BAD_REMOTE"],
    [["-remote", "224.0.0.1"], "-remote", "INIT_BAD_REMOTE"],
    [["-remote", "fe80::1%eth0"], "-remote", "INIT_BAD_REMOTE"],
    [["-grant", "soon"], "-grant", "INIT_BAD_GRANT"],
    [["-grant", "0"], "-grant", "INIT_BAD_GRANT"],
    [["-grant", "1.5s"], "-grant", "INIT_BAD_GRANT"],
    [["-grant", "597h"], "-grant", "INIT_BAD_GRANT"],
    [["-runmode", "sniff"], "-runmode", "INIT_BAD_RUNMODE"],
    [["-statefile", "state.json"], "-statefile", "INIT_BAD_STATEFILE"],
    [["-statefile", "/var/lib/a b"], "-statefile", "INIT_BAD_STATEFILE"],
    [["-statefile", "/var/../etc/x"], "-statefile", "INIT_BAD_STATEFILE"],
    [["-portspan", "1000-2000"], "-portspan", "INIT_BAD_PORTSPAN"],
    [["-portspan", "1-1024"], "-portspan", "INIT_BAD_PORTSPAN"],
    [["-portspan", "1024-2047,4096"], "-portspan", "INIT_BAD_PORTSPAN"],
    [["-grant", "30s", "-grant", "40s"], "-grant", "INIT_FLAG_MISUSE"],
    [["-check"], "-check", "INIT_FLAG_MISUSE"],
    [["-conf", "/etc/x"], "-conf", "INIT_FLAG_MISUSE"],
  ])("%j is %s %s, and nothing is written", async (flags, flag, code) => {
    const dir = tempDir();
    // The valid flags first; the bad one is added (or replaces its value: the last counts).
    const base: Record<string, string> = {
      "-protect": "tcp/22",
      "-interface": "lo",
      "-remote": "gw.example.org",
    };
    const given = new Set(flags.filter((f) => f.startsWith("-")));
    const argv = [
      "-init",
      "-dir",
      dir,
      ...Object.entries(base)
        .filter(([k]) => !given.has(k))
        .flat(),
      ...flags,
    ];
    const r = await runMain(argv);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`knockd: option ${flag}: error ${code}: `);
    expect(readdirSync(dir)).toEqual([]);
  });

  it("names every missing flag at once", async () => {
    const r = await runMain(["-init"]);
    expect(r.code).toBe(2);
    expect(
      [...r.stderr.matchAll(/option (-\w+): error INIT_MISSING_FLAG/g)].map(
        (m) => m[1],
      ),
    ).toEqual(["-protect", "-interface", "-remote", "-dir"]);
    // File mode needs no -interface.
    const dir = tempDir();
    const f = await init(dir, "-protect", "tcp/22", "-runmode", "file");
    expect(f.code).toBe(0);
    expect(existsSync(join(dir, "knockclient.conf"))).toBe(true);
  });

  it("an -init flag without -init is refused, not ignored", async () => {
    const dir = tempDir();
    mkdirSync(join(dir, "d"));
    const r = await runMain(["-protect", "tcp/22", "-dir", join(dir, "d")]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      "knockd: option -protect: error INIT_FLAG_MISUSE: ",
    );
    expect(readdirSync(join(dir, "d"))).toEqual([]);
  });

  it("keeps the knock span clear of protected ports", async () => {
    const dir = tempDir();
    const r = await init(dir, "-protect", "tcp/8080", "-interface", "lo");
    expect(r.code).toBe(0);
    expect(
      loadDaemonConfig(join(dir, "knockdaemon.conf")).config?.portspan,
    ).toBe("8081-40848");
    const given = tempDir();
    await init(
      given,
      "-protect",
      "tcp/22",
      "-interface",
      "lo",
      "-portspan",
      "40000-40255",
    );
    const client = loadClientConfig(join(given, "knockclient.conf"));
    expect(client.config?.portspan).toBe("40000-40255");
  });
});
