import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { formatDiagnostic } from "@portknock/core";
import { describe, expect, it, onTestFinished } from "vitest";
import { actionsConfig } from "../test/helpers.ts";
import { compileActions } from "./compile.ts";

const fields = ["CLIENT", "PORT", "FLAG0", "CHECKSUM"];

describe("compileActions", () => {
  it("compiles conditions, commands and state once, sharing templates", () => {
    const { rules, diagnostics } = compileActions(
      actionsConfig(
        [
          { condition: "PORT == 22", templates: ["open", "count"], delayMs: 0 },
          { templates: ["open"], delayMs: 300_000, use: false },
        ],
        {
          open: { system: ["/bin/true -s IP/32"] },
          count: { state: ["state(IP,n)++"] },
        },
      ),
      { fields },
    );
    expect(diagnostics).toEqual([]);
    expect(rules!.actions).toHaveLength(2);
    expect(rules!.actions[0]).toMatchObject({
      label: "knockdaemon.conf:10",
      delayMs: 0,
      use: true,
    });
    expect(rules!.actions[0]!.condition).toBeDefined();
    expect(rules!.actions[1]!.condition).toBeUndefined();
    expect(rules!.actions[1]!.templates[0]).toBe(
      rules!.actions[0]!.templates[0],
    );
    expect([...rules!.variables.keys()]).toContain("IP");
    expect([...rules!.variables.keys()]).not.toContain("CHECKSUM");
  });

  it("collects every error of every action and template, with locations", () => {
    const { rules, diagnostics } = compileActions(
      actionsConfig(
        [
          { condition: "PORT == 22 &&", templates: ["bad_system"] },
          { condition: "FLAG1 > 0", templates: ["bad_state", "missing"] },
        ],
        {
          bad_system: { system: ["/bin/true IP | /bin/true"] },
          bad_state: { state: ["state(IP)+"] },
        },
      ),
      { fields },
    );
    expect(rules).toBeUndefined();
    expect(diagnostics.map((d) => [d.code, formatWhereShort(d.where)])).toEqual(
      [
        ["ENGINE_SYNTAX", "11:26"],
        ["ENGINE_COMMAND_METACHAR", "101:25"],
        ["ENGINE_UNKNOWN_NAME", "21:13"],
        ["ENGINE_SYNTAX", "103:21"],
        ["ENGINE_UNKNOWN_TEMPLATE", "22:12"],
      ],
    );
    expect(
      formatDiagnostic(
        diagnostics[1]!,
        "\n".repeat(100) + 'system = "/bin/true IP | /bin/true"',
      ),
    ).toMatchInlineSnapshot(`
      "knockdaemon.conf:101:25: error ENGINE_COMMAND_METACHAR: shell metacharacter "|" (a pipe) outside quotes: commands run without a shell, so it would reach the program as a literal argument; quote it if that is meant, or put shell syntax in a script
        system = "/bin/true IP | /bin/true"
                                ^"
    `);
  });

  it("warns (without failing) about executables that do not exist", () => {
    const dir = mkdtempSync(join(tmpdir(), "portknock-compile-"));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, "tool"), "#!/bin/sh\n");
    chmodSync(join(dir, "tool"), 0o755);
    writeFileSync(join(dir, "plain"), "");
    const { rules, diagnostics } = compileActions(
      actionsConfig([{ templates: ["t"] }], {
        t: {
          system: [
            "tool ok",
            "no-such-tool-anywhere x",
            `${join(dir, "plain")} x`,
            `${join(dir, "absent")} x`,
            `${join(dir, "tool")} x`,
          ],
        },
      }),
      { fields, pathVariable: dir },
    );
    expect(rules).toBeDefined();
    expect(
      diagnostics.map((d) => [
        d.code,
        d.severity,
        d.where.kind === "config" && d.where.line,
      ]),
    ).toEqual([
      ["ENGINE_EXECUTABLE_MISSING", "warning", 102],
      ["ENGINE_EXECUTABLE_MISSING", "warning", 103],
      ["ENGINE_EXECUTABLE_MISSING", "warning", 104],
    ]);
    const quiet = compileActions(
      actionsConfig([{ templates: ["t"] }], { t: { system: ["nope x"] } }),
      {
        fields,
        checkExecutables: false,
      },
    );
    expect(quiet.diagnostics).toEqual([]);
  });

  it("accepts an embedder's own variables and rejects unknown fields", () => {
    const { rules, diagnostics } = compileActions(
      actionsConfig([{ condition: 'ZONE eq "dmz"', templates: ["t"] }], {
        t: { system: ["/bin/true ZONE"] },
      }),
      { fields: ["CLIENT"], variables: { ZONE: "name" } },
    );
    expect(diagnostics).toEqual([]);
    expect(rules!.variables.get("ZONE")).toBe("name");
    expect(() =>
      compileActions(actionsConfig([], {}), { fields: ["CLIENT", "COLOUR"] }),
    ).toThrow(TypeError);
  });
});

function formatWhereShort(where: {
  kind: string;
  line?: number;
  column?: number;
}): string {
  return `${where.line}:${where.column}`;
}
