import { writeFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { readLogFile } from "../src/read-log-file.ts";
import type { LogLine } from "../src/types.ts";
import { tempDir } from "./helpers.ts";

async function readAll(path: string, chunkBytes?: number): Promise<LogLine[]> {
  const lines: LogLine[] = [];
  for await (const line of readLogFile(path, { chunkBytes })) lines.push(line);
  return lines;
}

describe("readLogFile", () => {
  it("reads every line with its number; CRLF, empty lines and a last line without newline", async () => {
    const path = join(tempDir(), "fw.log");
    writeFileSync(path, "one\r\n\ntwo\nthree");
    expect(await readAll(path)).toEqual([
      { text: "one", file: path, lineNo: 1 },
      { text: "", file: path, lineNo: 2 },
      { text: "two", file: path, lineNo: 3 },
      { text: "three", file: path, lineNo: 4 },
    ]);
  });

  it("reads an empty file as no lines, and lines longer than a chunk whole", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "empty"), "");
    expect(await readAll(join(dir, "empty"))).toEqual([]);
    const long = "x".repeat(5000);
    writeFileSync(join(dir, "long"), `a\n${long}\nb\n`);
    expect((await readAll(join(dir, "long"), 64)).map((l) => l.text)).toEqual([
      "a",
      long,
      "b",
    ]);
  });

  it("gives the same lines for any text and chunk size", async () => {
    const dir = tempDir();
    let n = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.string({ unit: "grapheme", maxLength: 300 }),
        fc.integer({ min: 1, max: 64 }),
        async (text, chunkBytes) => {
          const path = join(dir, `f${n++}`);
          writeFileSync(path, text);
          const expected = text.split("\n").map((l) => l.replace(/\r$/, ""));
          if (text.endsWith("\n") || text === "") expected.pop();
          expect((await readAll(path, chunkBytes)).map((l) => l.text)).toEqual(
            expected,
          );
        },
      ),
      { numRuns: 200 },
    );
  });

  it("stops after the lines already read when aborted", async () => {
    const path = join(tempDir(), "fw.log");
    writeFileSync(
      path,
      Array.from({ length: 1000 }, (_, i) => `line ${i}`).join("\n"),
    );
    const controller = new AbortController();
    const seen: string[] = [];
    for await (const line of readLogFile(path, {
      signal: controller.signal,
      chunkBytes: 100,
    })) {
      seen.push(line.text);
      controller.abort();
    }
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.length).toBeLessThan(20);
  });

  it("rejects with the Node error for a missing file", async () => {
    await expect(readAll(join(tempDir(), "missing"))).rejects.toMatchObject({
      code: "ENOENT",
    });
  });
});
