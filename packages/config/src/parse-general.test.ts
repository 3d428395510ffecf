import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { toPlainObject } from "./general-tree.ts";
import { codes, parse, plain, value } from "../test/parse-general-helpers.ts";

describe("parseGeneral: key/value lines", () => {
  it("accepts name = value, name value and name=value, trimmed", () => {
    expect(plain("a = 1\n  b   two words  \nc=3\nd =x= y\n")).toEqual({
      a: "1",
      b: "two words",
      c: "3",
      d: "x= y",
    });
  });

  it("lower-cases keys", () => {
    expect(plain("Knock = IP,PORT\nPORTSPAN 1-2\n")).toEqual({
      knock: "IP,PORT",
      portspan: "1-2",
    });
  });

  it("gives a key without a value the empty string", () => {
    expect(plain("a\nb =\n")).toEqual({ a: "", b: "" });
  });

  it("makes a list of a repeated key, in file order", () => {
    expect(plain("t = x\nt = y\nT = z\n")).toEqual({ t: ["x", "y", "z"] });
  });

  it("reports a line without a key name", () => {
    expect(codes(parse("ok = 1\n= value\n"))).toEqual([["CONFIG_SYNTAX", 2]]);
  });

  it("reads CRLF line endings and a UTF-8 BOM", () => {
    expect(
      plain("\uFEFFa = 1\r\nb = 2\r\nh <<EOT\r\n x\r\n y\r\nEOT\r\n"),
    ).toEqual({ a: "1", b: "2", h: "x\n y" });
  });
});

describe("parseGeneral: comments", () => {
  it("starts a # comment anywhere; \\# is a literal # without its backslash", () => {
    expect(plain("# whole line\na = 1 # trailing\nb = x\\#y # z\n")).toEqual({
      a: "1",
      b: "x#y",
    });
  });

  it("removes /* */ comments on one line and across lines", () => {
    expect(
      plain("a = x /* c */ y\n/* start\nhidden = 1\n  end */\nb = 2\n"),
    ).toEqual({ a: "xy", b: "2" });
  });

  it("keeps a /* that is neither at line start nor closed on the line", () => {
    expect(plain("logfile = /var/log/* \n")).toEqual({
      logfile: "/var/log/*",
    });
  });

  it("warns about */ without /* and drops the line up to it", () => {
    const r = parse("a = 1\nb = x */ c = 3\n");
    expect(codes(r)).toEqual([["CONFIG_STRAY_COMMENT_END", 2]]);
    expect(r.diagnostics[0]?.severity).toBe("warning");
    expect(toPlainObject(r.tree)).toEqual({ a: "1", c: "3" });
  });

  it("warns about a /* comment left open at the end of the file", () => {
    const r = parse("a = 1\n/* open\nb = 2\n");
    expect(codes(r)).toEqual([["CONFIG_UNTERMINATED_COMMENT", 2]]);
    expect(toPlainObject(r.tree)).toEqual({ a: "1" });
  });
});

describe("parseGeneral: values", () => {
  it("removes double quotes that wrap the whole value", () => {
    expect(plain('system = "/bin/myprog FLAG0"\n')).toEqual({
      system: "/bin/myprog FLAG0",
    });
  });

  it("keeps quotes that do not wrap the whole value", () => {
    expect(plain('system = "/bin/a" "b c"\n')).toEqual({
      system: '"/bin/a" "b c"',
    });
  });

  it('turns \\\\, \\", \\$ and \\# into the character', () => {
    expect(plain('a = x\\\\y \\"q\\" \\$z \\d\n')).toEqual({
      a: 'x\\y "q" $z \\d',
    });
  });

  it("continues a line ending in \\ on the next one", () => {
    expect(plain("a = one \\\n    two \\\n three\nb = 2\n")).toEqual({
      a: "one two three",
      b: "2",
    });
  });

  it("keeps a continued last line and warns", () => {
    const r = parse("a = 1\nb = 2 \\");
    expect(codes(r)).toEqual([["CONFIG_CONTINUATION_EOF", 2]]);
    expect(toPlainObject(r.tree)).toEqual({ a: "1", b: "2" });
  });
});

describe("parseGeneral: here-documents", () => {
  it("reads name <<EOT … EOT, dropping the first line's indentation", () => {
    expect(
      plain("text <<EOT\n   first\n     second\n  # not a comment\nEOT\n"),
    ).toEqual({ text: "first\n     second\n  # not a comment" });
  });

  it("removes the end marker's indentation from every line", () => {
    expect(plain("text = <<EOT\n   first\n     second\n  EOT\n")).toEqual({
      text: "first\n   second",
    });
  });

  it("reports a here-document without its end marker", () => {
    expect(codes(parse("a = 1\ntext <<EOT\nbody\n"))).toEqual([
      ["CONFIG_UNTERMINATED_HEREDOC", 2],
    ]);
  });

  it("locates the value on the first body line", () => {
    const r = parse("\ntext <<EOT\nbody\nEOT\n");
    expect(value(r.tree, "text").where).toEqual({
      kind: "config",
      file: "main.conf",
      line: 3,
      column: 1,
    });
  });
});

describe("parseGeneral: blocks", () => {
  it("lower-cases block types and keeps the case of block names", () => {
    expect(plain("<Template Exec_MyProg>\nSystem = x\n</TEMPLATE>\n")).toEqual({
      template: { Exec_MyProg: { system: "x" } },
    });
  });

  it("makes an ordered list of repeated anonymous blocks", () => {
    expect(
      plain(
        "<actions>\n<action>\nn = 1\n</action>\n<action>\nn = 2\n</action>\n</actions>\n",
      ),
    ).toEqual({ actions: { action: [{ n: "1" }, { n: "2" }] } });
  });

  it("makes a map of named blocks", () => {
    expect(
      plain('<f a>\nx = 1\n</f>\n<f "b c">\nx = 2\n</f>\n<f d e>\n</f>\n'),
    ).toEqual({ f: { a: { x: "1" }, "b c": { x: "2" }, "d e": {} } });
  });

  it("reads <name/> and <name X/> as empty blocks", () => {
    expect(plain("<e/>\n<f g/>  \n")).toEqual({ e: {}, f: { g: {} } });
    expect(plain("key = <b/>\n")).toEqual({ key: "<b/>" });
  });

  it("reports a repeated block name with both lines", () => {
    const r = parse("<t x>\n</t>\n<t x>\na = 1\n</t>\n");
    expect(codes(r)).toEqual([["CONFIG_DUPLICATE_BLOCK", 3]]);
    expect(r.diagnostics[0]?.message).toContain("main.conf:1");
  });

  it("reports an unclosed block at its opening line", () => {
    expect(codes(parse("a = 1\n<actions>\n<action>\n</action>\n"))).toEqual([
      ["CONFIG_UNCLOSED_BLOCK", 2],
    ]);
  });

  it("reports a close without an open block", () => {
    expect(codes(parse("a = 1\n</actions>\n"))).toEqual([
      ["CONFIG_STRAY_CLOSE", 2],
    ]);
  });

  it("reports a close that does not match the open block", () => {
    expect(codes(parse("<a>\n<b>\n</c>\n</a>\n"))).toEqual([
      ["CONFIG_MISMATCHED_CLOSE", 3],
    ]);
    // A close that matches an outer block closes it and reports the inner one.
    expect(codes(parse("<a>\n<b>\nx = 1\n</a>\ny = 2\n"))).toEqual([
      ["CONFIG_MISMATCHED_CLOSE", 4],
    ]);
  });

  it("reports a name used both as a key and as a block", () => {
    expect(codes(parse("a = 1\n<a>\n</a>\n<b>\n</b>\nb = 2\n"))).toEqual([
      ["CONFIG_KEY_CONFLICT", 2],
      ["CONFIG_KEY_CONFLICT", 6],
    ]);
    expect(codes(parse("<a>\n</a>\n<a x>\n</a>\n"))).toEqual([
      ["CONFIG_KEY_CONFLICT", 3],
    ]);
  });

  it("collects every error of a file", () => {
    const r = parse("</x>\n= 1\n<t n>\n</t>\n<t n>\n</t>\n<open>\n");
    expect(codes(r)).toEqual([
      ["CONFIG_STRAY_CLOSE", 1],
      ["CONFIG_SYNTAX", 2],
      ["CONFIG_DUPLICATE_BLOCK", 5],
      ["CONFIG_UNCLOSED_BLOCK", 7],
    ]);
  });
});

describe("parseGeneral: locations", () => {
  it("keeps file, line and the column of the value's first character", () => {
    const r = parse("# c\n  Knock   =   IP,PORT\n/* x */ b c\n");
    expect(value(r.tree, "knock").where).toEqual({
      kind: "config",
      file: "main.conf",
      line: 2,
      column: 15,
    });
    expect(value(r.tree, "knock").keyWhere.column).toBe(3);
    expect(value(r.tree, "b").where).toMatchObject({ line: 3, column: 11 });
  });

  it("locates a block at its opening line", () => {
    const r = parse("\n\n  <actions>\n  </actions>\n");
    const entry = r.tree.entries.get("actions");
    expect(entry?.kind === "blocks" && entry.blocks[0]?.where).toEqual({
      kind: "config",
      file: "main.conf",
      line: 3,
      column: 3,
    });
  });
});

describe("parseGeneral: robustness", () => {
  it("stays linear on long runs of whitespace", () => {
    // Each of these took seconds to minutes with regexes that backtrack over whitespace.
    const run = " ".repeat(200_000);
    const r = parse(
      `a = x${run}y\nh <<EOT\na${run}b\nEOT\nk${run}= <<\n${run}/* open\n`,
    );
    expect(toPlainObject(r.tree)).toEqual({
      a: `x${run}y`,
      h: `a${run}b`,
      k: "<<",
    });
  });

  it("makes __proto__ an ordinary key", () => {
    const tree = plain("__proto__ = x\n<b __proto__>\n</b>\n");
    expect(Object.getPrototypeOf(tree)).toBe(Object.prototype);
  });

  it("never throws on arbitrary text", () => {
    const pieces = fc.constantFrom(
      "<",
      ">",
      "</",
      "/>",
      "<<",
      "<<include x>>",
      "EOT",
      "#",
      "\\",
      '"',
      "=",
      " ",
      "\n",
      "/*",
      "*/",
      "a",
      "\r",
    );
    const text = fc.oneof(
      fc.string({ unit: "binary", maxLength: 200 }),
      fc.array(pieces, { maxLength: 60 }).map((p) => p.join("")),
    );
    fc.assert(
      fc.property(text, (t) => {
        const r = parse(t, { x: "<<include x>>\n<a\n" });
        // A plain check: `expect` per diagnostic made this test take seconds.
        const bad = r.diagnostics.find((d) => !d.code.startsWith("CONFIG_"));
        if (bad) throw new Error(`unexpected code ${bad.code}`);
      }),
      { numRuns: 500 },
    );
  }, 60_000);
});
