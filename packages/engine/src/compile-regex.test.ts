import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compileRegex } from "./compile-regex.ts";

// More runs with PORTKNOCK_REGEX_FUZZ_RUNS=100000 (the logsource suite has the same knob).
const RUNS = Number(process.env.PORTKNOCK_REGEX_FUZZ_RUNS ?? 400);

describe("compileRegex: condition regexes on the linear-time engine (#16)", () => {
  it("names what the engine cannot run", () => {
    const r = compileRegex("^(?!10\\.)", "");
    expect(r).toEqual({
      ok: false,
      message:
        "regex /^(?!10\\.)/ uses a lookahead (?!…) at character 2, which the linear-time regex engine cannot run; rewrite it without",
    });
    expect(compileRegex("(a)\\1", "i").ok).toBe(false);
  });

  it("keeps JavaScript's i, m and s on latin1 text", () => {
    const cases: [string, string, string][] = [
      ["^abc$", "i", "ABC"],
      ["^b$", "m", "a\nb"],
      ["a.b", "s", "a\nb"],
      ["a.b", "", "a\rb"],
      ["[^k]", "i", "K"],
      ["\\W", "i", "s"],
      ["[a-z]+", "i", "ÀÉ"],
      ["é", "i", "É"],
      ["µ", "i", "\u039c"],
      ["ÿ", "i", "\u0178"],
      ["ss", "i", "ß"],
    ];
    for (const [source, flags, subject] of cases) {
      const r = compileRegex(source, flags);
      if (!r.ok) throw new Error(r.message);
      expect(r.regex.test(subject), `/${source}/${flags} on ${subject}`).toBe(
        new RegExp(source, flags).test(subject),
      );
    }
  });

  it(
    "matches as V8 does, with any flags, on random regexes and subjects",
    () => {
      const atom = fc.constantFrom(
        "a",
        "B",
        "é",
        "K",
        "s",
        ".",
        "\\w",
        "\\W",
        "\\s",
        "[a-c]",
        "[^b]",
        "[^\\W]",
        "^",
        "$",
        "\\b",
        "\\.",
        "1",
        "\\d",
      );
      const quant = fc.constantFrom("", "", "*", "+", "?", "{1,2}", "*?");
      const source = fc
        .array(
          fc.oneof(
            fc
              .tuple(atom, quant)
              .map(([a, q]) => (/^[$^]|\\b/.test(a) ? a : a + q)),
            fc
              .tuple(
                fc.array(atom, { minLength: 1, maxLength: 3 }),
                fc.array(atom, { minLength: 1, maxLength: 2 }),
                quant,
              )
              .map(([x, y, q]) => `(?:${x.join("")}|${y.join("")})${q}`),
          ),
          { minLength: 1, maxLength: 5 },
        )
        .map((parts) => parts.join(""));
      const flags = fc.subarray(["i", "m", "s"]).map((f) => f.join(""));
      const subject = fc
        .array(
          fc.constantFrom(
            "a",
            "A",
            "b",
            "B",
            "é",
            "É",
            "k",
            "K",
            "s",
            "S",
            "\n",
            "\r",
            " ",
            "1",
            ".",
            "\u212a",
            "\u017f",
          ),
          { maxLength: 10 },
        )
        .map((c) => c.join(""));
      fc.assert(
        fc.property(
          source,
          flags,
          fc.array(subject, { maxLength: 5 }),
          (src, f, subjects) => {
            const r = compileRegex(src, f);
            if (!r.ok) {
              expect(r.message).toMatch(/can match the empty string/);
              return;
            }
            const v8 = new RegExp(src, f);
            for (const s of subjects) {
              // Documented: with m, ^ and $ match around \n only (Perl's /m), not \r or U+2028.
              if (f.includes("m") && /[\r\u2028\u2029]/.test(s)) continue;
              expect(
                r.regex.test(s),
                `/${src}/${f} on ${JSON.stringify(s)}`,
              ).toBe(v8.test(s));
            }
          },
        ),
        { numRuns: RUNS * 5 },
      );
    },
    Math.max(5000, RUNS * 30),
  );
});
