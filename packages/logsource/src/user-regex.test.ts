import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compileLogFormat } from "./log-format.ts";
import { parseLogLine } from "./parse-log-line.ts";
import { reviveLogFormat } from "./revive-format.ts";
import { LinearRegex, compileLinearRegex } from "./user-regex.ts";

// Runs of the property tests: a bounded number in CI, more with PORTKNOCK_REGEX_FUZZ_RUNS=100000.
const RUNS = Number(process.env.PORTKNOCK_REGEX_FUZZ_RUNS ?? 400);
const TIMEOUT_MS = Math.max(5000, RUNS * 30);

function linear(source: string): LinearRegex {
  const r = compileLinearRegex(source);
  if (!r.ok) throw new Error(r.message);
  return r.regex;
}

/** What a match shows: where, the whole match and group 1, as V8's RegExp gives them. */
function outcome(m: ArrayLike<string | undefined> | null): unknown {
  if (m === null) return null;
  const a = m as ArrayLike<string | undefined> & { index?: number };
  return { index: a.index, all: a[0], first: a[1] };
}

describe("compileLinearRegex: JavaScript's meaning on the linear-time engine", () => {
  it.each([
    // [source, text]: the escapes and classes JavaScript reads its own way
    ["\\s", "\u00a0"],
    ["\\s", "\ufeff"],
    ["\\s", "\v"],
    ["\\S", "\u00a0"],
    [".", "\r"],
    [".", "\u2028"],
    [".", "\u0085"],
    ["[^a]", "\n"],
    ["\\w", "é"],
    ["\\W", "é"],
    ["[\\b]", "\b"],
    ["\\cJ", "\n"],
    ["\\c1", "\\c1"],
    ["[\\c1]", "\u0011"],
    ["\\x4", "x4"],
    ["\\u004", "u004"],
    ["\\101", "A"],
    ["\\08", "\u00008"],
    ["\\8", "8"],
    ["\\a\\e\\y\\p{L}", "aeyp{L}"],
    ["a{,5}", "a{,5}"],
    ["{x}]", "{x}]"],
    ["[[:alpha:]]", "[:"],
    ["[[:alpha:]]", "a]"],
    ["[\\d-z]", "-"],
    ["[a-\\d]", "-"],
    ["[]", "a"],
    ["[^]", "\n"],
    ["\\k<n>", "k<n>"],
    ["\\bab\\B", "ab"],
    ["😀", "😀"],
  ])("/%s/ on %j as V8 reads it", (source, text) => {
    expect(outcome(linear(source).exec(text))).toEqual(
      outcome(new RegExp(source).exec(text)),
    );
  });

  it.each([
    ["(a)\\1", "a back-reference \\1"],
    ["(?<x>a)\\k<x>", "a named back-reference"],
    ["a(?=b)", "a lookahead (?=…)"],
    ["a(?!b)", "a lookahead (?!…)"],
    ["(?<=a)b", "a lookbehind (?<=…)"],
    ["(?<!a)b", "a lookbehind (?<!…)"],
    ["a{2000}", "a repetition count over 1000 ({2000})"],
    ["(?:a|b?)*", "a repetition of something that can match the empty string"],
    ["(a*)+?", "a repetition of something that can match the empty string"],
    ["😀+", "a repetition of a character outside the BMP"],
  ])("refuses /%s/, naming %s", (source, construct) => {
    const r = compileLinearRegex(source);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toContain(`uses ${construct}`);
  });

  it("refuses what JavaScript refuses, and what RE2 cannot size", () => {
    const bad = compileLinearRegex("(a");
    expect(bad.ok || bad.message).toMatch(/^invalid regex "\(a": /);
    const big = compileLinearRegex("(?:a{100}){100}");
    expect(big.ok || big.message).toMatch(/refused by the linear-time/);
  });

  it("counts capture groups as V8 numbers them, named ones included", () => {
    const r = compileLinearRegex("(?:x)(?<port>\\d+)|([a-z])");
    expect(r.ok && r.groups).toBe(2);
    expect(linear("(?:x)(?<port>\\d+)|([a-z])").exec("x22")?.[1]).toBe("22");
  });

  it("survives the structured clone to a replay worker: compiled again from its source", () => {
    const at = { kind: "config", file: "k.conf", line: 1 } as const;
    const { format } = compileLogFormat({
      name: "mine",
      where: at,
      required: { text: "KNOCK", where: at },
      ipclient: { text: "SRC=(\\S+)", where: at },
      port: { text: "DPT=(\\d+)", where: at },
    });
    if (!format) throw new Error("no format");
    const cloned = structuredClone(format);
    expect(cloned.ipclient).not.toBeInstanceOf(LinearRegex); // only { source } arrives
    const revived = reviveLogFormat(cloned);
    expect(revived.ipclient).toBeInstanceOf(LinearRegex);
    expect(revived.srcport).toBeUndefined();
    const line = "KNOCK SRC=10.1.2.3 DPT=2222";
    expect(parseLogLine(line, revived, "f", 0)).toEqual(
      parseLogLine(line, format, "f", 0),
    );
  });

  it("compat: a group inside a repetition keeps its last iteration (Perl's rule)", () => {
    // V8 resets it to undefined on the iteration that skips it; Perl and RE2 keep "a".
    expect(linear("(?:(a)|b)+").exec("ab")?.[1]).toBe("a");
    expect(new RegExp("(?:(a)|b)+").exec("ab")?.[1]).toBeUndefined();
  });
});

// A small grammar of the constructs that make backtracking engines blow up: nested and
// adjacent overlapping repetitions, overlapping alternatives, `.*` chains, lazy quantifiers.
const ATOMS = [
  "a",
  "b",
  ",",
  " ",
  "1",
  "\\.",
  ".",
  "\\d",
  "\\w",
  "\\s",
  "\\S",
  "\\W",
  "[ab]",
  "[^a]",
  "[a-c,]",
  "[\\s,]",
  "\\x61",
  "\\u0062",
  "\\t",
];
const QUANTIFIERS = ["*", "+", "?", "*?", "+?", "??", "{2}", "{0,3}", "{1,}"];
const ANCHORS = ["^", "$", "\\b", "\\B"];

const { pattern } = fc.letrec<{ pattern: string; item: string; body: string }>(
  (tie) => ({
    item: fc.oneof(
      { depthSize: "small", withCrossShrink: true },
      fc.constantFrom(...ATOMS),
      fc
        .tuple(fc.constantFrom(...ATOMS), fc.constantFrom(...QUANTIFIERS))
        .map(([a, q]) => a + q),
      fc
        .tuple(tie("body"), fc.constantFrom(...QUANTIFIERS, ""))
        .map(([b, q]) => `(?:${b})${q}`),
      fc.constantFrom(...ANCHORS),
    ),
    body: fc
      .array(fc.array(tie("item"), { maxLength: 4 }), {
        minLength: 1,
        maxLength: 3,
      })
      .map((alts) => alts.map((a) => a.join("")).join("|")),
    // At most one capture, never inside a repetition (the one rule V8 and RE2 differ on).
    pattern: fc
      .tuple(
        fc.array(tie("item"), { maxLength: 3 }),
        fc.option(tie("body"), { nil: undefined }),
        fc.array(tie("item"), { maxLength: 3 }),
      )
      .map(
        ([pre, cap, post]) =>
          pre.join("") + (cap === undefined ? "" : `(${cap})`) + post.join(""),
      ),
  }),
);

const CHARS = [
  "a",
  "b",
  ",",
  " ",
  "1",
  "\t",
  "\r",
  "\n",
  "\u00a0",
  "A",
  "é",
  "_",
];
const shortLine = fc
  .array(fc.constantFrom(...CHARS), { maxLength: 12 })
  .map((cs) => cs.join(""));

describe("user regexes run on the linear-time engine (#16)", () => {
  it(
    "every <logformat> regex compiles to the linear engine, never to V8's RegExp",
    () => {
      fc.assert(
        fc.property(pattern, (source) => {
          const r = compileLinearRegex(source);
          // The one refusal this grammar can meet: an optional repetition of an empty match.
          if (!r.ok) expect(r.message).toContain("can match the empty string");
          else expect(r.regex).toBeInstanceOf(LinearRegex);
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT_MS,
  );

  it(
    "gives V8's matches on inputs V8 finishes quickly (differential)",
    () => {
      fc.assert(
        fc.property(
          pattern,
          fc.array(shortLine, { maxLength: 6 }),
          (source, lines) => {
            const r = compileLinearRegex(source);
            if (!r.ok) return;
            const mine = r.regex;
            const v8 = new RegExp(source);
            for (const line of lines) {
              expect(
                outcome(mine.exec(line)),
                `/${source}/ on ${JSON.stringify(line)}`,
              ).toEqual(outcome(v8.exec(line)));
              expect(mine.test(line)).toBe(v8.test(line));
            }
          },
        ),
        { numRuns: RUNS * 5 },
      );
    },
    TIMEOUT_MS,
  );

  it("parses hostile lines of up to 4096 characters with the issue's patterns", () => {
    // No timing here (that is tools/bench/regex.bench.js): with V8, the first line alone would
    // not finish in the lifetime of this test run.
    const { format } = compileLogFormat({
      name: "csv",
      where: { kind: "config", file: "k.conf", line: 1 },
      required: {
        text: "(\\w+\\s?)*$",
        where: { kind: "config", file: "k.conf", line: 2 },
      },
      ipclient: {
        text: "^([^,]+),",
        where: { kind: "config", file: "k.conf", line: 3 },
      },
      port: {
        text: "^.*,.*,.*,.*,.*,(\\d+)$",
        where: { kind: "config", file: "k.conf", line: 4 },
      },
    });
    if (!format) throw new Error("no format");
    fc.assert(
      fc.property(
        fc.integer({ min: 300, max: 4096 }),
        fc.constantFrom("a,", ",", "a ", "aa", "1,"),
        (n, unit) => {
          const line = unit.repeat(Math.ceil(n / unit.length)).slice(0, n);
          const r = parseLogLine(line, format, "f", 0);
          expect(["skip", "reject", "hit"]).toContain(r.kind);
        },
      ),
      { numRuns: Math.max(20, RUNS / 10) },
    );
    expect(parseLogLine("10.0.0.1,a,b,c,d,2222", format, "f", 0)).toMatchObject(
      {
        kind: "hit",
        hit: { srcIp: "10.0.0.1", dstPort: 2222 },
      },
    );
  });
});
