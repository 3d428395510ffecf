import { describe, expect, it } from "vitest";
import { formatNumber, increment, isTrue, toNumber, toStr } from "./values.ts";

describe("Perl scalar semantics", () => {
  it.each([
    ["42", 42],
    [" 42abc", 42],
    ["10.3.2.1", 10.3],
    ["abc", 0],
    ["", 0],
    ["-3e2x", -300],
    [".5", 0.5],
  ])("toNumber(%j) = %j", (s, n) => expect(toNumber(s)).toBe(n));

  it.each([
    [3, "3"],
    [0.5, "0.5"],
    [1 / 3, "0.333333333333333"],
    [1e21, "1e+21"],
    [-0, "0"],
    [Infinity, "Inf"],
  ])("formatNumber(%j) = %j", (n, s) => expect(formatNumber(n)).toBe(s));

  it("treats undef, '', '0' and 0 as false", () => {
    expect([undefined, "", "0", 0].map(isTrue)).toEqual([
      false,
      false,
      false,
      false,
    ]);
    expect(["0.0", "00", " ", 1, "a"].map(isTrue)).toEqual([
      true,
      true,
      true,
      true,
      true,
    ]);
    expect(toStr(undefined)).toBe("");
  });

  it.each<[string | number | undefined, string | number]>([
    [undefined, 1],
    [1, 2],
    ["41", 42],
    ["", 1],
    ["a", "b"],
    ["az", "ba"],
    ["Zz", "AAa"],
    ["a9", "b0"],
    ["zz99", "aaa00"],
    ["1.5", 2.5],
    ["12abc", 13],
  ])("++ on %j gives %j", (v, expected) => expect(increment(v)).toBe(expected));
});
