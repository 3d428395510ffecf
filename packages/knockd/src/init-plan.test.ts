import { describe, expect, it } from "vitest";
import { parseDaemonArgs } from "./argv.ts";
import { planInit } from "./init-plan.ts";

/** The plan of `knockd -init` with these flags after the required ones. */
function plan(...flags: string[]): ReturnType<typeof planInit> {
  const parsed = parseDaemonArgs([
    "-init",
    "-remote",
    "gw.example.org",
    "-dir",
    "/tmp",
    "-interface",
    "eth0",
    ...flags,
  ]);
  if (!parsed.ok) throw new Error(parsed.diagnostic.message);
  return planInit(parsed.args);
}

describe("planInit (#17)", () => {
  it("has defaults for all but the required flags", () => {
    expect(plan("-protect", "tcp/22").plan).toEqual({
      protect: [{ protocol: "tcp", port: 22 }],
      interfaces: ["eth0"],
      remote: "gw.example.org",
      grant: "30s",
      grantMs: 30_000,
      runmode: "network",
      portspan: "1024-33791",
      statefile: "/var/lib/portknock/state.json",
      dir: "/tmp",
    });
  });

  it.each([
    [["-protect", "tcp/22"], "1024-33791"],
    [["-protect", "tcp/1024"], "1025-33792"],
    // No 32768 ports are free: the next size down.
    [["-protect", "tcp/20000", "-protect", "udp/50000"], "1024-17407"],
    [["-protect", "tcp/2000", "-protect", "tcp/40000"], "2001-34768"],
  ])("%j gives the span %s (no protected port in it)", (flags, span) => {
    expect(plan(...flags).plan?.portspan).toBe(span);
  });

  it("reads the grant in seconds by default and keeps other units", () => {
    expect(plan("-protect", "tcp/22", "-grant", "45").plan).toMatchObject({
      grant: "45s",
      grantMs: 45_000,
    });
    expect(plan("-protect", "tcp/22", "-grant", "5m").plan).toMatchObject({
      grant: "5m",
      grantMs: 300_000,
    });
  });

  it("accepts IP literals, several interfaces, --name=value; -remote once", () => {
    const planOf = (argv: string[]): ReturnType<typeof planInit> => {
      const parsed = parseDaemonArgs(argv);
      if (!parsed.ok) throw new Error(parsed.diagnostic.message);
      return planInit(parsed.args);
    };
    for (const remote of ["192.0.2.1", "2001:db8::1"]) {
      expect(
        planOf([
          "-init",
          "-protect=udp/53",
          `--remote=${remote}`,
          "-dir",
          "/tmp",
          "-interface",
          "eth0",
          "-interface",
          "wg0",
        ]).plan,
      ).toMatchObject({ remote, interfaces: ["eth0", "wg0"] });
    }
    expect(plan("-protect", "tcp/22", "-remote", "gw2").diagnostics).toEqual([
      expect.objectContaining({
        code: "INIT_FLAG_MISUSE",
        where: { kind: "argv", flag: "-remote" },
      }),
    ]);
  });
});
