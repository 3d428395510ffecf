import { describe, expect, it } from "vitest";
import { RefusalSignal } from "./errors.ts";
import { evaluate, evaluateCondition } from "./eval-condition.ts";
import { parseCondition } from "./parse-condition.ts";
import type { Scalar } from "./values.ts";
import { computeVariables, knownVariables } from "./variables.ts";

const kinds = knownVariables(["CLIENT", "PORT", "FLAG0", "TIME", "CHECKSUM"]);
const NOW_MS = Date.UTC(2024, 0, 7, 12, 30, 0); // a Sunday
const state = new Map<string, Scalar>([
  [JSON.stringify(["10.3.2.1", "visits", "num"]), 3],
  [JSON.stringify(["name"]), "alice"],
]);

function run(
  text: string,
  fields: Record<string, string | number> = {},
): Scalar {
  const { expr, diagnostics } = parseCondition(text, { variables: kinds });
  expect(diagnostics).toEqual([]);
  const vars = computeVariables(
    {
      CLIENT: "10.3.2.1",
      PORT: 22,
      FLAG0: 5,
      TIME: NOW_MS / 1000 - 30,
      SOURCE: "192.0.2.7",
      ...fields,
    },
    NOW_MS,
  );
  return evaluate(expr!, {
    vars,
    kinds,
    readState: (path) => state.get(JSON.stringify(path)),
  });
}

function refusalCode(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof RefusalSignal) return e.refusal.code;
    throw e;
  }
  return undefined;
}

describe("evaluate", () => {
  it.each<[string, Scalar]>([
    // arithmetic and precedence
    ["1 + 2 * 3", 7],
    ["(1 + 2) * 3", 9],
    ["10 - 2 - 3", 5],
    ["7 / 2", 3.5],
    ["7 % 3", 1],
    ["-7 % 3", 2], // compat: Perl's % takes the sign of the right operand
    ["7 % -3", -2],
    ["-2 * 3", -6],
    ["abs(TIME - NOW)", 30],
    ["abs(-4.5)", 4.5],
    // numeric vs string comparison
    ["PORT == 22", 1],
    ["PORT == 23", ""],
    ['PORT == "22abc"', 1], // numeric reading of a string, as Perl
    ['"10" == 10.0', 1],
    ['"10" eq "10.0"', ""],
    ['"abc" lt "abd"', 1],
    ['"9" lt "10"', ""], // string comparison
    ["9 < 10", 1],
    ['"b" ge "a"', 1],
    ['CLIENT eq "10.3.2.1"', 1],
    ['IP eq "10.3.2.1"', 1],
    ["SOURCE ne CLIENT", 1],
    ["FLAG0 != 5", ""],
    // logic returns the deciding operand, as Perl
    ["0 || 7", 7],
    ["3 && 7", 7],
    ['"" or 0', 0],
    ["not 0", 1],
    ["! 1", ""],
    ['! "0"', 1],
    ['! "0.0"', ""], // "0.0" is true in Perl
    // regex
    ["IP =~ /^10\\./", 1],
    ["IP =~ /^192\\./", ""],
    ["IP !~ /^192\\./", 1],
    ['"ABC" =~ /abc/i', 1],
    ["PORT =~ /^2+$/", 1],
    // inside() v4 and v6
    ['inside(IP, "10.0.0.0/8")', 1],
    ['inside(IP, "10.3.2.0/24")', 1],
    ['inside(IP, "10.3.3.0/24")', ""],
    ['inside(IP, "0.0.0.0/0")', 1],
    ['inside(SOURCE, "2001:db8::/32")', ""],
    ['inside("2001:db8::1", "2001:db8::/32")', 1],
    ['inside("2001:db9::1", "2001:db8::/32")', ""],
    ['inside("::ffff:10.1.2.3", "10.0.0.0/8")', 1],
    ['inside("not an ip", "10.0.0.0/8")', ""],
    ['inside(IP, "10.3.2.1")', 1],
    // state reads; undefined reads as 0 or ""
    ["state(IP, visits, num)", 3],
    ["state(IP, visits, num) >= 3", 1],
    ["state(IP, visits, other) + 1", 1],
    ['state(IP, visits, other) eq ""', 1],
    ['state(name) eq "alice"', 1],
    // time variables
    ["THISWEEKDAY", new Date(NOW_MS).getDay()],
    ["THISYEAR", new Date(NOW_MS).getFullYear()],
    ["NOW", NOW_MS / 1000],
  ])("%s → %j", (text, expected) => {
    expect(run(text)).toStrictEqual(expected);
  });

  it("TIME is NOW when the knock has no TIME field", () => {
    expect(run("TIME == NOW", { TIME: undefined as unknown as number })).toBe(
      1,
    );
  });

  it("refuses division by zero at knock time instead of throwing", () => {
    expect(() => run("1 / (PORT - 22)")).toThrow(RefusalSignal);
    try {
      run("5 % 0");
    } catch (e) {
      expect((e as RefusalSignal).refusal.code).toBe("ENGINE_DIVISION_BY_ZERO");
    }
  });

  it("refuses a state read with an unsafe key", () => {
    const { expr } = parseCondition("state(IP, x) > 0", { variables: kinds });
    const vars = computeVariables({ CLIENT: "../etc", PORT: 1 }, NOW_MS);
    expect(
      refusalCode(() =>
        evaluateCondition(expr!, { vars, kinds, readState: () => undefined }),
      ),
    ).toBe("ENGINE_VALUE_INVALID");
  });

  it("refuses a variable the knock did not provide", () => {
    const { expr } = parseCondition("FLAG0 > 1", { variables: kinds });
    const vars = computeVariables({ CLIENT: "10.0.0.1" }, NOW_MS);
    expect(
      refusalCode(() =>
        evaluateCondition(expr!, { vars, kinds, readState: () => undefined }),
      ),
    ).toBe("ENGINE_VALUE_MISSING");
  });
});
