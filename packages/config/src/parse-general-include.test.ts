import { describe, expect, it } from "vitest";
import { parseGeneral } from "./parse-general.ts";
import { toPlainObject } from "./general-tree.ts";
import { codes, parse, plain, value } from "../test/parse-general-helpers.ts";

describe("parseGeneral: include", () => {
  it("includes a file relative to the including one, inside a block too", () => {
    const files = {
      "sub/a.conf": "<<include b.conf>>\nfrom_a = 1\n",
      "sub/b.conf": "from_b = 2\n",
      "t.conf": "<template t>\nsystem = x\n</template>\n",
    };
    expect(
      plain("<<include sub/a.conf>>\n<x>\n<<include t.conf>>\n</x>\n", files),
    ).toEqual({
      from_b: "2",
      from_a: "1",
      x: { template: { t: { system: "x" } } },
    });
  });

  it("locates values of an included file in that file", () => {
    const r = parse("a = 1\n<<include inc.conf>>\n", {
      "inc.conf": "\nb = 2\n",
    });
    expect(value(r.tree, "b").where).toEqual({
      kind: "config",
      file: "inc.conf",
      line: 2,
      column: 5,
    });
    expect(r.files).toEqual(["main.conf", "inc.conf"]);
  });

  it("reports an include cycle naming the chain", () => {
    const main = "<<include a.conf>>\n";
    const r = parse(main, {
      "a.conf": "x = 1\n<<include main.conf>>\n",
      "main.conf": main,
    });
    expect(codes(r)).toEqual([["CONFIG_INCLUDE_CYCLE", 2]]);
    expect(r.diagnostics[0]?.where).toMatchObject({ file: "a.conf" });
    expect(r.diagnostics[0]?.message).toContain(
      "main.conf → a.conf → main.conf",
    );
  });

  it("removes quotes around the included path", () => {
    expect(
      plain(`<<include "a.conf">>\n<<Include 'b.conf'>>\n`, {
        "a.conf": "a = 1\n",
        "b.conf": "b = 2\n",
      }),
    ).toEqual({ a: "1", b: "2" });
  });

  it("reports a missing include", () => {
    expect(codes(parse("a = 1\n<<include nope.conf>>\n"))).toEqual([
      ["CONFIG_INCLUDE_FAILED", 2],
    ]);
  });

  it("reports an include when no include callback is given", () => {
    const r = parseGeneral("<<include x.conf>>\n", { file: "m.conf" });
    expect(codes(r)).toEqual([["CONFIG_INCLUDE_FAILED", 1]]);
  });

  it("skips, with a warning, a file included twice", () => {
    const r = parse("<<include a.conf>>\n<<include a.conf>>\n", {
      "a.conf": "x = 1\n",
    });
    expect(codes(r)).toEqual([["CONFIG_INCLUDE_REPEATED", 2]]);
    expect(toPlainObject(r.tree)).toEqual({ x: "1" });
  });
});
