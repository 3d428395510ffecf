import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createLineSplitter } from "./line-splitter.ts";

function splitAll(chunks: Uint8Array[], maxLineBytes?: number) {
  const lines: string[] = [];
  const overlong: number[] = [];
  const splitter = createLineSplitter((l) => lines.push(l), {
    maxLineBytes,
    onOverlong: (n) => overlong.push(n),
  });
  for (const c of chunks) splitter.write(c);
  return { lines, overlong, splitter };
}

describe("createLineSplitter", () => {
  it("splits on \\n, drops a \\r before it, holds the partial last line", () => {
    const { lines, splitter } = splitAll([Buffer.from("a\r\nb\nc")]);
    expect(lines).toEqual(["a", "b"]);
    expect(splitter.pendingBytes).toBe(1);
    splitter.flush();
    expect(lines).toEqual(["a", "b", "c"]);
    splitter.flush(); // nothing more held
    expect(lines).toHaveLength(3);
  });

  it("keeps a UTF-8 character split between chunks whole", () => {
    const bytes = Buffer.from("caf\u00e9 \u{1f600}\n");
    const { lines } = splitAll([...bytes].map((b) => Uint8Array.of(b)));
    expect(lines).toEqual(["caf\u00e9 \u{1f600}"]);
  });

  it("keeps the first maxLineBytes of a longer line and reports its length", () => {
    const { lines, overlong } = splitAll(
      [Buffer.from("x".repeat(10)), Buffer.from("yy\nz\n")],
      8,
    );
    expect(lines).toEqual(["xxxxxxxx", "z"]);
    expect(overlong).toEqual([12]);
  });

  it("gives the same lines however the bytes are cut into chunks", () => {
    fc.assert(
      fc.property(
        fc.string({ unit: "grapheme", maxLength: 200 }),
        fc.array(fc.nat(200), { maxLength: 10 }),
        (text, cuts) => {
          const bytes = Buffer.from(text);
          const points = [
            ...new Set(cuts.map((c) => c % (bytes.length + 1))),
          ].sort((a, b) => a - b);
          const chunks: Uint8Array[] = [];
          let from = 0;
          for (const p of [...points, bytes.length]) {
            chunks.push(bytes.subarray(from, p));
            from = p;
          }
          const { lines, splitter } = splitAll(chunks);
          splitter.flush();
          const expected = text.split("\n").map((l) => l.replace(/\r$/, ""));
          if (text.endsWith("\n") || text === "") expected.pop();
          expect(lines).toEqual(expected);
        },
      ),
    );
  });
});
