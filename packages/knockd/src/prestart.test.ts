import { describe, expect, it } from "vitest";
import { parseDaemonArgs } from "./argv.ts";
import { replayFile } from "./prestart.ts";

describe("prestart reads -replay as main does (#14)", () => {
  it.each([
    [["-replay", "a.log"]],
    [["--replay", "a.log"]],
    [["--replay=a.log"]],
    [["-rep", "a.log"]],
    [["-REPLAY", "a.log"]],
    [["-conf", "k.conf", "-Re", "a.log", "-test"]],
    [["-test", "-check"]],
    [["-replay"]],
    [["-bogus", "-replay", "a.log"]],
    [["-conf", "-replay"]],
  ])("%j", (argv) => {
    const parsed = parseDaemonArgs(argv);
    expect(replayFile(argv)).toBe(parsed.ok ? parsed.args.replay : undefined);
  });
});
