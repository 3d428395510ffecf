/**
 * `nextColumns` on a replayed file (blocks, fast lane, worker threads) against `nextBatch` on
 * the same file (one text at a time, `decodeLogLine` on every line): the same hits, numbers,
 * line numbers, counters and rejections, whatever the block size and the number of workers.
 * The workers run the built `dist/replay-worker.js` (CI builds before testing; a test below
 * fails when it is not found, rather than letting "2 workers" pass on this thread alone).
 */
import { execFileSync, spawn } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { packageFile } from "../src/package-file.ts";
import { parseBlock } from "../src/read-block.ts";
import { workerScript } from "../src/replay-protocol.ts";
import { tempDir } from "./helpers.ts";
import {
  corpus,
  format,
  viaBatches,
  viaColumns,
  writeCorpus,
  customFormat,
} from "./replay-helpers.ts";
import { openSync, closeSync, statSync } from "node:fs";

describe("nextColumns on a replayed file", () => {
  it.each([
    [0, 1024 * 1024],
    [0, 700],
    [2, 700],
    [1, 97], // blocks shorter than most lines: many own no line
    [2, 4096],
  ])(
    "gives nextBatch's hits (workers %i, blocks of %i bytes)",
    async (workers, blockBytes) => {
      const path = writeCorpus(tempDir(), 12, blockBytes !== 4096);
      const expected = await viaBatches(path, format);
      const got = await viaColumns(path, format, workers, blockBytes);
      expect(got.blocks.blocks).toBe(
        Math.ceil(statSync(path).size / blockBytes),
      );
      expect(got.blocks.blocksByWorkers).toBeLessThanOrEqual(got.blocks.blocks);
      if (workers === 0) expect(got.blocks.blocksByWorkers).toBe(0);
      expect(got.hits).toEqual(expected.hits);
      expect(got.lines).toBe(expected.lines);
      expect(got.counts).toEqual(expected.counts);
      expect(got.rejections).toEqual(expected.rejections);
      // Some hits went through the fast lane (not those of 64 KiB texts with UTF-8 in them).
      if (blockBytes < 4096) expect(got.fast).toBeGreaterThan(0);
      expect(got.fast).toBeLessThan(expected.hits.length);
    },
  );

  it("finds the built worker script and scanner, wherever it is loaded from (#14)", () => {
    // Without them a replay still gives the right hits, on this thread alone and slower: only
    // this test notices.
    const dist = fileURLToPath(new URL("../dist/", import.meta.url));
    expect(workerScript()).toBe(join(dist, "replay-worker.js"));
    expect(existsSync(packageFile("scan.wasm"))).toBe(true);
  });

  it("takes the usual IPv4 records through the fast lane (ASCII text)", async () => {
    const dir = tempDir();
    const path = join(dir, "ascii.log");
    const lines = corpus().filter((l) => Buffer.byteLength(l) === l.length);
    writeFileSync(path, lines.join("\n"));
    const expected = await viaBatches(path, format);
    const got = await viaColumns(path, format, 0, 1024 * 1024);
    expect(got.hits).toEqual(expected.hits);
    expect(got.fast).toBeGreaterThan(expected.hits.length / 2);
  });

  it("gives nextBatch's hits with a <logformat> block (no fast lane)", async () => {
    const f = customFormat();
    const path = writeCorpus(tempDir(), 5, true);
    const expected = await viaBatches(path, f);
    const got = await viaColumns(path, f, 2, 512);
    expect(got.hits).toEqual(expected.hits);
    expect(got.rejections).toEqual(expected.rejections);
    expect(got.fast).toBe(0);
    expect(expected.hits.length).toBeGreaterThan(0);
  });

  it("refuses a pipe, even one with a writer: LOG_NOT_REGULAR (#16)", async () => {
    const dir = tempDir();
    const path = writeCorpus(dir, 3, true);
    const fifo = join(dir, "fifo");
    execFileSync("mkfifo", [fifo]);
    const writer = spawn("sh", ["-c", 'cat "$1" > "$2"', "sh", path, fifo]);
    const written = new Promise((r) => writer.on("close", r));
    await expect(viaColumns(fifo, format, 2, 700)).rejects.toMatchObject({
      code: "LOG_NOT_REGULAR",
    });
    writer.kill();
    await written;
  });

  it("an empty file and a missing one", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "empty.log"), "");
    expect(
      await viaColumns(join(dir, "empty.log"), format, 2, 64),
    ).toMatchObject({
      hits: [],
      lines: 0,
    });
    await expect(
      viaColumns(join(dir, "nope.log"), format, 2, 64),
    ).rejects.toMatchObject({
      code: "ENOENT",
    });
  });
});

describe("parseBlock", () => {
  it("each line belongs to the block it starts in", () => {
    const dir = tempDir();
    const path = join(dir, "b.log");
    // Lines of 10 bytes with the newline: blocks of 25 bytes start mid-line.
    writeFileSync(
      path,
      ["aaaaaaaaa", "bbbbbbbbb", "ccccccccc", "ddddddddd", "eee"].join("\n"),
    );
    const fd = openSync(path, "r");
    try {
      const size = statSync(path).size;
      const lines = [0, 1].map(
        (b) => parseBlock(fd, size, b, 25, format).lines,
      );
      // Block 0 = bytes 0-24: lines starting at 0, 10, 20; block 1: at 30, 40.
      expect(lines).toEqual([3, 2]);
      // A line that starts exactly at a block's first byte is that block's.
      expect(
        [0, 1, 2, 3, 4].map((b) => parseBlock(fd, size, b, 10, format).lines),
      ).toEqual([1, 1, 1, 1, 1]);
    } finally {
      closeSync(fd);
    }
  });
});
