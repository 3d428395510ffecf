/**
 * The built `knock` executable as a child process (issue #4): -test and -json for every vector,
 * exit codes and messages of the error paths, -h and -man, precedence of the command line over
 * the config file. (cli.test.ts runs the same paths through `main` in-process.)
 */
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { tempDir } from "./helpers.ts";

const BIN = fileURLToPath(new URL("../bin/knock.js", import.meta.url));
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

function knock(
  args: string[],
  home = tempDir(),
): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    encoding: "utf8",
    env: { ...process.env, HOME: home },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function vectorArgs(v: Vector): string[] {
  const c = v.config;
  const args = [
    "--knock",
    String(c.knock),
    "--portspan",
    String(c.portspan),
    "-padding",
    String(c.padding),
  ];
  args.push(c.encrypt ? "-encrypt" : "-noencrypt");
  if (c.cipher) args.push("-cipher", String(c.cipher));
  if (c.key) args.push(`--key=${String(c.key)}`);
  if (c.iv !== undefined) args.push(c.iv ? "-iv=yes" : "-iv=no");
  if (c.ivvalue) args.push("-ivvalue", String(c.ivvalue));
  for (const [k, val] of Object.entries(v.values)) {
    args.push(
      k === "CLIENT" || k === "IP" ? "-client" : `-${k.toLowerCase()}`,
      String(val),
    );
  }
  return args;
}

describe("the knock executable", () => {
  it.each(vectors)("$id: -test and -json", (v) => {
    const t = knock(["-test", "-quiet", ...vectorArgs(v)]);
    expect(t.status).toBe(0);
    expect(t.stdout).toBe(v.ports.join(",") + "\n");
    const j = knock(["-json", "-test", "-quiet", ...vectorArgs(v)]);
    expect(JSON.parse(j.stdout)).toEqual({
      plaintext: v.plaintext,
      wire: v.wire,
      ports: v.ports,
    });
  });

  it.each([
    [["-bogus"], 2, "knock: option -bogus: error ARGV_UNKNOWN"],
    [
      [
        "-test",
        "-knock",
        "PORT",
        "-portspan",
        "1000-1255",
        "-noencrypt",
        "-port",
        "70000",
      ],
      2,
      "knock: option -port: error",
    ],
    [
      [
        "-test",
        "-knock",
        "PORT",
        "-portspan",
        "900-800",
        "-noencrypt",
        "-port",
        "1",
      ],
      2,
      "knock: option -portspan: error SPAN_DESCENDING",
    ],
    [
      ["-knock", "PORT", "-portspan", "1000-1255", "-noencrypt", "-port", "1"],
      2,
      "knock: option -remote",
    ],
    [
      [
        "-logtofile",
        "-logfile",
        "/nonexistent/x.log",
        "-knock",
        "PORT",
        "-portspan",
        "1000-1255",
        "-noencrypt",
        "-port",
        "1",
      ],
      1,
      "ENOENT",
    ],
  ])("%j exits %i", (args, status, message) => {
    const r = knock(args);
    expect(r.status).toBe(status);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(message);
  });

  it("the command line wins over ~/.knockclient.conf, whose errors name file and line", () => {
    const home = tempDir();
    writeFileSync(
      join(home, ".knockclient.conf"),
      "knock = PORT\nportspan = 1000-1255\nencrypt = no\nport = 1\n",
    );
    expect(knock(["-test"], home).stdout).toBe("1000,1001\n");
    expect(knock(["-test", "-port", "257"], home).stdout).toBe("1001,1001\n");
    writeFileSync(
      join(home, ".knockclient.conf"),
      "knock = PORT\nportspan = 1000-1255\nencrypt = maybe\n",
    );
    const bad = knock(["-test", "-port", "1"], home);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/\.knockclient\.conf:3(:\d+)?: error/);
  });

  it("-h and -man", () => {
    expect(knock(["-h"]).stdout).toMatch(/^usage: knock /);
    expect(knock(["--man"]).stdout).toContain("EXIT STATUS");
  });
});
