import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { normalizeArgv, type ArgvSpec } from "./parse-argv.ts";

const spec: ArgvSpec = {
  program: "knock",
  values: ["conf", "port", "portspan", "padding", "key"],
  booleans: ["iv", "debug", "test"],
  valuePattern: /^flag(0|[1-9]\d?)$/,
};
const norm = (...argv: string[]): ReturnType<typeof normalizeArgv> =>
  normalizeArgv(argv, spec);

describe("normalizeArgv (Getopt::Long habits)", () => {
  it.each([
    [["-conf", "a.conf"], ["--conf=a.conf"]],
    [["--conf", "a.conf"], ["--conf=a.conf"]],
    [["--conf=a=b.conf"], ["--conf=a=b.conf"]],
    [["-CONF", "x"], ["--conf=x"]],
    [
      ["-portspan", "1-2", "-port", "22"],
      ["--portspan=1-2", "--port=22"],
    ],
    [["-ports", "1-2"], ["--portspan=1-2"]],
    [["-deb"], ["--debug"]],
    [["-iv"], ["--iv"]],
    [["-iv=yes"], ["--iv"]],
    [["-iv=NO"], ["--no-iv"]],
    [["-noiv"], ["--no-iv"]],
    [["--no-iv"], ["--no-iv"]],
    [["-nodebug"], ["--no-debug"]],
    [["-flag0", "-1"], ["--flag0=-1"]],
    [["-flag12", "7"], ["--flag12=7"]],
    [["-key", "-conf"], ["--key=-conf"]],
  ])("%j → %j", (argv, tokens) => {
    expect(norm(...argv)).toEqual({ ok: true, tokens });
  });

  it.each([
    [["-bogus"], "ARGV_UNKNOWN", "-bogus"],
    [["-p", "1"], "ARGV_AMBIGUOUS", "-p"],
    [["-port"], "ARGV_MISSING_VALUE", "-port"],
    [["-iv=maybe"], "ARGV_BAD_BOOLEAN", "-iv"],
    [["-noiv=yes"], "ARGV_BAD_BOOLEAN", "-noiv"],
    [["-noport", "1"], "ARGV_UNKNOWN", "-noport"],
    [["stray"], "ARGV_UNEXPECTED", "stray"],
    [["-flag100", "1"], "ARGV_UNKNOWN", "-flag100"],
  ])("%j → %s at %s", (argv, code, flag) => {
    expect(norm(...argv)).toEqual({
      ok: false,
      diagnostic: expect.objectContaining({
        code,
        where: { kind: "argv", flag },
      }) as unknown,
    });
  });

  it("never throws on arbitrary argv", () => {
    fc.assert(
      fc.property(fc.array(fc.string()), (argv) => {
        const r = normalizeArgv(argv, spec);
        if (!r.ok) expect(r.diagnostic.code).toMatch(/^ARGV_/);
      }),
    );
  });
});
