import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { findBacktrackingHazard } from "./regex-safety.ts";

describe("findBacktrackingHazard", () => {
  it.each([
    ["(a+)+", "nested-repetition"],
    ["(.*)*", "nested-repetition"],
    ["(\\w+\\s?)+", "nested-repetition"],
    ["^(\\d+)*$", "nested-repetition"],
    ["(?:a*,a*)*", "nested-repetition"],
    ["(?:x{1,20}){2,}", "nested-repetition"],
    ["(a|ab)*", "overlapping-alternatives"],
    ["(\\w|\\d)+", "overlapping-alternatives"],
    ["(.|\\s)*", "overlapping-alternatives"],
    ["(a|a?)+", "overlapping-alternatives"],
    ["(?:[a-z]|x)+y", "overlapping-alternatives"],
    ["(?:,?,?x)*", "ambiguous-sequence"],
    ["(?:a*a*,)+", "ambiguous-sequence"],
    ["(?:\\s?\\s?x)*", "ambiguous-sequence"],
  ])("%s: %s", (source, kind) => {
    expect(findBacktrackingHazard(source)?.kind).toBe(kind);
  });

  it.each([
    "DPT=([0-9]+)",
    "SRC=([0-9.]+)",
    "portknock",
    "IN=(\\S*) OUT=",
    "^\\S+ \\S+ kernel: .*?SRC=(\\S+)",
    "(?:\\d+\\.){3}\\d+",
    "(?:\\d+\\.)+\\d+",
    "[a-z]+(?:,[a-z]+)*",
    "(?:[^:]|:(?! ))*?IN=",
    "(?:[A-Z]+=\\S* )*",
    "(a+b)+",
    "(?:,a*)*",
    "(?:[^,]*,)*x",
    "a{1,5}b{2}",
    "(ab?)*",
    "\\[(\\d+\\.\\d+)\\]",
  ])("%s is accepted", (source) => {
    expect(findBacktrackingHazard(source)).toBeUndefined();
  });

  it("names the offending repetition", () => {
    expect(findBacktrackingHazard("SRC=(\\S+) (x+y?)+$")).toEqual({
      kind: "nested-repetition",
      fragment: "(x+y?)+",
    });
  });

  it("never throws on a regex JavaScript accepts", () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[()[\]|*+?{}\\a-c0-2.:^$=!<,-]{0,24}$/),
        (source) => {
          try {
            new RegExp(source);
          } catch {
            return;
          }
          findBacktrackingHazard(source);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
