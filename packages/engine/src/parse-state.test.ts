import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseStateStatements } from "./parse-state.ts";
import { knownVariables } from "./variables.ts";

const variables = knownVariables(["IP", "PORT"]);
const where = { kind: "config" as const, file: "k.conf", line: 4, column: 11 };

function parse(text: string) {
  return parseStateStatements(text, { variables, where });
}

describe("parseStateStatements", () => {
  it("parses every statement form", () => {
    const r = parse(
      'state(IP,visits,num)++; state(IP,x)--; state(IP,last) = NOW; state(total) += PORT * 2; state(total) -= 1; delete state(IP, "old key");;',
    );
    expect(r.diagnostics).toEqual([]);
    expect(r.statements!.map((s) => s.op)).toEqual([
      "++",
      "--",
      "=",
      "+=",
      "-=",
      "delete",
    ]);
    expect(r.statements![0]!.keys).toEqual([
      { kind: "var", name: "IP", offset: 6 },
      { kind: "literal", value: "visits", offset: 9 },
      { kind: "literal", value: "num", offset: 16 },
    ]);
    expect(r.statements![5]!.keys[1]).toMatchObject({
      kind: "literal",
      value: "old key",
    });
  });

  it.each([
    ["state(IP)", "ENGINE_SYNTAX", 20],
    ["state(IP)++ state(IP)++", "ENGINE_SYNTAX", 23],
    ["++state(IP)", "ENGINE_SYNTAX", 11],
    ["state(IP) = ", "ENGINE_SYNTAX", 23],
    ["state() ++", "ENGINE_SYNTAX", 17],
    ["visits(IP)++", "ENGINE_SYNTAX", 11],
    ["state(IP, FLAG3)++", "ENGINE_UNKNOWN_NAME", 21],
    ["state(IP) = NOPE", "ENGINE_UNKNOWN_NAME", 23],
    ['state(IP, "a/b")++', "STATE_KEY_INVALID", 21],
    ["state(IP, 1 + 2)++", "ENGINE_SYNTAX", 23],
    ["", "ENGINE_SYNTAX", 11],
  ])("%j → %s at column %i", (text, code, column) => {
    const r = parse(text);
    expect(r.statements).toBeUndefined();
    expect(r.diagnostics[0]).toMatchObject({
      code,
      where: { line: 4, column },
    });
  });

  it("never throws on arbitrary text", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), (text) => {
        const r = parse(`state(IP)${text}`);
        if (r.statements === undefined)
          expect(r.diagnostics.length).toBeGreaterThan(0);
      }),
      { numRuns: 1000 },
    );
  });
});
