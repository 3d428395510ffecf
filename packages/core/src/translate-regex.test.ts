import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { translateRegex } from "./translate-regex.ts";

describe("translateRegex", () => {
  it("writes JavaScript's classes out as the code units they match", () => {
    expect(translateRegex("\\s")).toEqual({
      ok: true,
      pattern:
        "[\\x{9}-\\x{d}\\x{20}\\x{a0}\\x{1680}\\x{2000}-\\x{200a}\\x{2028}-\\x{2029}\\x{202f}\\x{205f}\\x{3000}\\x{feff}]",
      groups: 0,
    });
    expect(translateRegex("a.", { dotAll: false })).toMatchObject({
      pattern:
        "a[\\x{0}-\\x{9}\\x{b}-\\x{c}\\x{e}-\\x{2027}\\x{202a}-\\x{ffff}\\x{10000}-\\x{10ffff}]",
    });
    expect(translateRegex("k", { ignoreCase: true })).toMatchObject({
      pattern: "[\\x{4b}\\x{6b}]", // not U+212A KELVIN SIGN: JavaScript keeps it apart
    });
    expect(translateRegex("^a$", { multiline: true })).toMatchObject({
      pattern: "(?m)^a$",
    });
  });

  it("numbers groups as JavaScript does, named ones as plain groups", () => {
    expect(translateRegex("(?<p>\\d+)(?:x)([a])")).toEqual({
      ok: true,
      pattern: "((?:[\\x{30}-\\x{39}])+)(?:x)([\\x{61}])",
      groups: 2,
    });
  });

  it.each([
    ["(a)\\1", "a back-reference \\1", 3],
    ["\\k<n>(?<n>a)", "a named back-reference \\k<…>", 0],
    ["a(?=b)", "a lookahead (?=…)", 1],
    ["(?<!a)b", "a lookbehind (?<!…)", 0],
    ["x{1,1001}", "a repetition count over 1000 ({1,1001})", 1],
    [
      "(?:a?)*",
      "a repetition of something that can match the empty string ((?:a?)*)",
      0,
    ],
  ])("refuses %s, naming %s at %i", (source, construct, index) => {
    expect(translateRegex(source)).toEqual({ ok: false, construct, index });
  });

  it("never throws on a regex JavaScript accepts", () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[()[\]|*+?{}\\a-c0-2.:^$=!<>,-]{0,24}$/),
        fc.boolean(),
        (source, ignoreCase) => {
          try {
            new RegExp(source, ignoreCase ? "i" : "");
          } catch {
            return;
          }
          translateRegex(source, { ignoreCase });
        },
      ),
      { numRuns: 2000 },
    );
  });
});
