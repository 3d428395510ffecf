/**
 * Replay workers started ahead (`@portknock/logsource/replay-worker` with a speculation, as
 * `knockd -replay` starts them): whether the replay takes their blocks over or starts them
 * over, and whether one of them dies on the way, the hits are those of `nextBatch`. The
 * workers run the built `dist/replay-worker.js` (CI builds before testing).
 */
import { appendFileSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Worker } from "node:worker_threads";
import { describe, expect, it } from "vitest";
import type {
  ReplaySpeculation,
  StartedReplayWorkers,
} from "../src/replay-blocks.ts";
import { controlFor, startReplayWorker } from "../src/replay-blocks.ts";
import { tempDir } from "./helpers.ts";
import {
  format,
  viaBatches,
  viaColumns,
  writeCorpus,
  customFormat,
} from "./replay-helpers.ts";

const SCRIPT = fileURLToPath(
  new URL("../dist/replay-worker.js", import.meta.url),
);
const BLOCK = 2048;

/** `n` workers speculating on `path` as it is now. */
function speculate(path: string, n: number): StartedReplayWorkers {
  const speculation: Omit<ReplaySpeculation, "slot"> = {
    path: resolve(path),
    size: statSync(path).size,
    blockBytes: BLOCK,
    control: controlFor(n),
    window: 8,
  };
  const workers: Worker[] = [];
  for (let slot = 0; slot < n; slot++) {
    workers.push(
      startReplayWorker(SCRIPT, { speculate: { ...speculation, slot } }),
    );
  }
  return { workers, speculation };
}

/** Resolves once the workers have claimed `blocks` blocks between them. */
async function claimed(started: StartedReplayWorkers, blocks: number) {
  const ctl = new Int32Array(started.speculation!.control);
  const until = Date.now() + 10_000;
  while (Atomics.load(ctl, 0) < blocks && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 5));
  }
  expect(Atomics.load(ctl, 0)).toBeGreaterThanOrEqual(blocks);
}

describe("replay workers started ahead", () => {
  it("the replay takes over the blocks they parsed (same file, built-in format)", async () => {
    const path = writeCorpus(tempDir(), 12, true);
    const started = speculate(path, 2);
    await claimed(started, 4);
    const got = await viaColumns(path, format, started, BLOCK);
    const expected = await viaBatches(path, format);
    expect(got.hits).toEqual(expected.hits);
    expect(got.lines).toBe(expected.lines);
    expect(got.rejections).toEqual(expected.rejections);
  });

  it("starts them over for another format, or a file that grew", async () => {
    const dir = tempDir();
    const path = writeCorpus(dir, 12, true);
    const custom = customFormat();
    let started = speculate(path, 2);
    await claimed(started, 4);
    const other = await viaColumns(path, custom, started, BLOCK);
    expect(other.hits).toEqual((await viaBatches(path, custom)).hits);

    started = speculate(path, 2);
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
  });

  it("loses nothing when one of them died before the replay took them", async () => {
    const path = writeCorpus(tempDir(), 12, true);
    const started = speculate(path, 2);
    await claimed(started, 6);
    const [dead, alive] = started.workers as Worker[];
    await dead!.terminate();
    const got = await viaColumns(
      path,
      format,
      { ...started, workers: [undefined, alive] },
      BLOCK,
    );
    const expected = await viaBatches(path, format);
    expect(got.hits).toEqual(expected.hits);
    expect(got.lines).toBe(expected.lines);
  });
});
