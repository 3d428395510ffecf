import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseDaemonConfig } from "./schema.ts";
import type { DaemonConfigResult } from "./schema.ts";
import { checkRedisUrl } from "./schema-cluster.ts";

const BASE =
  "knock = CLIENT,PORT,CHECKSUM\nportspan = 1024-2047\nkey = s3cr3t\n";
const FIREWALL = "<firewall>\nprotect = tcp/22\n</firewall>\n";

function daemon(text: string): DaemonConfigResult {
  return parseDaemonConfig(BASE + text, { file: "knockdaemon.conf" });
}

/** The messages of the errors. */
function messages(r: DaemonConfigResult): string[] {
  return r.diagnostics
    .filter((d) => d.severity === "error")
    .map((d) => d.message);
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

/** A `<cluster>` block (line 4 of the file) with `lines` inside, from line 5. */
const CLUSTER = (...lines: string[]): string =>
  `<cluster>\n${lines.join("\n")}\n</cluster>\n`;

describe("<cluster> (#19)", () => {
  it("reads redis and name, with the defaults", () => {
    const r = daemon(CLUSTER("redis = redis://10.0.0.5", "name = gw1"));
    expect(found(r)).toEqual([]);
    expect(r.config?.cluster).toEqual({
      where: { kind: "config", file: "knockdaemon.conf", line: 4, column: 1 },
      url: "redis://10.0.0.5",
      name: "gw1",
      prefix: "portknock",
      budgetMs: 50,
    });
  });

  it("reads prefix and budget (ms, s, bare = ms)", () => {
    const c = (budget: string) =>
      daemon(
        CLUSTER(
          "redis = rediss://user@[::1]:6380/3",
          "name = gw-2.site_a",
          "prefix = pk:lab",
          `budget = ${budget}`,
        ),
      ).config?.cluster;
    expect(c("20ms")).toMatchObject({
      url: "rediss://user@[::1]:6380/3",
      name: "gw-2.site_a",
      prefix: "pk:lab",
      budgetMs: 20,
    });
    expect(c("1.5s")?.budgetMs).toBe(1500);
    expect(c("75")?.budgetMs).toBe(75);
    expect(c("5s")?.budgetMs).toBe(5000);
    expect(c("1ms")?.budgetMs).toBe(1);
  });

  it("no <cluster> block: no cluster", () => {
    const r = daemon("");
    expect(r.config).toBeDefined();
    expect(r.config?.cluster).toBeUndefined();
  });

  it.each([
    ["redis = http://h:6379", 5],
    ["redis = redis://:secret@h:6379", 5],
    ["redis = redis://user:secret@h", 5],
    ["redis = redis://h:6379/16", 5],
    ["redis = redis://h:6379/x", 5],
    ["redis = redis://h/0?tls=1", 5],
    ["redis = redis://h:0", 5],
    ["redis = redis:h", 5],
    ["redis = not a url", 5],
    ["redis = unix://h/redis.sock", 5],
    ["redis = unix:///", 5],
    ["redis = unix:///run/redis/", 5],
    ["redis = unix:///run/redis.sock?db=1", 5],
  ])("%s is CONFIG_CLUSTER_BAD_URL at its line", (line, at) => {
    const r = daemon(CLUSTER(line, "name = gw1"));
    expect(found(r)).toEqual([["CONFIG_CLUSTER_BAD_URL", at]]);
    expect(r.config).toBeUndefined();
  });

  it("a fragment is refused (in a config file, # starts a comment)", () => {
    expect(checkRedisUrl("redis://h/0#x")).toMatch(/fragment/);
  });

  it("a password in the URL is never repeated in the message", () => {
    for (const url of [
      "redis://u:hunter2@h:6379/0",
      "redis://:hunter2@h",
      "redis://u:hunter2@h:99999",
    ]) {
      const reason = checkRedisUrl(url);
      expect(reason).toBeDefined();
      expect(reason).not.toContain("hunter2");
    }
  });

  it("checkRedisUrl never throws, and never repeats a password given in the URL", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 100 }), (text) => {
        const reason = checkRedisUrl(text);
        expect(reason === undefined || typeof reason === "string").toBe(true);
      }),
    );
    const password = fc.stringMatching(/^[A-Za-z0-9/:@%]{8,20}$/);
    fc.assert(
      fc.property(
        fc.constantFrom("redis", "rediss", "http", "redis:", "redis:/"),
        fc.constantFrom("", "u"),
        password,
        fc.constantFrom("h", "", "[::1]", "h h"),
        fc.constantFrom("", ":6379", ":99999", ":x"),
        fc.constantFrom("", "/0", "/16", "/a b"),
        (scheme, user, pass, host, port, path) => {
          const url = `${scheme}://${user}:${pass}@${host}${port}${path}`;
          const reason = checkRedisUrl(url);
          expect(reason).toBeDefined();
          expect(reason).not.toContain(pass);
        },
      ),
    );
  });

  it.each([
    "redis://h",
    "redis://h:6379",
    "redis://h:6379/0",
    "redis://h:6379/15",
    "rediss://h.example:6380/1",
    "redis://[2001:db8::1]:6379",
    "redis://user@h",
    "unix:///run/redis/redis.sock",
  ])("%s is a good URL", (url) => {
    expect(checkRedisUrl(url)).toBeUndefined();
  });

  it("redis and name are required: CONFIG_MISSING_KEY at the block", () => {
    const r = daemon(CLUSTER("prefix = x"));
    expect(found(r)).toEqual([
      ["CONFIG_MISSING_KEY", 4],
      ["CONFIG_MISSING_KEY", 4],
    ]);
    expect(messages(r).join("\n")).toMatch(/redis =[\s\S]*name =/);
    expect(found(daemon(CLUSTER("redis =", "name = gw1")))).toEqual([
      ["CONFIG_EMPTY_VALUE", 5],
    ]);
  });

  it.each([
    ["name = gw 1", "CONFIG_CLUSTER_BAD_NAME"],
    ["name = gw/1", "CONFIG_CLUSTER_BAD_NAME"],
    [`name = ${"g".repeat(65)}`, "CONFIG_CLUSTER_BAD_NAME"],
    ["prefix = a b", "CONFIG_CLUSTER_BAD_PREFIX"],
    ["prefix = pk{1}", "CONFIG_CLUSTER_BAD_PREFIX"],
    [`prefix = ${"p".repeat(65)}`, "CONFIG_CLUSTER_BAD_PREFIX"],
    ["budget = 0", "CONFIG_BAD_DURATION"],
    ["budget = 0.4ms", "CONFIG_BAD_DURATION"],
    ["budget = 6s", "CONFIG_BAD_DURATION"],
    ["budget = soon", "CONFIG_BAD_DURATION"],
    ["budget = -5ms", "CONFIG_BAD_DURATION"],
    ["colour = blue", "CONFIG_UNKNOWN_KEY"],
  ])("%s is %s at its line", (line, code) => {
    const lines = ["redis = redis://h", "name = gw1", line];
    // A bad name replaces the good one (a repeated key would be another error).
    if (line.startsWith("name")) lines.splice(1, 1);
    const r = daemon(CLUSTER(...lines));
    expect(found(r)).toEqual([[code, line.startsWith("name") ? 6 : 7]]);
    expect(r.config).toBeUndefined();
  });

  it("a second <cluster> block is CONFIG_REPEATED_BLOCK at its line", () => {
    const block = CLUSTER("redis = redis://h", "name = gw1");
    const r = daemon(block + block);
    expect(found(r)).toEqual([["CONFIG_REPEATED_BLOCK", 8]]);
  });

  it("passwordfile and tlsca need file access: parseDaemonConfig without readFile refuses them", () => {
    const r = daemon(
      CLUSTER(
        "redis = rediss://h",
        "name = gw1",
        "passwordfile = /etc/portknock/redis.pass",
        "tlsca = /etc/portknock/ca.pem",
      ),
    );
    expect(found(r)).toEqual([
      ["CONFIG_CLUSTER_PASSWORD_UNREADABLE", 7],
      ["CONFIG_CLUSTER_BAD_TLSCA", 8],
    ]);
  });

  it("tlsca without rediss:// is CONFIG_CLUSTER_TLSCA_NO_TLS, before any file is read", () => {
    const r = daemon(
      CLUSTER("redis = redis://h", "name = gw1", "tlsca = /nonexistent/ca.pem"),
    );
    expect(found(r)).toEqual([["CONFIG_CLUSTER_TLSCA_NO_TLS", 7]]);
  });
});

/** `<actions>` with one action (delay `delay`) using template `t` with `lines`. */
const ACTIONS = (lines: string[], delay = ""): string =>
  `<actions>\n<action>\ntemplate = t\n${delay}\n</action>\n<template t>\n${lines.join("\n")}\n</template>\n</actions>\n`;
const WITH_CLUSTER =
  FIREWALL + CLUSTER("redis = redis://127.0.0.1", "name = gw1");

describe("scope = local | cluster (#19)", () => {
  it("defaults to local; cluster with a <cluster> block and a grant", () => {
    const local = daemon(FIREWALL + ACTIONS(["grant = tcp/22"]));
    expect(found(local)).toEqual([]);
    expect(local.config?.actions.templates.get("t")?.scope).toBe("local");
    const r = daemon(
      WITH_CLUSTER + ACTIONS(["grant = tcp/22", "scope = Cluster"]),
    );
    expect(found(r)).toEqual([]);
    const t = r.config?.actions.templates.get("t");
    expect(t?.scope).toBe("cluster");
    // Lines: 4–6 firewall, 7–10 cluster, 11 <actions>, 16 <template t>, 17 grant, 18 scope.
    expect(t?.scopeWhere).toMatchObject({ line: 18 });
    const explicit = daemon(
      FIREWALL + ACTIONS(["system = /bin/true", "scope = local"]),
    );
    expect(found(explicit)).toEqual([]);
  });

  it("a value other than local or cluster is CONFIG_BAD_SCOPE", () => {
    const r = daemon(WITH_CLUSTER + ACTIONS(["grant = tcp/22", "scope = all"]));
    expect(found(r)).toEqual([["CONFIG_BAD_SCOPE", 18]]);
  });

  it("scope = cluster without <cluster> is CONFIG_SCOPE_NO_CLUSTER at the scope line", () => {
    const r = daemon(FIREWALL + ACTIONS(["grant = tcp/22", "scope = cluster"]));
    expect(found(r)).toEqual([["CONFIG_SCOPE_NO_CLUSTER", 14]]);
    expect(messages(r)[0]).toContain("<cluster>");
  });

  it("scope = cluster in a template without grant is CONFIG_SCOPE_NO_GRANT: commands never travel", () => {
    const r = daemon(
      WITH_CLUSTER + ACTIONS(["system = /bin/true", "scope = cluster"]),
    );
    expect(found(r)).toEqual([["CONFIG_SCOPE_NO_GRANT", 18]]);
  });

  it("a delayed action using a scope = cluster template is CONFIG_SCOPE_DELAYED at its template line", () => {
    const r = daemon(
      WITH_CLUSTER +
        ACTIONS(["grant = tcp/22", "scope = cluster"], "delay = 5m"),
    );
    expect(found(r)).toEqual([["CONFIG_SCOPE_DELAYED", 13]]);
    expect(messages(r)[0]).toMatch(/line 18\b.*line 14\b/);
  });

  it("scope given twice is CONFIG_REPEATED_KEY", () => {
    const r = daemon(
      WITH_CLUSTER +
        ACTIONS(["grant = tcp/22", "scope = cluster", "scope = local"]),
    );
    expect(found(r)).toEqual([["CONFIG_REPEATED_KEY", 19]]);
  });
});
