import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { run, tempDir } from "./helpers.ts";

interface Vector {
  id: string;
  config: Record<string, string | boolean>;
  values: Record<string, string | number>;
  plaintext: string;
  wire: string;
  ports: number[];
}
const vectors = JSON.parse(
  readFileSync(
    new URL("../../codec/test/fixtures/vectors.json", import.meta.url),
    "utf8",
  ),
) as Vector[];

/** The command line that reproduces a vector. */
function vectorArgs(v: Vector): string[] {
  const c = v.config;
  const args = ["-knock", String(c.knock), "-portspan", String(c.portspan)];
  args.push("-padding", String(c.padding));
  args.push(c.encrypt ? "-encrypt" : "-noencrypt");
  if (c.cipher) args.push("-cipher", String(c.cipher));
  if (c.key) args.push("-key", String(c.key));
  if (c.iv !== undefined) args.push(c.iv ? "-iv" : "--no-iv");
  if (c.ivvalue) args.push("-ivvalue", String(c.ivvalue));
  for (const [k, val] of Object.entries(v.values)) {
    args.push(
      k === "CLIENT" || k === "IP" ? "-client" : `-${k.toLowerCase()}`,
      String(val),
    );
  }
  return args;
}

describe("knock -test / -json reproduce every vector", () => {
  it.each(vectors)("$id: -test prints the ports on one line", async (v) => {
    const r = await run(["-test", ...vectorArgs(v)]);
    expect(r.stderr).not.toContain(" error ");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(v.ports.join(",") + "\n");
  });

  it.each(vectors)("$id: -json prints plaintext, wire and ports", async (v) => {
    const r = await run(["-json", "-test", ...vectorArgs(v)]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      plaintext: v.plaintext,
      wire: v.wire,
      ports: v.ports,
    });
  });

  it("-debug details go to stderr, stdout keeps the contract", async () => {
    const v = vectors.find((x) => x.id === "V4")!;
    const r = await run(["-test", "-debug", ...vectorArgs(v)]);
    expect(r.stdout).toBe(v.ports.join(",") + "\n");
    expect(r.stderr).toContain(`plaintext ${v.plaintext}`);
    expect(r.stderr).toContain(`wire ${v.wire}`);
  });
});

describe("option spelling (Getopt::Long habits)", () => {
  const v4 = vectors.find((x) => x.id === "V4")!;
  it.each([
    [["--test", "--portspan=1000-1255", "--knock=CLIENT,PORT,FLAG0,CHECKSUM"]],
    [
      [
        "-TEST",
        "-PortSpan",
        "1000-1255",
        "-knock",
        "CLIENT,PORT,FLAG0,CHECKSUM",
      ],
    ],
    [["-te", "-ports", "1000-1255", "-knock", "CLIENT,PORT,FLAG0,CHECKSUM"]],
  ])("%j", async (head) => {
    const r = await run([
      ...head,
      "-key=password",
      "-encrypt=yes",
      "-iv=no",
      "-client",
      "10.3.2.1",
      "-port",
      "3306",
      "-flag0",
      "5",
    ]);
    expect(r.stderr).toBe("");
    expect(r.stdout.trim()).toBe(v4.ports.join(","));
  });
});

describe("config file and precedence", () => {
  function confFile(dir: string, text: string): string {
    const file = join(dir, "client.conf");
    writeFileSync(file, text);
    return file;
  }

  it("reads the knock settings from -conf, the command line wins", async () => {
    const dir = tempDir();
    const file = confFile(
      dir,
      [
        "knock = CLIENT,PORT,FLAG0,CHECKSUM",
        "portspan = 1024-33791",
        "key = password",
        "cipher = Blowfish",
        "port = 22",
        "flag0 = 5",
        "client = 10.3.2.1",
      ].join("\n"),
    );
    // V6: span 1024-33791, port 3306 from the command line overrides port = 22.
    const r = await run(["-conf", file, "-test", "-port", "3306"]);
    expect(r.stderr).toBe("");
    expect(r.stdout.trim()).toBe(
      "28121,3157,10539,8514,3167,9761,8037,8022,2560",
    );
  });

  it("finds ~/.knockclient.conf when no -conf is given", async () => {
    const home = tempDir();
    confFile(home, "");
    writeFileSync(
      join(home, ".knockclient.conf"),
      "knock = IP,PORT,CHECKSUM\nportspan = 1000-1255\nkey = s3cr3t\ncipher = DES\n",
    );
    const r = await run(["-test", "-client", "142.10.20.30", "-port", "22"], {
      home,
    });
    expect(r.stdout.trim()).toBe("1167,1091,1138,1033,1237,1053,1146,1163"); // V10
  });

  it("names the config line of a bad value", async () => {
    const dir = tempDir();
    const file = confFile(
      dir,
      "knock = CLIENT,PORT\nportspan = 900-800\nencrypt = no\n",
    );
    const r = await run([
      "-conf",
      file,
      "-test",
      "-client",
      "1.2.3.4",
      "-port",
      "1",
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/client\.conf:2(:\d+)?: error SPAN_DESCENDING/);
  });

  it("names the flag when the bad value came from the command line", async () => {
    const dir = tempDir();
    const file = confFile(
      dir,
      "knock = CLIENT,PORT\nportspan = 1000-1255\nencrypt = no\n",
    );
    const r = await run([
      "-conf",
      file,
      "-test",
      "-portspan",
      "900-800",
      "-client",
      "1.2.3.4",
      "-port",
      "1",
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("option -portspan: error SPAN_DESCENDING");
  });

  it("a missing -conf file is a usage error naming it", async () => {
    const r = await run(["-conf", "/nonexistent/knock.conf", "-test"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("/nonexistent/knock.conf");
  });
});

describe("error paths exit 2 and name the option", () => {
  const base = [
    "-test",
    "-knock",
    "CLIENT,PORT,FLAG0,TIME,MASK,CHECKSUM",
    "-portspan",
    "1000-1255",
    "-noencrypt",
  ];
  const full = [
    "-client",
    "10.0.0.1",
    "-port",
    "22",
    "-flag0",
    "1",
    "-time",
    "5",
    "-mask",
    "24",
  ];
  const without = (flag: string): string[] => {
    const i = full.indexOf(flag);
    return [...full.slice(0, i), ...full.slice(i + 2)];
  };
  it.each([
    [["-bogus", ...full], "option -bogus", "ARGV_UNKNOWN"],
    [["-p", "1", ...full], "option -p", "ARGV_AMBIGUOUS"],
    [[...full, "-port"], "option -port", "ARGV_MISSING_VALUE"],
    [["-iv=maybe", ...full], "option -iv", "ARGV_BAD_BOOLEAN"],
    [["stray", ...full], "option stray", "ARGV_UNEXPECTED"],
    [[...without("-port"), "-port", "70000"], "option -port", ""],
    [[...without("-port"), "-port", "ssh"], "option -port", ""],
    [[...without("-flag0"), "-flag0", "256"], "option -flag0", ""],
    [[...without("-flag0"), "-flag0", "-1"], "option -flag0", ""],
    [[...without("-mask"), "-mask", "33"], "option -mask", ""],
    [[...without("-time"), "-time", "4294967296"], "option -time", ""],
    [
      [...without("-client"), "-client", "10.0.0.999"],
      "option -client",
      "KNOCK_BAD_VALUE",
    ],
    [
      [...without("-client"), "-client", "::1"],
      "option -client",
      "KNOCK_BAD_VALUE",
    ],
    [without("-port"), "option -port", "ARGV_MISSING_VALUE"],
    [without("-flag0"), "option -flag0", "ARGV_MISSING_VALUE"],
    [without("-mask"), "option -mask", "ARGV_MISSING_VALUE"],
    [without("-client"), "option -client", "ARGV_MISSING_VALUE"],
    [
      [...full, "-cipher", "Rot13", "-encrypt", "-key", "k"],
      "option -cipher",
      "",
    ],
    [[...full, "-encrypt"], "option -encrypt", "key"],
    [[...full, "-knock", "CLIENT,BOGUS"], "option -knock", "FIELDS_UNKNOWN"],
  ])("%j → %s %s", async (extra, where, code) => {
    const r = await run([...base, ...extra]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(`knock: ${where}:`);
    if (code) expect(r.stderr).toContain(code);
  });

  it("sending without -remote is a usage error", async () => {
    const r = await run([
      "-knock",
      "PORT",
      "-portspan",
      "1000-1255",
      "-noencrypt",
      "-port",
      "1",
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("option -remote");
  });

  it("an unresolvable remote is a usage error naming -remote", async () => {
    const r = await run([
      "-knock",
      "PORT",
      "-portspan",
      "1000-1255",
      "-noencrypt",
      "-port",
      "1",
      "-remote",
      "no-such-host.invalid",
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("option -remote");
  });
});

describe("-h, -man, -genkey", () => {
  it("-h prints the usage", async () => {
    const r = await run(["-h"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^usage: knock /);
  });
  it("-man prints the manual shipped with the package", async () => {
    const r = await run(["-man"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("LOG-FILE MODE");
    expect(r.stdout).toContain("EXIT STATUS");
  });
  it("-genkey prints a fresh 32-byte base64 key each time", async () => {
    const a = await run(["-genkey"]);
    const b = await run(["-genkey"]);
    expect(a.stdout).toMatch(/^base64:[A-Za-z0-9+/]{43}=\n$/);
    expect(Buffer.from(a.stdout.trim().slice(7), "base64")).toHaveLength(32);
    expect(a.stdout).not.toBe(b.stdout);
  });
});

describe("-time defaults to now", () => {
  it("uses the injected clock", async () => {
    const r = await run(
      [
        "-json",
        "-test",
        "-knock",
        "TIME",
        "-portspan",
        "1000-1255",
        "-noencrypt",
      ],
      { now: () => 1_100_000_000_500 },
    );
    expect((JSON.parse(r.stdout) as { plaintext: string }).plaintext).toBe(
      (1_100_000_000).toString(16).padStart(8, "0"),
    );
  });
});
