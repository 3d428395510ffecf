/**
 * Template grants (issue #17): substituted and validated like `system` words, applied through the
 * injected `grant` function before the action's commands, counted and logged like commands; a
 * bad value refuses the whole action.
 */
import { describe, expect, it } from "vitest";
import { systemClock } from "@portknock/core";
import { parseDaemonConfig } from "@portknock/config";
import { compileActions } from "../src/compile.ts";
import { createEngine } from "../src/engine.ts";
import type { GrantFn, GrantRequest, GrantResult } from "../src/grant.ts";
import { createMemoryStore } from "../src/state-store.ts";
import { spawnRunner } from "../src/runner.ts";
import { FIELDS, MINUTE, setup } from "./engine-harness.ts";
import { actionsConfig, tempDir, writeRecorder } from "./helpers.ts";

/** A granter that records each request and answers `answer`. */
function recordingGranter(
  answer: (r: GrantRequest) => Promise<GrantResult> = () =>
    Promise.resolve({ ok: true }),
): GrantFn & { calls: GrantRequest[] } {
  const calls: GrantRequest[] = [];
  const fn = (r: GrantRequest): Promise<GrantResult> => {
    calls.push(r);
    return answer(r);
  };
  return Object.assign(fn, { calls });
}

const SSH = {
  text: "tcp/22",
  protocol: "tcp" as const,
  port: 22,
  lifetimeMs: 30_000,
  to: "CLIENT" as const,
};
const TO_PORT = {
  text: "udp/PORT 5s to SOURCE",
  protocol: "udp" as const,
  port: "PORT" as const,
  lifetimeMs: 5000,
  to: "SOURCE" as const,
};

describe("grant templates (#17)", () => {
  it("grants CLIENT and SOURCE, then runs the commands; counted and logged", async () => {
    const dir = tempDir();
    const rec = writeRecorder(dir, "after");
    const grant = recordingGranter();
    const { engine, logger } = setup(
      [{ templates: ["open"] }],
      {
        open: { grant: [SSH, TO_PORT], system: [`${rec.path} CLIENT`] },
      },
      { grant },
    );
    const result = await engine.accept({
      CLIENT: "10.9.8.7",
      PORT: 5353,
      FLAG0: 0,
      FLAG1: 0,
      SOURCE: "2001:DB8:0::7",
    });
    expect(result.actions[0]?.status).toBe("ran");
    expect(grant.calls).toEqual([
      {
        address: "10.9.8.7",
        family: 4,
        protocol: "tcp",
        port: 22,
        lifetimeMs: 30_000,
        scope: "local",
      },
      {
        address: "2001:db8::7",
        family: 6,
        protocol: "udp",
        port: 5353,
        lifetimeMs: 5000,
        scope: "local",
      },
    ]);
    expect(result.actions[0]?.grants.map((g) => g.ok)).toEqual([true, true]);
    expect(rec.calls()).toEqual([["10.9.8.7"]]);
    expect(engine.counters).toMatchObject({
      grantsRun: 2,
      grantsFailed: 0,
      actionsRun: 1,
      commandsRun: 1,
    });
    const granted = logger.entries.filter(
      (e) => e.fields.event === "action.granted",
    );
    expect(granted.map((e) => [e.level, e.fields.ip, e.fields.port])).toEqual([
      ["info", "10.9.8.7", 22],
      ["info", "2001:db8::7", 5353],
    ]);
    await engine.close();
  });

  it("an IPv4-mapped IPv6 source is granted as IPv4", async () => {
    const grant = recordingGranter();
    const { engine } = setup(
      [{ templates: ["open"] }],
      { open: { grant: [{ ...SSH, to: "SOURCE" }] } },
      { grant },
    );
    await engine.accept({
      CLIENT: "10.9.8.7",
      PORT: 1,
      SOURCE: "::ffff:192.0.2.9",
    });
    expect(grant.calls.map((c) => [c.address, c.family])).toEqual([
      ["192.0.2.9", 4],
    ]);
    await engine.close();
  });

  it.each([
    [{ CLIENT: "10.9.8.7\n" }, "ENGINE_VALUE_INVALID"],
    [{ CLIENT: "10.9.8.7/32" }, "ENGINE_VALUE_INVALID"],
    [{ CLIENT: "0.0.0.0" }, "ENGINE_GRANT_BAD_ADDRESS"],
    [{ CLIENT: "224.0.0.1" }, "ENGINE_GRANT_BAD_ADDRESS"],
    [{ CLIENT: "255.255.255.255" }, "ENGINE_GRANT_BAD_ADDRESS"],
    [{ SOURCE: "ff02::1" }, "ENGINE_GRANT_BAD_ADDRESS"],
    [{ SOURCE: "::" }, "ENGINE_GRANT_BAD_ADDRESS"],
    [{ PORT: 70_000 }, "ENGINE_VALUE_INVALID"],
    [{ PORT: "22 " }, "ENGINE_VALUE_INVALID"],
  ])(
    "%j refuses the whole action with %s: no grant, no command, no state",
    async (bad, code) => {
      const dir = tempDir();
      const rec = writeRecorder(dir, "after");
      const grant = recordingGranter();
      const { engine, store, logger } = setup(
        [{ templates: ["open"] }],
        {
          open: {
            grant: [SSH, TO_PORT],
            system: [`${rec.path} CLIENT`],
            state: ["state(opens)++"],
          },
        },
        { grant },
      );
      const result = await engine.accept({
        CLIENT: "10.9.8.7",
        PORT: 53,
        FLAG0: 0,
        SOURCE: "2001:db8::7",
        ...bad,
      });
      expect(result.actions[0]?.status).toBe("refused");
      expect(result.actions[0]?.refusal?.code).toBe(code);
      expect(grant.calls).toEqual([]);
      expect(rec.calls()).toEqual([]);
      expect(store.get(["opens"])).toBeUndefined();
      expect(engine.counters.refused[code as "ENGINE_VALUE_INVALID"]).toBe(1);
      const warn = logger.entries.find(
        (e) => e.fields.event === "action.refused",
      );
      expect(warn?.fields.code).toBe(code);
      await engine.close();
    },
  );

  it("a failed grant fails the action with the granter's code; the commands still run", async () => {
    const dir = tempDir();
    const rec = writeRecorder(dir, "after");
    const grant = recordingGranter((r) =>
      r.port === 22
        ? Promise.resolve({
            ok: false,
            code: "FIREWALL_COMMAND_FAILED",
            message: "nft -f - failed (exit 1): Error: No such file",
          })
        : Promise.reject(new Error("granter bug")),
    );
    const { engine, logger } = setup(
      [{ templates: ["open"] }],
      { open: { grant: [SSH, TO_PORT], system: [`${rec.path} CLIENT`] } },
      { grant },
    );
    const result = await engine.accept({
      CLIENT: "10.9.8.7",
      PORT: 53,
      SOURCE: "10.9.8.7",
    });
    expect(result.actions[0]?.status).toBe("failed");
    expect(result.actions[0]?.grants.map((g) => g.code)).toEqual([
      "FIREWALL_COMMAND_FAILED",
      "ENGINE_GRANT_FAILED",
    ]);
    expect(rec.calls()).toEqual([["10.9.8.7"]]);
    expect(engine.counters).toMatchObject({
      grantsRun: 2,
      grantsFailed: 2,
      actionsFailed: 1,
      failed: { ENGINE_GRANT_FAILED: 2 },
    });
    const errors = logger.entries.filter(
      (e) => e.fields.event === "action.failed",
    );
    expect(
      errors.map((e) => [e.level, e.fields.code, e.fields.reason]),
    ).toEqual([
      ["error", "ENGINE_GRANT_FAILED", "FIREWALL_COMMAND_FAILED"],
      ["error", "ENGINE_GRANT_FAILED", "ENGINE_GRANT_FAILED"],
    ]);
    expect(String(errors[0]?.fields.error)).toContain("No such file");
    await engine.close();
  });

  it("test mode logs the grant and applies nothing", async () => {
    const grant = recordingGranter();
    const { engine, logger } = setup(
      [{ templates: ["open"] }],
      { open: { grant: [SSH] } },
      { grant, test: true },
    );
    const result = await engine.accept({ CLIENT: "10.9.8.7", PORT: 1 });
    expect(result.actions[0]?.status).toBe("tested");
    expect(grant.calls).toEqual([]);
    const line = logger.entries.find((e) => e.fields.event === "action.test");
    expect(line?.fields.grants).toEqual([
      expect.objectContaining({ address: "10.9.8.7", port: 22 }),
    ]);
    await engine.close();
  });

  it("knocks carrying the same grant twice call the granter twice (it resets the lifetime)", async () => {
    const grant = recordingGranter();
    const { engine } = setup(
      [{ templates: ["open"] }],
      { open: { grant: [SSH] } },
      { grant },
    );
    await engine.accept({ CLIENT: "10.9.8.7", PORT: 1 });
    await engine.accept({ CLIENT: "10.9.8.7", PORT: 1 });
    expect(grant.calls).toHaveLength(2);
    await engine.close();
  });
});

describe("scope = cluster grants (#19)", () => {
  it("a scope = cluster template's grants reach deps.grant with scope cluster, the others with local; logged", async () => {
    const grant = recordingGranter();
    const { engine, logger } = setup(
      [{ templates: ["everywhere", "here"] }],
      {
        everywhere: { grant: [SSH], scope: "cluster" },
        here: { grant: [TO_PORT] },
      },
      { grant },
    );
    await engine.accept({ CLIENT: "10.9.8.7", PORT: 5353, SOURCE: "10.1.1.1" });
    expect(grant.calls.map((c) => [c.port, c.scope])).toEqual([
      [22, "cluster"],
      [5353, "local"],
    ]);
    const granted = logger.entries.filter(
      (e) => e.fields.event === "action.granted",
    );
    expect(granted.map((e) => e.fields.scope)).toEqual(["cluster", "local"]);
    await engine.close();
  });

  it("from a knockdaemon.conf through compileActions: scope = cluster is carried to the request", async () => {
    const text = [
      "knock = CLIENT,PORT,CHECKSUM",
      "portspan = 1024-2047",
      "key = s3cr3t",
      "runmode = network",
      "<firewall>",
      "protect = tcp/22",
      "</firewall>",
      "<cluster>",
      "redis = redis://127.0.0.1:6379",
      "name = gw1",
      "</cluster>",
      "<actions>",
      "<action>",
      "template = open",
      "</action>",
      "<template open>",
      "grant = tcp/22 2m",
      "scope = cluster",
      "</template>",
      "</actions>",
    ].join("\n");
    const parsed = parseDaemonConfig(text, { file: "knockdaemon.conf" });
    expect(parsed.diagnostics).toEqual([]);
    const { rules, diagnostics } = compileActions(parsed.config!.actions, {
      fields: ["CLIENT", "PORT", "CHECKSUM"],
    });
    expect(diagnostics).toEqual([]);
    expect(rules?.actions[0]?.templates[0]?.grants[0]?.scope).toBe("cluster");
    const grant = recordingGranter();
    const engine = createEngine(rules!, {
      clock: systemClock,
      store: createMemoryStore(),
      run: spawnRunner(),
      grant,
    });
    await engine.accept({ CLIENT: "192.0.2.7", PORT: 1 });
    expect(grant.calls).toEqual([
      {
        address: "192.0.2.7",
        family: 4,
        protocol: "tcp",
        port: 22,
        lifetimeMs: 120_000,
        scope: "cluster",
      },
    ]);
    await engine.close();
  });
});

describe("grant templates at load (#17)", () => {
  it("a grant cannot be delayed, and needs its variables", () => {
    const { diagnostics } = compileActions(
      actionsConfig(
        [{ templates: ["open"], delayMs: MINUTE }, { templates: ["port"] }],
        { open: { grant: [SSH] }, port: { grant: [TO_PORT] } },
      ),
      { fields: ["CLIENT", "FLAG0"] },
    );
    expect(
      diagnostics.map((d) => [
        d.code,
        d.severity,
        d.where.kind === "config" ? d.where.line : 0,
      ]),
    ).toEqual([
      ["ENGINE_GRANT_UNUSABLE", "error", 12],
      ["ENGINE_GRANT_UNUSABLE", "error", 103],
    ]);
    const noClient = compileActions(
      actionsConfig([{ templates: ["open"] }], { open: { grant: [SSH] } }),
      { fields: ["IP", "PORT"] },
    );
    // IP is CLIENT's alias.
    expect(noClient.diagnostics).toEqual([]);
    const neither = compileActions(
      actionsConfig([{ templates: ["open"] }], { open: { grant: [SSH] } }),
      { fields: ["USER", "TIME"] },
    );
    expect(neither.diagnostics.map((d) => d.code)).toEqual([
      "ENGINE_GRANT_UNUSABLE",
    ]);
  });

  it("createEngine needs deps.grant when the rules grant", () => {
    const { rules } = compileActions(
      actionsConfig([{ templates: ["open"] }], { open: { grant: [SSH] } }),
      { fields: FIELDS },
    );
    expect(() =>
      createEngine(rules!, {
        clock: systemClock,
        store: createMemoryStore(),
        run: spawnRunner(),
      }),
    ).toThrow(TypeError);
  });
});
