import { describe, expect, it } from "vitest";
import { parseDaemonConfig, parseDaemonConfigOrThrow } from "./schema.ts";
import type { DaemonConfigResult } from "./schema.ts";
import { ConfigError } from "./errors.ts";

const BASE = "knock = IP,PORT,CHECKSUM\nportspan = 1024-2047\nkey = s3cr3t\n";
const ACTIONS =
  "<actions>\n<action>\ntemplate = t\n</action>\n<template t>\nsystem = /bin/true\n</template>\n</actions>\n";

function daemon(
  text: string,
  overrides?: Record<string, string>,
): DaemonConfigResult {
  return parseDaemonConfig(text, {
    file: "knockdaemon.conf",
    ...(overrides ? { overrides } : {}),
  });
}

/** `[code, line]` of every error (warnings left out). */
function errors(r: DaemonConfigResult): [string, number | string][] {
  return r.diagnostics
    .filter((d) => d.severity === "error")
    .map((d) => [
      d.code,
      d.where.kind === "config" ? d.where.line : d.where.kind,
    ]);
}

function ok(text: string): NonNullable<DaemonConfigResult["config"]> {
  const r = daemon(text);
  expect(errors(r)).toEqual([]);
  if (!r.config) throw new Error("no config");
  return r.config;
}

describe("parseDaemonConfig: defaults (config.md)", () => {
  it("applies every default of the table", () => {
    const c = ok(BASE + ACTIONS);
    expect(c).toMatchObject({
      runmode: "file",
      logfile: "/var/log/firewall",
      fileIntervalMs: 500,
      uselogformat: "iptables",
      interfaces: ["lo"],
      snapshotSize: 1500,
      encrypt: true,
      cipher: "Blowfish",
      iv: false,
      padding: "right",
      format: "compat",
      knockTimeoutMs: 30_000,
      maxSources: 65_536,
      windowMs: 60_000,
      requireSource: true,
    });
    expect(c.statefile).toBeUndefined();
    expect(c.useethfilter).toBeUndefined();
    expect(c.logcommand).toBeUndefined();
  });

  it("warns when there is no <actions> block", () => {
    const r = daemon(BASE);
    expect(r.config).toBeDefined();
    expect(r.diagnostics.map((d) => [d.code, d.severity])).toEqual([
      ["CONFIG_NO_ACTIONS", "warning"],
    ]);
  });
});

describe("parseDaemonConfig: values", () => {
  it("converts only schema booleans", () => {
    const c = ok(BASE + ACTIONS + "encrypt = On\niv = TRUE\nlogfile = on\n");
    expect(c.encrypt).toBe(true);
    expect(c.iv).toBe(true);
    expect(c.logfile).toBe("on");
  });

  it("reports a bad boolean", () => {
    expect(errors(daemon(BASE + "iv = maybe\n"))).toEqual([
      ["CONFIG_BAD_BOOLEAN", 4],
    ]);
  });

  it("reads integers and reports bad or out-of-range ones", () => {
    expect(ok(BASE + "snapshotsize = 9000\n").snapshotSize).toBe(9000);
    expect(ok(BASE + "snapshotsize = 128\n").snapshotSize).toBe(128);
    // Too small for an IPv6 SYN's headers: refused rather than losing knocks silently.
    expect(errors(daemon(BASE + "snapshotsize = 96\n"))).toEqual([
      ["CONFIG_BAD_INTEGER", 4],
    ]);
    expect(
      errors(daemon(BASE + "snapshotsize = big\nmaxsources = 0\n")),
    ).toEqual([
      ["CONFIG_BAD_INTEGER", 4],
      ["CONFIG_BAD_INTEGER", 5],
    ]);
  });

  it("reads seconds as durations", () => {
    const c = ok(
      BASE + "fileinterval = 0.25\nknocktimeout = 2m\nwindow = 90\n",
    );
    expect(c.fileIntervalMs).toBe(250);
    expect(c.knockTimeoutMs).toBe(120_000);
    expect(c.windowMs).toBe(90_000);
    expect(errors(daemon(BASE + "knocktimeout = 0\n"))).toEqual([
      ["CONFIG_BAD_DURATION", 4],
    ]);
  });

  it("accepts cipher names in any case and stores the canonical one", () => {
    expect(ok(BASE + "cipher = idea\n").cipher).toBe("IDEA");
    expect(ok(BASE + "cipher = des\n").cipher).toBe("DES");
  });

  it("reports a value outside a fixed set", () => {
    expect(
      errors(daemon(BASE + "cipher = AES\npadding = middle\nrunmode = x\n")),
    ).toEqual([
      ["CONFIG_BAD_ENUM", 4],
      ["CONFIG_BAD_ENUM", 5],
      ["CONFIG_BAD_ENUM", 6],
    ]);
  });

  it("metrics: off by default; a bare port listens on loopback; IPv6 in brackets (#15)", () => {
    expect(ok(BASE).metrics).toBeUndefined();
    expect(ok(BASE + "metrics = 9464\n").metrics).toEqual({
      host: "127.0.0.1",
      port: 9464,
      text: "127.0.0.1:9464",
    });
    expect(ok(BASE + "metrics = 0.0.0.0:9100\n").metrics).toMatchObject({
      host: "0.0.0.0",
      port: 9100,
    });
    expect(ok(BASE + "metrics = [::1]:9464\n").metrics).toMatchObject({
      host: "::1",
      text: "[::1]:9464",
    });
    expect(ok(BASE + "metrics = localhost:9464\n").metrics?.host).toBe(
      "127.0.0.1",
    );
  });

  it("metrics: a bad address or port is CONFIG_BAD_ADDRESS on its line", () => {
    for (const bad of [
      "0",
      "70000",
      "127.0.0.1:0",
      "example.org:9464",
      "::1:9464",
      "[::1]",
      "1.2.3:9464",
    ]) {
      const r = daemon(BASE + `maxsources = 10\nmetrics = ${bad}\n`);
      expect(errors(r), bad).toEqual([["CONFIG_BAD_ADDRESS", 5]]);
      expect(
        r.diagnostics.find((d) => d.code === "CONFIG_BAD_ADDRESS")?.message,
      ).toContain(JSON.stringify(bad));
    }
    expect(errors(daemon(BASE + "metrics =\n"))).toEqual([
      ["CONFIG_EMPTY_VALUE", 4],
    ]);
    expect(errors(daemon(BASE + "metrics = 9464\nmetrics = 9465\n"))).toEqual([
      ["CONFIG_REPEATED_KEY", 5],
    ]);
  });

  it("splits interface on whitespace", () => {
    expect(ok(BASE + "interface = eth0  wg0\n").interfaces).toEqual([
      "eth0",
      "wg0",
    ]);
  });

  it("keeps where for every top-level key", () => {
    const c = ok(BASE + ACTIONS);
    expect(c.where.get("portspan")).toEqual({
      kind: "config",
      file: "knockdaemon.conf",
      line: 2,
      column: 12,
    });
    expect([...c.where.keys()]).toEqual(["knock", "portspan", "key"]);
  });
});

describe("parseDaemonConfig: required and compat keys", () => {
  it("requires knock and portspan, at line 0 (the file)", () => {
    expect(errors(daemon("key = k\n"))).toEqual([
      ["CONFIG_MISSING_KEY", 0],
      ["CONFIG_MISSING_KEY", 0],
    ]);
  });

  it("requires key when encrypt is on, and not when it is off", () => {
    const noKey = "knock = IP,PORT\nportspan = 1-256\n";
    expect(errors(daemon(noKey))).toEqual([["CONFIG_MISSING_KEY", 0]]);
    expect(errors(daemon(noKey + "encrypt = yes\n"))).toEqual([
      ["CONFIG_MISSING_KEY", 3],
    ]);
    expect(errors(daemon(noKey + "encrypt = no\n"))).toEqual([]);
  });

  it("sealed needs a key or <user> blocks", () => {
    const sealed = "knock = IP,PORT\nportspan = 1-256\nformat = sealed\n";
    expect(errors(daemon(sealed))).toEqual([["CONFIG_MISSING_KEY", 0]]);
    const c = ok(sealed + "<user alice>\nkey = base64:xyz\n</user>\n");
    expect(c.users.get("alice")?.key.text).toBe("base64:xyz");
    expect(errors(daemon(sealed + "<user bob>\n</user>\n"))).toEqual([
      ["CONFIG_MISSING_KEY", 4],
    ]);
  });

  it("compat: turns key = on into 1 with a warning, and keeps other keys", () => {
    const text = "knock = IP\nportspan = 1-2\nkey = On\n";
    const r = daemon(text);
    expect(r.config?.key).toBe("1");
    expect(r.diagnostics.map((d) => d.code)).toContain("CONFIG_KEY_AUTOTRUE");
    expect(r.diagnostics.map((d) => d.message).join()).not.toContain("On");
    expect(daemon(text + "format = sealed\n").config?.key).toBe("On");
  });

  it("leaves the ivvalue-with-iv warning to the codec (no duplicate)", () => {
    const r = daemon(BASE + ACTIONS + "iv = yes\nivvalue = 12345678\n");
    expect(r.diagnostics).toEqual([]);
    expect(r.config?.ivvalue).toBe("12345678");
    expect(r.config?.where.get("ivvalue")).toEqual({
      kind: "config",
      file: "knockdaemon.conf",
      line: 13,
      column: 11,
    });
  });
});

describe("parseDaemonConfig: keys and blocks", () => {
  it("reports unknown keys and blocks by name", () => {
    const r = daemon(BASE + "portspam = 1-2\n<actoins>\n</actoins>\n");
    expect(errors(r)).toEqual([
      ["CONFIG_UNKNOWN_KEY", 4],
      ["CONFIG_UNKNOWN_BLOCK", 5],
    ]);
    const unknown = r.diagnostics.find((d) => d.code === "CONFIG_UNKNOWN_KEY");
    expect(unknown?.message).toContain('"portspam"');
  });

  it("reports a repeated scalar key naming both lines", () => {
    const r = daemon(BASE + ACTIONS + "knock = IP\n");
    expect(errors(r)).toEqual([["CONFIG_REPEATED_KEY", 12]]);
    expect(r.diagnostics[0]?.message).toContain("knockdaemon.conf:1");
  });

  it("reports blocks and values in each other's place", () => {
    expect(
      errors(
        daemon(
          BASE +
            "actions = x\n<statefile>\n</statefile>\n<logformat>\n</logformat>\n",
        ),
      ),
    ).toEqual([
      ["CONFIG_EXPECTED_BLOCK", 4],
      ["CONFIG_EXPECTED_VALUE", 5],
      ["CONFIG_BLOCK_NAME", 7],
    ]);
  });

  it("checks uselogformat and useethfilter names", () => {
    expect(ok(BASE + "uselogformat = iptables\n").uselogformat).toBe(
      "iptables",
    );
    expect(
      errors(daemon(BASE + "uselogformat = mine\nuseethfilter = tcplo\n")),
    ).toEqual([
      ["CONFIG_UNKNOWN_LOGFORMAT", 4],
      ["CONFIG_UNKNOWN_ETHFILTER", 5],
    ]);
  });

  it("requires ipclient and port in a <logformat>", () => {
    expect(
      errors(
        daemon(BASE + "<logformat x>\nrequired = y\nbogus = 1\n</logformat>\n"),
      ),
    ).toEqual([
      ["CONFIG_MISSING_KEY", 4],
      ["CONFIG_MISSING_KEY", 4],
      ["CONFIG_UNKNOWN_KEY", 6],
    ]);
  });

  it("reads srcport in a <logformat> (issue #16)", () => {
    const c = ok(
      BASE +
        "uselogformat = x\n<logformat x>\nipclient = SRC=(\\S+)\nport = DPT=(\\d+)\nsrcport = SPT=(\\d+)\n</logformat>\n",
    );
    expect(c.logformats.get("x")?.srcport).toMatchObject({
      text: "SPT=(\\d+)",
      where: { line: 8 },
    });
  });

  it("keeps <ethfilter> properties with lower-cased names", () => {
    const c = ok(
      BASE +
        "useethfilter = f\n<ethfilter f>\nDest_IP = 127.0.0.1\nflags = SYN\n</ethfilter>\n",
    );
    const f = c.ethfilters.get("f");
    expect([...(f?.properties.keys() ?? [])]).toEqual(["dest_ip", "flags"]);
    expect(f?.properties.get("dest_ip")).toMatchObject({
      text: "127.0.0.1",
      where: { line: 6, column: 11 },
    });
  });

  it("reads debug, quiet and test as booleans", () => {
    const c = ok(BASE + "debug = yes\nquiet = off\n");
    expect([c.debug, c.quiet, c.test]).toEqual([true, false, undefined]);
  });
});

describe("parseDaemonConfig: overrides and OrThrow", () => {
  it("validates command-line overrides and points at the flag", () => {
    const r = daemon(BASE, { iv: "perhaps", Portspan: "1-4", nope: "1" });
    expect(errors(r)).toEqual([
      ["CONFIG_BAD_BOOLEAN", "argv"],
      ["CONFIG_UNKNOWN_KEY", "argv"],
    ]);
    const bad = r.diagnostics.find((d) => d.code === "CONFIG_BAD_BOOLEAN");
    expect(bad?.where).toEqual({ kind: "argv", flag: "-iv" });
    const c = ok(BASE);
    expect(c.where.has("portspan")).toBe(true);
    const o = daemon(BASE, { portspan: "1-4" }).config;
    expect(o?.portspan).toBe("1-4");
    expect(o?.where.has("portspan")).toBe(false);
  });

  it("throws a ConfigError carrying the diagnostics", () => {
    expect(() =>
      parseDaemonConfigOrThrow("iv = x\n", { file: "k.conf" }),
    ).toThrow(ConfigError);
    try {
      parseDaemonConfigOrThrow("iv = x\n", { file: "k.conf" });
    } catch (e) {
      expect((e as ConfigError).code).toBe("CONFIG_INVALID");
      // bad iv, missing knock, portspan and key, and the no-actions warning.
      expect((e as ConfigError).diagnostics.length).toBe(5);
    }
  });
});
