/**
 * `createFirewall` without root: its checks (with the `none` backend, which runs nothing), and
 * the errors of real commands that cannot start or do not finish.
 */
import { describe, expect, it } from "vitest";
import type { Logger } from "@portknock/core";
import { FirewallError } from "./errors.ts";
import type { Firewall } from "./firewall.ts";
import { createFirewall } from "./firewall.ts";
import type { RunArgv } from "./run-argv.ts";
import { spawnArgv } from "./run-argv.ts";

const BASE = {
  protect: [{ protocol: "tcp", port: 22 }],
  defaultLifetimeMs: 30_000,
} as const;

function recorder(): Logger & {
  entries: Array<{ level: string; fields: Record<string, unknown> }>;
} {
  const entries: Array<{ level: string; fields: Record<string, unknown> }> = [];
  const at =
    (level: string) =>
    (fields: object): void => {
      entries.push({ level, fields: fields as Record<string, unknown> });
    };
  const logger = {
    entries,
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
    child: () => logger,
  };
  return logger;
}

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (error) {
    return error instanceof FirewallError ? error.code : String(error);
  }
}

describe("createFirewall: checks before any command", () => {
  it("refuses a grant before install, a grant for a port not protected, and bad grants; counts and logs them at warn, once a minute per code", async () => {
    const logger = recorder();
    let now = 1_000_000;
    const fw = createFirewall({
      backend: "none",
      logger,
      clock: { now: () => now },
    });
    const grant22 = {
      address: "192.0.2.7",
      protocol: "tcp",
      port: 22,
    } as const;
    expect(await codeOf(fw.grant(grant22))).toBe("FIREWALL_NOT_INSTALLED");
    await fw.install(BASE);
    expect(await fw.grant(grant22)).toEqual({
      ...grant22,
      family: 4,
      lifetimeMs: 30_000,
    });
    expect(await codeOf(fw.grant({ ...grant22, port: 23 }))).toBe(
      "FIREWALL_NOT_PROTECTED",
    );
    expect(await codeOf(fw.grant({ ...grant22, protocol: "udp" }))).toBe(
      "FIREWALL_NOT_PROTECTED",
    );
    expect(await codeOf(fw.grant({ ...grant22, address: "10.0.0.1\nx" }))).toBe(
      "FIREWALL_BAD_ADDRESS",
    );
    expect(await codeOf(fw.grant({ ...grant22, address: "10.0.0.2 " }))).toBe(
      "FIREWALL_BAD_ADDRESS",
    );
    now += 60_000;
    expect(await codeOf(fw.revoke({ ...grant22, address: "nope" }))).toBe(
      "FIREWALL_BAD_ADDRESS",
    );
    expect(fw.counters()).toMatchObject({
      installs: 1,
      grants: 1,
      rejections: { FIREWALL_NOT_PROTECTED: 2, FIREWALL_BAD_ADDRESS: 3 },
      failures: {},
    });
    const warned = logger.entries.filter((e) => e.level === "warn");
    expect(warned.map((e) => e.fields.code)).toEqual([
      "FIREWALL_NOT_PROTECTED",
      "FIREWALL_BAD_ADDRESS",
      "FIREWALL_BAD_ADDRESS",
    ]);
    // The untrusted address is escaped, and the held-back one is reported.
    expect(warned[1]!.fields).toMatchObject({
      event: "firewall.rejected",
      op: "grant",
      ip: "10.0.0.1\\nx",
    });
    expect(warned[2]!.fields).toMatchObject({ op: "revoke", suppressed: 1 });
    // A misuse is thrown, not counted as a rejection.
    expect(fw.counters().rejections).not.toHaveProperty(
      "FIREWALL_NOT_INSTALLED",
    );
  });

  it("refuses a bad base ruleset and keeps the installed one", async () => {
    const fw = createFirewall({ backend: "none" });
    await fw.install(BASE);
    expect(
      await codeOf(
        fw.install({
          ...BASE,
          protect: [...BASE.protect, { protocol: "tcp", port: 22 }],
        }),
      ),
    ).toBe("FIREWALL_BAD_RULESET");
    expect(
      (await fw.grant({ address: "::1", protocol: "tcp", port: 22 })).family,
    ).toBe(6);
    expect(fw.counters().rejections).toEqual({ FIREWALL_BAD_RULESET: 1 });
  });

  it("after close(), every call throws FIREWALL_CLOSED; close is idempotent", async () => {
    const fw: Firewall = createFirewall({ backend: "none" });
    await fw.close();
    await fw.close();
    expect(await codeOf(fw.install(BASE))).toBe("FIREWALL_CLOSED");
    expect(await codeOf(fw.list())).toBe("FIREWALL_CLOSED");
  });

  it("checks its options", () => {
    expect(() => createFirewall({ backend: "pf" as "none" })).toThrow(
      TypeError,
    );
    expect(() => createFirewall({ backend: "nftables", ipset: true })).toThrow(
      TypeError,
    );
    expect(() =>
      createFirewall({ backend: "nftables", commandTimeoutMs: 0 }),
    ).toThrow(RangeError);
  });

  it("render() shows what install() would load, after the same checks", () => {
    const nft = createFirewall({ backend: "nftables" });
    expect(nft.render(BASE)).toMatch(/^add table inet portknock$/m);
    const ipt = createFirewall({ backend: "iptables", ipset: true });
    expect(ipt.render(BASE)).toMatch(
      /^# ip6tables-restore --noflush\n\*filter\n/m,
    );
    expect(() => ipt.render({ ...BASE, defaultLifetimeMs: 0 })).toThrow(
      FirewallError,
    );
  });
});

describe("createFirewall: commands that fail", () => {
  const spawn = spawnArgv();
  /** Runs every tool from a directory where none exists. */
  const missing: RunArgv = (argv, options) =>
    spawn([`/nonexistent/${argv[0]}`, ...argv.slice(1)], options);

  it("a tool that is not installed: FIREWALL_COMMAND_SPAWN, counted and logged at error", async () => {
    const logger = recorder();
    const fw = createFirewall({ backend: "nftables", run: missing, logger });
    const error = await fw.install(BASE).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FirewallError);
    expect((error as FirewallError).code).toBe("FIREWALL_COMMAND_SPAWN");
    expect((error as FirewallError).message).toMatch(/ENOENT/);
    expect(fw.counters().failures).toEqual({ FIREWALL_COMMAND_SPAWN: 1 });
    expect(logger.entries.at(-1)).toMatchObject({
      level: "error",
      fields: {
        event: "firewall.failed",
        op: "install",
        code: "FIREWALL_COMMAND_SPAWN",
        argv: ["nft", "-f", "-"],
      },
    });
    // Nothing was installed: a grant is still refused.
    expect(
      await codeOf(fw.grant({ address: "::1", protocol: "tcp", port: 22 })),
    ).toBe("FIREWALL_NOT_INSTALLED");
  });

  it("a tool that exits non-zero: FIREWALL_COMMAND_FAILED with its stderr; one that hangs: FIREWALL_COMMAND_TIMEOUT", async () => {
    const failing: RunArgv = (_argv, options) =>
      spawn(
        [
          process.execPath,
          "-e",
          'process.stderr.write("Error: Could not process rule: Operation not permitted\\n"); process.exit(1)',
        ],
        options,
      );
    const fw = createFirewall({ backend: "iptables", run: failing });
    const error = (await fw.list().catch((e: unknown) => e)) as FirewallError;
    expect(error.code).toBe("FIREWALL_COMMAND_FAILED");
    expect(error.message).toMatch(
      /^iptables -w 5 -S failed \(exit 1\): Error: Could not process rule: Operation not permitted$/,
    );
    expect(error.command).toMatchObject({ exitCode: 1 });

    const hanging: RunArgv = (_argv, options) =>
      spawn([process.execPath, "-e", "setTimeout(() => {}, 60_000)"], options);
    const slow = createFirewall({
      backend: "nftables",
      run: hanging,
      commandTimeoutMs: 200,
    });
    expect(await codeOf(slow.remove())).toBe("FIREWALL_COMMAND_TIMEOUT");
    expect(slow.counters().failures).toEqual({ FIREWALL_COMMAND_TIMEOUT: 1 });
  });

  it("spawnArgv feeds stdin and never goes through a shell", async () => {
    const r = await spawn(
      [process.execPath, "-e", "process.stdin.pipe(process.stdout)", "$(id)"],
      { input: "add table inet portknock; $(reboot)\n", timeoutMs: 5_000 },
    );
    expect(r).toMatchObject({
      exitCode: 0,
      stdout: "add table inet portknock; $(reboot)\n",
      timedOut: false,
    });
  });
});
