/**
 * Issue #14: the thin `knock` CLI. `-test` and `-logtofile` never resolve `-remote`; a value
 * option for a field the knock lacks is a warning; an unexpected exception is one line and exit 1.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { run, tempDir } from "./helpers.ts";

// V6 of vectors.json.
const V6_ARGS = [
  "-knock",
  "CLIENT,PORT,FLAG0,CHECKSUM",
  "-portspan",
  "1024-33791",
  "-key",
  "password",
  "-cipher",
  "Blowfish",
  "-noiv",
  "-port",
  "3306",
  "-flag0",
  "5",
];
const V6 = "28121,3157,10539,8514,3167,9761,8037,8022,2560";
// RFC 6761: .invalid never resolves, so a run that tried would fail with REMOTE_UNRESOLVED.
const UNRESOLVABLE = "gw.example.invalid";

function confWithRemote(): string {
  const file = join(tempDir(), "knockclient.conf");
  writeFileSync(file, `remote = ${UNRESOLVABLE}\n`);
  return file;
}

describe("#14: -test and -logtofile do not resolve -remote", () => {
  it("#14: -test with an unresolvable remote in the config prints the ports", async () => {
    const conf = confWithRemote();
    const r = await run([
      "-conf",
      conf,
      "-test",
      "-client",
      "10.3.2.1",
      ...V6_ARGS,
    ]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(V6 + "\n");
  });

  it("#14: -logtofile with an unresolvable remote logs from the CLIENT to loopback", async () => {
    const log = join(tempDir(), "fw.log");
    const r = await run([
      "-conf",
      confWithRemote(),
      "-logtofile",
      "-logfile",
      log,
      "-client",
      "10.3.2.1",
      ...V6_ARGS,
    ]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const lines = readFileSync(log, "utf8").trimEnd().split("\n");
    expect(lines.map((l) => /DPT=(\d+)/.exec(l)?.[1]).join(",")).toBe(V6);
    expect(lines.every((l) => l.includes("DST=127.0.0.1 "))).toBe(true);
  });

  it("#14: -test without -client asks for -client rather than resolving the name", async () => {
    const r = await run(["-conf", confWithRemote(), "-test", ...V6_ARGS]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("option -client: error ARGV_MISSING_VALUE");
    expect(r.stderr).not.toContain("REMOTE_UNRESOLVED");
  });

  it("#14: sending still resolves, and an unresolvable name is REMOTE_UNRESOLVED", async () => {
    const r = await run([
      "-conf",
      confWithRemote(),
      "-client",
      "10.3.2.1",
      ...V6_ARGS,
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("option -remote: error REMOTE_UNRESOLVED");
  });

  it("#14: -test with an IP remote still finds the local address for CLIENT", async () => {
    const r = await run(["-json", "-test", "-remote", "127.0.0.1", ...V6_ARGS]);
    expect(r.code).toBe(0);
    // CLIENT 127.0.0.1 in the plaintext: 7f000001.
    expect((JSON.parse(r.stdout) as { plaintext: string }).plaintext).toMatch(
      /^7f000001/,
    );
  });
});

describe("#14: a value option for a field the knock lacks is a warning", () => {
  const PORT_ONLY = [
    "-test",
    "-knock",
    "PORT",
    "-portspan",
    "1000-1255",
    "-noencrypt",
    "-port",
    "1",
  ];

  it.each([
    ["-time", "5"],
    ["-flag1", "3"],
    ["-mask", "24"],
    ["-client", "10.0.0.1"],
  ])(
    "#14: %s %s is ignored with KNOCK_FIELD_UNUSED, exit 0",
    async (flag, value) => {
      const r = await run([...PORT_ONLY, flag, value]);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe("1000,1001\n");
      expect(r.stderr).toContain(
        `knock: option ${flag}: warning KNOCK_FIELD_UNUSED:`,
      );
      expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
    },
  );

  it("#14: -quiet drops the warning", async () => {
    const r = await run([...PORT_ONLY, "-quiet", "-time", "5"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
  });

  it("#14: a value set in the config file is not warned about", async () => {
    const file = join(tempDir(), "knockclient.conf");
    writeFileSync(file, "time = 5\nmask = 8\n");
    const r = await run(["-conf", file, ...PORT_ONLY]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
  });
});

describe("#14: one top-level error mapping (STYLE §7)", () => {
  const TIME = [
    "-test",
    "-knock",
    "TIME",
    "-portspan",
    "1000-1255",
    "-noencrypt",
  ];

  it("#14: an unexpected exception is INTERNAL: one line, the stack, please report, exit 1", async () => {
    const r = await run(TIME, {
      now: () => {
        throw new TypeError("clock broke");
      },
    });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    const lines = r.stderr.trimEnd().split("\n");
    expect(lines[0]).toBe("knock: INTERNAL: clock broke");
    expect(r.stderr).toMatch(/\n\s+at /);
    expect(lines.at(-1)).toMatch(/^knock: .*please report/);
  });

  it("#14: a known runtime failure is one line without a stack; -debug adds it", async () => {
    const args = [
      "-logtofile",
      "-logfile",
      "/nonexistent/dir/x.log",
      "-knock",
      "PORT",
    ];
    const more = ["-portspan", "1000-1255", "-noencrypt", "-port", "1"];
    const plain = await run([...args, ...more]);
    expect(plain.code).toBe(1);
    expect(plain.stderr).toMatch(/^knock: ENOENT: [^\n]*\n$/);
    const debug = await run([...args, ...more, "-debug"]);
    expect(debug.code).toBe(1);
    expect(debug.stderr).toMatch(/^knock: ENOENT: [^\n]*\n\w*Error: /m);
    expect(debug.stderr).toMatch(/\n\s+at /);
  });

  it("#14: every missing field value is reported in one run", async () => {
    const r = await run([
      "-test",
      "-knock",
      "PORT,FLAG0,MASK",
      "-portspan",
      "1000-1255",
      "-noencrypt",
    ]);
    expect(r.code).toBe(2);
    for (const flag of ["-port", "-flag0", "-mask"])
      expect(r.stderr).toContain(`option ${flag}: error ARGV_MISSING_VALUE`);
  });
});

describe("knock -version (#15)", () => {
  it("-version and --version print the package's version", async () => {
    const { version } = JSON.parse(
      readFileSync(new URL("../package.json", import.meta.url), "utf8"),
    ) as { version: string };
    for (const flag of ["-version", "--version"]) {
      const r = await run([flag]);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(`knock ${version}\n`);
    }
  });
});
