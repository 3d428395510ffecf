/**
 * `knock -logtofile` (issue #4): the lines it appends are parsed back by a regex equal to the
 * daemon's built-in `iptables` format, and by the daemon's own line parser. Here, in knockd's
 * tests, because it needs both the client and `@portknock/logsource` (#14: no package but knockd
 * depends on logsource).
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  IPTABLES_REGEX_SOURCES,
  builtinLogFormat,
  parseLogLine,
} from "@portknock/logsource";
import { runKnock as run, tempDir } from "./helpers.ts";

const SETTINGS = [
  "-knock",
  "CLIENT,PORT,FLAG0,CHECKSUM",
  "-portspan",
  "1024-33791",
  "-key",
  "password",
  "-cipher",
  "Blowfish",
  "-noiv",
  "-client",
  "10.3.2.1",
  "-port",
  "3306",
  "-flag0",
  "5",
];
// V6 of vectors.json: the same settings and values.
const V6 = [28121, 3157, 10539, 8514, 3167, 9761, 8037, 8022, 2560];

const re = (key: keyof typeof IPTABLES_REGEX_SOURCES): RegExp =>
  new RegExp(IPTABLES_REGEX_SOURCES[key]);

describe("knock -logtofile", () => {
  it.each([
    ["tcp", "127.0.0.1", "TCP"],
    ["udp", "127.0.0.1", "UDP"],
    ["tcp", "::1", "TCP"],
    ["udp", "::1", "UDP"],
  ])(
    "%s to %s: one netfilter line per port, parsed by the built-in format",
    async (protocol, remote, proto) => {
      const dir = tempDir();
      const log = join(dir, "firewall.log");
      writeFileSync(log, "an earlier line\n");
      const r = await run([
        "-logtofile",
        "-logfile",
        log,
        "-remote",
        remote,
        "-protocol",
        protocol,
        ...SETTINGS,
      ]);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      const lines = readFileSync(log, "utf8").split("\n").filter(Boolean);
      expect(lines[0]).toBe("an earlier line");
      const knock = lines.slice(1);
      expect(knock).toHaveLength(V6.length);
      // The regexes, one by one, exactly as the daemon's built-in format defines them.
      expect(knock.map((l) => re("port").exec(l)?.[1])).toEqual(V6.map(String));
      for (const l of knock) {
        expect(re("required").test(l)).toBe(true);
        expect(re("ipclient").exec(l)?.[1]).toBe("10.3.2.1");
        // CLIENT is IPv4 here, so the logged packet is IPv4 whatever the remote's family.
        expect(re("ipserver").exec(l)?.[1]).toBe("127.0.0.1");
        expect(re("protocol").exec(l)?.[1]).toBe(proto);
      }
      // And the daemon's own parser (the fast path the daemon really uses).
      const format = builtinLogFormat("iptables");
      const hits = knock.map((l, i) =>
        parseLogLine(l, format, `${log}:${i + 2}`, 0),
      );
      expect(
        hits.map((h) => (h.kind === "hit" ? h.hit.dstPort : h.kind)),
      ).toEqual(V6);
      expect(
        hits.every((h) => h.kind === "hit" && h.hit.srcIp === "10.3.2.1"),
      ).toBe(true);
    },
  );

  it("honours a custom fileformat with every placeholder", async () => {
    const dir = tempDir();
    const log = join(dir, "custom.log");
    const r = await run([
      "-logtofile",
      "-logfile",
      log,
      "-remote",
      "127.0.0.1",
      "-fileformat",
      "{date}|{host}|{ipclient}|{ipserver}|{port}|{protocol}|{interface}|{sport}",
      ...SETTINGS,
    ]);
    expect(r.code).toBe(0);
    const fields = readFileSync(log, "utf8").split("\n")[0]!.split("|");
    expect(fields[0]).toMatch(/^[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d$/);
    expect(fields.slice(2, 7)).toEqual([
      "10.3.2.1",
      "127.0.0.1",
      "28121",
      "tcp",
      "lo",
    ]);
    expect(Number(fields[7])).toBeGreaterThanOrEqual(1024);
  });

  it("refuses an unknown placeholder, naming -fileformat", async () => {
    const dir = tempDir();
    const r = await run([
      "-logtofile",
      "-logfile",
      join(dir, "x.log"),
      "-remote",
      "127.0.0.1",
      "-fileformat",
      "{nope}",
      ...SETTINGS,
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("option -fileformat");
  });

  it("requires -logfile", async () => {
    const r = await run(["-logtofile", "-remote", "127.0.0.1", ...SETTINGS]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("option -logfile");
  });

  it("an unwritable log file is a runtime failure", async () => {
    const r = await run([
      "-logtofile",
      "-logfile",
      "/nonexistent/dir/x.log",
      "-remote",
      "127.0.0.1",
      ...SETTINGS,
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("ENOENT");
  });
});
