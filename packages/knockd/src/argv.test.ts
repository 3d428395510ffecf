import { describe, expect, it } from "vitest";
import { parseDaemonArgs } from "./argv.ts";

describe("parseDaemonArgs: the prototype's abbreviations beside -init's flags", () => {
  it("keeps -d for -debug and -r for -replay", () => {
    const parsed = parseDaemonArgs([
      "-d",
      "-r",
      "knock.log",
      "-conf",
      "k.conf",
    ]);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.args.debug).toBe(true);
    expect(parsed.args.replay).toBe("knock.log");
    expect(parsed.args.conf).toBe("k.conf");
  });

  it("takes -init's flags spelled in full, every value of a repeated one", () => {
    const parsed = parseDaemonArgs([
      "-init",
      "-protect",
      "tcp/22",
      "--protect=udp/53",
      "-dir",
      "/etc/portknock",
    ]);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.args.init).toBe(true);
    expect(parsed.args.initFlags.get("protect")).toEqual(["tcp/22", "udp/53"]);
    expect(parsed.args.initFlags.get("dir")).toEqual(["/etc/portknock"]);
  });

  it("never abbreviates -init's flags: -prot and -di are unknown options", () => {
    for (const flag of ["-prot", "-di", "-remo", "-interf"]) {
      const parsed = parseDaemonArgs(["-init", flag, "x"]);
      expect(parsed.ok).toBe(false);
      if (parsed.ok) continue;
      expect(parsed.diagnostic.code).toBe("ARGV_UNKNOWN");
      expect(parsed.diagnostic.message).toContain(flag);
    }
  });
});
