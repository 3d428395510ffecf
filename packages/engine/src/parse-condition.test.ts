import { formatDiagnostic } from "@portknock/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Expr } from "./ast.ts";
import { parseCondition } from "./parse-condition.ts";
import { knownVariables } from "./variables.ts";

const variables = knownVariables(["CLIENT", "PORT", "FLAG0", "CHECKSUM"]);
const where = {
  kind: "config" as const,
  file: "knockdaemon.conf",
  line: 3,
  column: 13,
};

function parse(text: string) {
  return parseCondition(text, { variables, where });
}

/** The tree as a Lisp-like string, to show precedence. */
function show(e: Expr): string {
  switch (e.type) {
    case "num":
      return String(e.value);
    case "str":
      return JSON.stringify(e.value);
    case "var":
      return e.name;
    case "unary":
      return `(${e.op} ${show(e.operand)})`;
    case "binary":
      return `(${e.op} ${show(e.left)} ${show(e.right)})`;
    case "match":
      return `(${e.negate ? "!~" : "=~"} ${show(e.subject)} ${String(e.regex)})`;
    case "abs":
      return `(abs ${show(e.arg)})`;
    case "inside":
      return `(inside ${show(e.ip)} ${show(e.cidr)})`;
    case "state":
      return `(state ${e.keys.map((k) => (k.kind === "var" ? k.name : `'${k.value}`)).join(" ")})`;
  }
}

describe("parseCondition precedence", () => {
  it.each([
    ["PORT == 22", "(== PORT 22)"],
    ["1 + 2 * 3", "(+ 1 (* 2 3))"],
    ["1 - 2 - 3", "(- (- 1 2) 3)"],
    ["-2 * 3", "(* (neg 2) 3)"],
    ["! PORT == 22", "(== (! PORT) 22)"],
    ["not PORT == 22", "(not (== PORT 22))"],
    ["not PORT == 22 || FLAG0", "(not (|| (== PORT 22) FLAG0))"],
    ["not PORT and FLAG0", "(and (not PORT) FLAG0)"],
    ["PORT or FLAG0 and 1", "(or PORT (and FLAG0 1))"],
    ["PORT || FLAG0 && 1", "(|| PORT (&& FLAG0 1))"],
    ["PORT == 22 && FLAG0 > 1 + 2", "(&& (== PORT 22) (> FLAG0 (+ 1 2)))"],
    ["PORT < 3 == 1", "(== (< PORT 3) 1)"],
    [
      "CLIENT =~ /^10\\./ && PORT == 22",
      "(&& (=~ CLIENT /^10\\./) (== PORT 22))",
    ],
    ["PORT + 1 =~ /2/", "(=~ (+ PORT 1) /2/)"],
    ["IP !~ /^192\\.168\\./i", "(!~ IP /^192\\.168\\./i)"],
    ["(1 + 2) * 3", "(* (+ 1 2) 3)"],
    ["abs(TIME - NOW) < 60", "(< (abs (- TIME NOW)) 60)"],
    ['inside(IP, "10.0.0.0/8")', '(inside IP "10.0.0.0/8")'],
    ["state(IP, visits, num) >= 3", "(>= (state IP 'visits 'num) 3)"],
    [
      'CLIENT eq "10.1.1.1" or SOURCE ne CLIENT',
      '(or (eq CLIENT "10.1.1.1") (ne SOURCE CLIENT))',
    ],
    [
      "THISHOUR >= 9 and THISWEEKDAY % 6",
      "(and (>= THISHOUR 9) (% THISWEEKDAY 6))",
    ],
    ["IP =~ m{^10/}", "(=~ IP /^10\\//)"],
  ])("%s", (text, tree) => {
    const { expr, diagnostics } = parse(text);
    expect(diagnostics).toEqual([]);
    expect(expr && show(expr)).toBe(tree);
  });
});

describe("parseCondition errors", () => {
  it.each([
    ["PORT ==", "ENGINE_SYNTAX", 20],
    ["PORT == 22 )", "ENGINE_SYNTAX", 24],
    ["(PORT == 22", "ENGINE_SYNTAX", 24],
    ["PORT = 22", "ENGINE_SYNTAX", 18],
    ["FLAG1 == 3", "ENGINE_UNKNOWN_NAME", 13],
    ["port == 22", "ENGINE_UNKNOWN_NAME", 13],
    ["PORT == 22 && NOPE", "ENGINE_UNKNOWN_NAME", 27],
    ["system(PORT)", "ENGINE_UNKNOWN_FUNCTION", 13],
    ["abs(1, 2)", "ENGINE_BAD_ARGUMENTS", 13],
    ["IP =~ /(/", "ENGINE_BAD_REGEX", 19],
    ["IP =~ /[/", "ENGINE_SYNTAX", 19],
    ["IP =~ /\\Afoo/", "ENGINE_BAD_REGEX", 19],
    ["IP =~ /x/x", "ENGINE_BAD_REGEX", 19],
    // #16: what the linear-time engine cannot run is refused at load, not changed
    ["IP =~ /^10(?=\\.)/", "ENGINE_BAD_REGEX", 19],
    ["IP =~ /(\\d)\\1/", "ENGINE_BAD_REGEX", 19],
    ['inside(IP, "10.0.0.0/33")', "ENGINE_BAD_CIDR", 24],
    ["1 < 2 < 3", "ENGINE_SYNTAX", 19],
    ["PORT == 10.1.1.1", "ENGINE_SYNTAX", 21],
    ['"abc', "ENGINE_SYNTAX", 13],
    ["state(IP)++ > 1", "ENGINE_SYNTAX", 22],
    ["PORT == 22 ; 1", "ENGINE_SYNTAX", 24],
    ['state(IP, "..") == 1', "STATE_KEY_INVALID", 23],
    ["((((((((((".repeat(10), "ENGINE_TOO_DEEP", 77],
  ])("%s → %s at column %i", (text, code, column) => {
    const { expr, diagnostics } = parse(text);
    expect(expr).toBeUndefined();
    expect(diagnostics[0]).toMatchObject({
      code,
      severity: "error",
      where: { file: "knockdaemon.conf", line: 3, column },
    });
  });

  it("reports every unknown name, not just the first", () => {
    const { diagnostics } = parse("FLAG1 == 1 || FOO == 2 || PORT == 3");
    expect(diagnostics.map((d) => [d.code, d.where])).toEqual([
      ["ENGINE_UNKNOWN_NAME", { ...where, column: 13 }],
      ["ENGINE_UNKNOWN_NAME", { ...where, column: 27 }],
    ]);
  });

  it("formats with a caret under the offending character", () => {
    const source =
      "<action>\ntemplate = open\ncondition = PORT == 22 && FLAG1 > 0\n";
    const { diagnostics } = parse("PORT == 22 && FLAG1 > 0");
    expect(formatDiagnostic(diagnostics[0]!, source)).toMatchInlineSnapshot(`
      "knockdaemon.conf:3:27: error ENGINE_UNKNOWN_NAME: unknown name "FLAG1": FLAG1 is a knock field, but this knock format has no FLAG1 field; expected one of SOURCE, NOW, TIME, THISYEAR, THISMONTH, THISDAY, THISHOUR, THISMINUTE, THISWEEKDAY, CLIENT, IP, PORT, FLAG0
        condition = PORT == 22 && FLAG1 > 0
                                  ^"
    `);
    const syntax = parse("PORT == 22 &&");
    expect(formatDiagnostic(syntax.diagnostics[0]!, source))
      .toMatchInlineSnapshot(`
      "knockdaemon.conf:3:26: error ENGINE_SYNTAX: expected a value, got the end of the text
        condition = PORT == 22 && FLAG1 > 0
                                 ^"
    `);
  });

  it("omits the column when the config layer does not know it", () => {
    const { diagnostics } = parseCondition("PORT ==", {
      variables,
      where: { kind: "config", file: "k.conf", line: 7 },
    });
    expect(diagnostics[0]?.where).toEqual({
      kind: "config",
      file: "k.conf",
      line: 7,
    });
  });

  it("never throws on arbitrary text, and fails only with diagnostics", () => {
    const alphabet = fc.constantFrom(
      ..."()!=<>~+-*/%&|,;\"'\\ \t\n0123456789.abcPORTIPFLAG0stateinsideabsnotandoreqm{}[]^$".split(
        "",
      ),
    );
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 80 }),
          fc.string({ unit: alphabet, maxLength: 80 }),
        ),
        (text) => {
          const r = parse(text);
          if (r.expr === undefined) {
            expect(r.diagnostics.length).toBeGreaterThan(0);
            for (const d of r.diagnostics)
              expect(d.code).toMatch(/^(ENGINE|STATE)_/);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});
