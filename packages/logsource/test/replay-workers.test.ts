/**
 * Replay workers started ahead (`prestartReplay`, as `knockd -replay` starts them before it
 * loads): whether the replay takes them and their blocks over or starts them over, and whether
 * one of them dies on the way, the hits are those of `nextBatch`, and the counters say who
 * parsed what. The workers run the built `dist/replay-worker.js` (CI builds before testing).
 */
import { appendFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Worker } from "node:worker_threads";
import { describe, expect, it, onTestFinished } from "vitest";
import type { PrestartedReplay } from "../src/prestart-replay.ts";
import { prestartReplay } from "../src/prestart-replay.ts";
import { tempDir } from "./helpers.ts";
import {
  format,
  viaBatches,
  viaColumns,
  writeCorpus,
  customFormat,
} from "./replay-helpers.ts";

const BLOCK = 2048;

/** `n` workers started ahead on `path`, stopped after the test if nobody took them. */
function prestart(path: string, n: number): PrestartedReplay {
  const started = prestartReplay(path, { workers: n, blockBytes: BLOCK });
  onTestFinished(() => started.close());
  return started;
}

/** Resolves once the workers have claimed `blocks` blocks between them (fails after 10 s). */
async function claimed(started: PrestartedReplay, blocks: number) {
  const until = Date.now() + 10_000;
  while (started.blocksClaimed() < blocks && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 5));
  }
  expect(started.blocksClaimed()).toBeGreaterThanOrEqual(blocks);
}

describe("replay workers started ahead (prestartReplay)", () => {
  it("the replay takes over the workers and the blocks they parsed (same file, built-in format)", async () => {
    const path = writeCorpus(tempDir(), 12, true);
    const started = prestart(path, 2);
    expect(started).toMatchObject({ workers: 2, blockBytes: BLOCK });
    await claimed(started, 4);
    // No replayBlockBytes: the prestarted workers' block size is the default.
    const got = await viaColumns(path, format, started);
    const expected = await viaBatches(path, format);
    expect(got.hits).toEqual(expected.hits);
    expect(got.lines).toBe(expected.lines);
    expect(got.rejections).toEqual(expected.rejections);
    // 4 claimed, at most one in progress per worker when the job came: 2 or more were done.
    expect(got.blocks.workersTakenOver).toBe(2);
    expect(got.blocks.blocksTakenOver).toBeGreaterThanOrEqual(2);
    expect(got.blocks.blocksByWorkers).toBeGreaterThanOrEqual(
      got.blocks.blocksTakenOver,
    );
    // Taken once: closing the handle afterwards stops nothing of the replay's.
    expect(started.take()).toBeUndefined();
  });

  it("starts them over for another format, or a file that grew", async () => {
    const dir = tempDir();
    const path = writeCorpus(dir, 12, true);
    const custom = customFormat();
    let started = prestart(path, 2);
    await claimed(started, 4);
    const other = await viaColumns(path, custom, started, BLOCK);
    expect(other.hits).toEqual((await viaBatches(path, custom)).hits);
    expect(other.blocks).toMatchObject({
      blocksTakenOver: 0,
      workersTakenOver: 0,
    });

    started = prestart(path, 2);
    await claimed(started, 4);
    appendFileSync(
      path,
      "Nov 25 08:23:27 gw kernel: KNOCK IN=lo OUT= MAC= SRC=10.9.9.9 DST=127.0.0.1 LEN=60 PROTO=TCP SPT=1 DPT=4242 SYN\n",
    );
    const grown = await viaColumns(path, format, started, BLOCK);
    const expected = await viaBatches(path, format);
    expect(grown.hits).toEqual(expected.hits);
    expect(grown.hits.at(-1)).toMatchObject({
      srcIp: "10.9.9.9",
      dstPort: 4242,
    });
    expect(grown.blocks).toMatchObject({
      blocksTakenOver: 0,
      workersTakenOver: 0,
    });
  });

  it("loses nothing when one of them died before the replay took them", async () => {
    const path = writeCorpus(tempDir(), 12, true);
    const started = prestart(path, 2);
    await claimed(started, 6);
    const taken = started.take()!;
    const [dead, alive] = taken.workers as Worker[];
    await dead!.terminate();
    const got = await viaColumns(
      path,
      format,
      { ...started, take: () => ({ ...taken, workers: [undefined, alive] }) },
      BLOCK,
    );
    const expected = await viaBatches(path, format);
    expect(got.hits).toEqual(expected.hits);
    expect(got.lines).toBe(expected.lines);
    expect(got.blocks.workersTakenOver).toBe(1);
  });

  it("starts none for a file of one block or a missing one; the replay still works", async () => {
    const dir = tempDir();
    const small = join(dir, "small.log");
    writeFileSync(small, "x\n".repeat(BLOCK / 4));
    const one = prestart(small, 2);
    expect(one.workers).toBe(0);
    expect(one.take()).toBeUndefined();
    expect(prestart(join(dir, "nope.log"), 2).workers).toBe(0);
    const got = await viaColumns(small, format, one, BLOCK);
    expect(got.lines).toBe(BLOCK / 4);
    expect(got.blocks).toMatchObject({ blocks: 1, blocksByWorkers: 0 });
  });

  it("closed before the replay: the replay starts its own workers", async () => {
    const path = writeCorpus(tempDir(), 12, true);
    const started = prestart(path, 1);
    await started.close();
    expect(started.take()).toBeUndefined();
    const got = await viaColumns(path, format, started, BLOCK);
    expect(got.hits).toEqual((await viaBatches(path, format)).hits);
    expect(got.blocks).toMatchObject({
      blocksTakenOver: 0,
      workersTakenOver: 0,
    });
  });
});
