import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseCommand, splitCommandLine } from "./parse-command.ts";
import type { CommandWord } from "./parse-command.ts";
import { knownVariables } from "./variables.ts";

const variables = knownVariables(["IP", "PORT", "FLAG0", "CHECKSUM"]);
const where = {
  kind: "config" as const,
  file: "knockdaemon.conf",
  line: 9,
  column: 12,
};

function words(text: string): string[] {
  const r = splitCommandLine(text);
  if (!r.ok) throw new Error(r.message);
  return r.words;
}

function show(ws: CommandWord[]): string[] {
  return ws.map((w) =>
    w.map((p) => (p.kind === "var" ? `{${p.name}}` : p.text)).join(""),
  );
}

describe("splitCommandLine", () => {
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
      code: "ENGINE_COMMAND_METACHAR",
      offset,
    });
    expect(!r.ok && r.message).toContain(JSON.stringify(char));
    expect(!r.ok && r.message).toContain("without a shell");
  });

  it("refuses unclosed quotes and empty lines", () => {
    expect(splitCommandLine('/bin/echo "abc')).toMatchObject({
      ok: false,
      code: "ENGINE_COMMAND_QUOTE",
      offset: 10,
    });
    expect(splitCommandLine("   ")).toMatchObject({
      ok: false,
      code: "ENGINE_COMMAND_EMPTY",
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

describe("parseCommand", () => {
  it("substitutes whole words only", () => {
    const r = parseCommand(
      "/sbin/iptables -D INPUT -p tcp -s IP/32 -d 0/0 --dport PORT --syn -j ACCEPT IPX MYIP IP_1 PORT:PORT",
      { variables, where },
    );
    expect(r.diagnostics).toEqual([]);
    expect(show(r.words!)).toEqual([
      "/sbin/iptables",
      "-D",
      "INPUT",
      "-p",
      "tcp",
      "-s",
      "{IP}/32",
      "-d",
      "0/0",
      "--dport",
      "{PORT}",
      "--syn",
      "-j",
      "ACCEPT",
      "IPX",
      "MYIP",
      "IP_1",
      "{PORT}:{PORT}",
    ]);
  });

  it("substitutes inside quoted words and computed variables", () => {
    const r = parseCommand(`/usr/bin/logger "knock from IP at NOW" CLIENT`, {
      variables,
      where,
    });
    expect(show(r.words!)).toEqual([
      "/usr/bin/logger",
      "knock from {IP} at {NOW}",
      "{CLIENT}",
    ]);
  });

  it("warns about a field this knock format lacks and leaves it literal", () => {
    const r = parseCommand("/bin/myprog FLAG0 FLAG1", { variables, where });
    expect(show(r.words!)).toEqual(["/bin/myprog", "{FLAG0}", "FLAG1"]);
    expect(r.diagnostics).toMatchObject([
      {
        code: "ENGINE_FIELD_UNAVAILABLE",
        severity: "warning",
        where: { line: 9, column: 30 },
      },
    ]);
  });

  it("reports metacharacters at their column", () => {
    const r = parseCommand("/bin/a IP; /bin/b", { variables, where });
    expect(r.words).toBeUndefined();
    expect(r.diagnostics).toMatchObject([
      { code: "ENGINE_COMMAND_METACHAR", where: { line: 9, column: 21 } },
    ]);
  });
});
