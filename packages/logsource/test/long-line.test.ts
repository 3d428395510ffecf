/**
 * Issue #16: a replayed line of 32 MB is read in linear time (the speed is measured by
 * `node tools/bench/run.js logsource`, not here) and gives the right lines: the knocks around
 * it are found, and it is one `LOG_LINE_TOO_LONG` rejection, in every reader and lane.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "./helpers.ts";
import { corpus, format, viaBatches, viaColumns } from "./replay-helpers.ts";

const LONG_BYTES = 32 * 1024 * 1024;

describe("a 32 MB line in a replayed file", () => {
  it("replays to the right line count and hits, and is LOG_LINE_TOO_LONG (#16)", async () => {
    const knock = corpus().find((l) => l.includes("SRC=203.0.113.7 "))!;
    const path = join(tempDir(), "long.log");
    const long = `${knock} ${"x".repeat(LONG_BYTES)}`;
    writeFileSync(
      path,
      `${knock}\nnoise\n${long}\n${knock}\n${"y".repeat(LONG_BYTES)}\n${knock}`,
    );
    const expected = {
      lines: 6,
      rejections: [["LOG_LINE_TOO_LONG", 3]],
    };
    const batches = await viaBatches(path, format);
    expect(batches).toMatchObject(expected);
    expect(batches.hits.map((h) => h.origin)).toEqual(
      [1, 4, 6].map((n) => `${path}:${n}`),
    );
    for (const [workers, blockBytes] of [
      [0, 1024 * 1024],
      [0, 64 * 1024],
      [2, 1024 * 1024],
    ] as const) {
      const columns = await viaColumns(path, format, workers, blockBytes);
      expect(columns).toMatchObject(expected);
      expect(columns.hits).toEqual(batches.hits);
    }
  }, 60_000);
});
