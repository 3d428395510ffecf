import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { splitCommandLine } from "./command-line.ts";

describe("splitCommandLine", () => {
  it.each([
    ["/bin/echo a b", ["/bin/echo", "a", "b"], [0, 10, 12]],
    [`  x "a b"c 'd\\e' "q\\"z"`, ["x", "a bc", "d\\e", 'q"z'], [2, 4, 11, 17]],
    ["--x='a | b'", ["--x=a | b"], [0]],
  ])("%j → words and offsets", (text, words, offsets) => {
    expect(splitCommandLine(text)).toEqual({ ok: true, words, offsets });
  });

  it.each([
    ["echo a | b", "METACHAR", 7],
    ["echo $HOME", "METACHAR", 5],
    ["echo `id`", "METACHAR", 5],
    ["echo a\\ b", "METACHAR", 6],
    ['echo "abc', "QUOTE", 5],
    ["echo 'abc", "QUOTE", 5],
    ["   ", "EMPTY", 0],
  ])("refuses %j: %s at %d", (text, fault, offset) => {
    expect(splitCommandLine(text)).toMatchObject({ ok: false, fault, offset });
  });

  it("never throws and is linear: a 1 MB line of quotes is handled", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (text) => {
        const r = splitCommandLine(text);
        if (r.ok) expect(r.words.length).toBe(r.offsets.length);
      }),
    );
    const r = splitCommandLine(`a ${'"x" '.repeat(250_000)}`);
    expect(r.ok && r.words.length).toBe(250_001);
  });
});

function words(text: string): string[] {
  const r = splitCommandLine(text);
  if (!r.ok) throw new Error(r.message);
  return r.words;
}

describe("splitCommandLine, the template cases", () => {
  it.each<[string, string[]]>([
    ["/bin/myprog", ["/bin/myprog"]],
    ["  /bin/myprog   FLAG0\tFLAG1 ", ["/bin/myprog", "FLAG0", "FLAG1"]],
    ['/bin/echo "a b" c', ["/bin/echo", "a b", "c"]],
    ["/bin/echo 'a \"b\" c'", ["/bin/echo", 'a "b" c']],
    ['/bin/echo "say \\"hi\\" \\\\ \\n"', ["/bin/echo", 'say "hi" \\ \\n']],
    ['--comment="knock from IP"', ["--comment=knock from IP"]],
    ['a "" b', ["a", "", "b"]],
    ['"a;b|c&d$e`f>g<h"', ["a;b|c&d$e`f>g<h"]],
    ["'$HOME'", ["$HOME"]],
  ])("%s", (text, expected) => expect(words(text)).toEqual(expected));

  it.each([
    ["/bin/a | /bin/b", "|", 7],
    ["/bin/a; /bin/b", ";", 6],
    ["/bin/a & ", "&", 7],
    ["/bin/echo $HOME", "$", 10],
    ["/bin/echo `id`", "`", 10],
    ["/bin/echo > /tmp/x", ">", 10],
    ["/bin/cat < /etc/passwd", "<", 9],
    ["/bin/echo a\\ b", "\\", 11],
  ])("refuses %j: says which character (%s)", (text, char, offset) => {
    const r = splitCommandLine(text);
    expect(r).toMatchObject({
      ok: false,
      fault: "METACHAR",
      offset,
    });
    expect(!r.ok && r.message).toContain(JSON.stringify(char));
    expect(!r.ok && r.message).toContain("without a shell");
  });

  it("refuses unclosed quotes and empty lines", () => {
    expect(splitCommandLine('/bin/echo "abc')).toMatchObject({
      ok: false,
      fault: "QUOTE",
      offset: 10,
    });
    expect(splitCommandLine("   ")).toMatchObject({
      ok: false,
      fault: "EMPTY",
    });
  });

  it("round-trips words without metacharacters, quotes or spaces", () => {
    const word = fc.string({
      unit: fc.constantFrom(..."abcXYZ019_-./:=,+@%!~#^*?[]{}()".split("")),
      minLength: 1,
      maxLength: 12,
    });
    fc.assert(
      fc.property(fc.array(word, { minLength: 1, maxLength: 8 }), (ws) => {
        expect(words(ws.join(" "))).toEqual(ws);
      }),
    );
  });

  it("round-trips any words when each is single-quoted", () => {
    const word = fc.string({ maxLength: 12 }).filter((w) => !w.includes("'"));
    fc.assert(
      fc.property(fc.array(word, { minLength: 1, maxLength: 8 }), (ws) => {
        expect(words(ws.map((w) => `'${w}'`).join(" "))).toEqual(ws);
      }),
    );
  });
});
