import { describe, expect, it } from "vitest";
import { parseDaemonConfig } from "./schema.ts";
import type { DaemonConfigResult } from "./schema.ts";
import { MAX_GRANT_LIFETIME_MS } from "./schema-firewall.ts";

const BASE =
  "knock = CLIENT,PORT,CHECKSUM\nportspan = 1024-2047\nkey = s3cr3t\n";

function daemon(text: string): DaemonConfigResult {
  return parseDaemonConfig(BASE + text, { file: "knockdaemon.conf" });
}

/** `[code, line]` of every diagnostic of `severity`. */
function found(
  r: DaemonConfigResult,
  severity: "error" | "warning" = "error",
): [string, number | string][] {
  return r.diagnostics
    .filter((d) => d.severity === severity)
    .map((d) => [
      d.code,
      d.where.kind === "config" ? d.where.line : d.where.kind,
    ]);
}

const ACTIONS = (grant: string): string =>
  `<actions>\n<action>\ntemplate = t\n</action>\n<template t>\n${grant}\n</template>\n</actions>\n`;

describe("<firewall> (#17)", () => {
  it("reads every key, with the defaults", () => {
    const r = daemon("<firewall>\nprotect = tcp/22\n</firewall>\n");
    expect(found(r)).toEqual([]);
    expect(r.config?.firewall).toEqual({
      where: { kind: "config", file: "knockdaemon.conf", line: 4, column: 1 },
      backend: "auto",
      protect: [
        {
          protocol: "tcp",
          port: 22,
          where: {
            kind: "config",
            file: "knockdaemon.conf",
            line: 5,
            column: 11,
          },
        },
      ],
      grantMs: 30_000,
      reconcileMs: 60_000,
    });
    const c = daemon(
      "<firewall>\nbackend = NFTables\nprotect = tcp/22 udp/53\nprotect = UDP/5353\ngrant = 2m\nnflog = 5\nreconcile = 10\n</firewall>\n",
    ).config?.firewall;
    expect(c).toMatchObject({
      backend: "nftables",
      protect: [
        { protocol: "tcp", port: 22 },
        { protocol: "udp", port: 53 },
        { protocol: "udp", port: 5353 },
      ],
      grantMs: 120_000,
      nflog: 5,
      reconcileMs: 10_000,
    });
    expect(c?.ipset).toBeUndefined();
    expect(
      daemon(
        "<firewall>\nbackend=iptables\nprotect = tcp/22\nipset = no\n</firewall>\n",
      ).config?.firewall?.ipset,
    ).toBe(false);
  });

  it("is absent without the block; backend none needs no protect", () => {
    expect(daemon("").config?.firewall).toBeUndefined();
    expect(
      daemon("<firewall>\nbackend = none\n</firewall>\n").config?.firewall,
    ).toMatchObject({ backend: "none", protect: [] });
  });

  it.each([
    ["backend = ufw", "CONFIG_BAD_ENUM"],
    ["protect = 22", "CONFIG_BAD_PROTECT"],
    ["protect = sctp/22", "CONFIG_BAD_PROTECT"],
    ["protect = tcp/0", "CONFIG_BAD_PROTECT"],
    ["protect = tcp/65536", "CONFIG_BAD_PROTECT"],
    ["protect = tcp/022", "CONFIG_BAD_PROTECT"],
    ["protect = tcp/PORT", "CONFIG_BAD_PROTECT"],
    ["protect = tcp/22 tcp/22", "CONFIG_BAD_PROTECT"],
    ["grant = soon", "CONFIG_BAD_DURATION"],
    ["grant = 0", "CONFIG_BAD_DURATION"],
    [`grant = ${MAX_GRANT_LIFETIME_MS / 1000 + 1}`, "CONFIG_BAD_DURATION"],
    ["nflog = 65536", "CONFIG_BAD_INTEGER"],
    ["nflog = -1", "CONFIG_BAD_INTEGER"],
    ["ipset = maybe", "CONFIG_BAD_BOOLEAN"],
    ["reconcile = 0.5s", "CONFIG_BAD_DURATION"],
    ["reconcile = 2d", "CONFIG_BAD_DURATION"],
    ["chain = INPUT", "CONFIG_UNKNOWN_KEY"],
  ])("%s is %s at its line", (line, code) => {
    const r = daemon(`<firewall>\nprotect = tcp/2222\n${line}\n</firewall>\n`);
    expect(found(r)).toEqual([[code, 6]]);
    expect(r.config).toBeUndefined();
  });

  it("needs a protected port unless backend = none; only one block", () => {
    expect(found(daemon("<firewall>\ngrant = 10s\n</firewall>\n"))).toEqual([
      ["CONFIG_MISSING_KEY", 4],
    ]);
    expect(
      found(
        daemon(
          "<firewall>\nprotect=tcp/22\n</firewall>\n<firewall>\nprotect=tcp/23\n</firewall>\n",
        ),
      ),
    ).toEqual([["CONFIG_REPEATED_BLOCK", 7]]);
  });

  it("warns about settings the backend or run mode ignores", () => {
    const r = daemon(
      "runmode = network\n<firewall>\nbackend = nftables\nprotect = tcp/22\nipset = yes\nnflog = 3\n</firewall>\n",
    );
    expect(found(r)).toEqual([]);
    expect(found(r, "warning")).toEqual([
      ["CONFIG_NO_ACTIONS", 0],
      ["CONFIG_FIREWALL_IGNORED", 5],
      ["CONFIG_FIREWALL_IGNORED", 8],
    ]);
  });
});

describe("file mode behind the managed firewall (#17)", () => {
  it("warns when the span is dropped with no nflog to log it, not when nflog or none is set", () => {
    const hidden = daemon(
      "runmode = file\n<firewall>\nprotect = tcp/22\n</firewall>\n",
    );
    expect(found(hidden)).toEqual([]);
    expect(found(hidden, "warning")).toContainEqual([
      "CONFIG_FIREWALL_HIDES_KNOCKS",
      5,
    ]);
    for (const text of [
      "runmode = file\n<firewall>\nprotect = tcp/22\nnflog = 5\n</firewall>\n",
      "runmode = file\n<firewall>\nbackend = none\n</firewall>\n",
      "runmode = network\n<firewall>\nprotect = tcp/22\n</firewall>\n",
    ]) {
      expect(
        found(daemon(text), "warning").map(([code]) => code),
      ).not.toContain("CONFIG_FIREWALL_HIDES_KNOCKS");
    }
  });
});

describe("grant = PROTO/PORT [LIFETIME] [to CLIENT|SOURCE] (#17)", () => {
  const FW =
    "<firewall>\nprotect = tcp/22\nprotect = udp/53\ngrant = 45s\n</firewall>\n";

  it.each([
    ["tcp/22", { protocol: "tcp", port: 22, lifetimeMs: 45_000, to: "CLIENT" }],
    [
      "udp/53 2m",
      { protocol: "udp", port: 53, lifetimeMs: 120_000, to: "CLIENT" },
    ],
    [
      "TCP/PORT to SOURCE",
      { protocol: "tcp", port: "PORT", lifetimeMs: 45_000, to: "SOURCE" },
    ],
    [
      "tcp/PORT 10 to CLIENT",
      { protocol: "tcp", port: "PORT", lifetimeMs: 10_000, to: "CLIENT" },
    ],
  ])("grant = %s", (value, expected) => {
    const r = daemon(FW + ACTIONS(`grant = ${value}`));
    expect(found(r)).toEqual([]);
    const t = r.config?.actions.templates.get("t");
    expect(t?.grant).toMatchObject([{ ...expected, text: value }]);
    expect(t?.grant[0]?.where.line).toBe(14);
    expect(t?.system).toEqual([]);
  });

  it("repeats, next to system and state", () => {
    const r = daemon(
      FW +
        ACTIONS(
          "grant = tcp/22\ngrant = udp/53 5s\nsystem = /bin/true\nstate = state(CLIENT)++",
        ),
    );
    expect(found(r)).toEqual([]);
    const t = r.config?.actions.templates.get("t");
    expect(t?.grant.map((g) => g.port)).toEqual([22, 53]);
    expect(t?.system).toHaveLength(1);
    expect(t?.state).toHaveLength(1);
  });

  it.each([
    "",
    "22",
    "tcp/0",
    "tcp/70000",
    "tcp/port",
    "icmp/22",
    "tcp/22 soon",
    "tcp/22 0s",
    "tcp/22 30s to",
    "tcp/22 30s to 192.0.2.1",
    "tcp/22 to client",
    "tcp/22 30s to CLIENT now",
    "tcp/22 30s 40s",
  ])("grant = %j is CONFIG_BAD_GRANT at its line", (value) => {
    const r = daemon(FW + ACTIONS(`grant = ${value}`));
    expect(found(r)).toEqual([["CONFIG_BAD_GRANT", 14]]);
    expect(r.config).toBeUndefined();
  });

  it("needs a <firewall> whose backend is not none", () => {
    expect(found(daemon(ACTIONS("grant = tcp/22")))).toEqual([
      ["CONFIG_GRANT_NO_FIREWALL", 9],
    ]);
    expect(
      found(
        daemon(
          "<firewall>\nbackend = none\n</firewall>\n" +
            ACTIONS("grant = tcp/PORT"),
        ),
      ),
    ).toEqual([["CONFIG_GRANT_NO_FIREWALL", 12]]);
  });

  it("a numeric port must be protected", () => {
    expect(found(daemon(FW + ACTIONS("grant = tcp/53")))).toEqual([
      ["CONFIG_GRANT_NOT_PROTECTED", 14],
    ]);
  });
});
