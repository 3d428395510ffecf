import { appendFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { followLog } from "../src/follow-log.ts";
import type { LogLine } from "../src/types.ts";
import { POLL_MS, SCENARIOS, runScenario } from "./follower-scenarios.ts";
import { logdnaFollower } from "./followers.ts";
import { collect, tempDir } from "./helpers.ts";

describe("followLog: rotation scenarios (shared with the tail comparison)", () => {
  it.each(SCENARIOS.filter((s) => !s.limitation))("$name", async (scenario) => {
    const result = await runScenario(logdnaFollower, scenario);
    expect(result.lines).toEqual(scenario.expected);
  });

  it.each(SCENARIOS.filter((s) => s.limitation))(
    "$name: a documented limit; it recovers without repeating",
    async (scenario) => {
      const result = await runScenario(logdnaFollower, scenario);
      expect(result.completed).toBe(true);
      expect(result.lines.slice(0, 3)).toEqual(["A1", "A2", "A3"]);
      expect(new Set(result.lines).size).toBe(result.lines.length);
      expect(result.lines.at(-1)).toBe("T2");
    },
  );
});

/** Starts following `path`; resolves once the start position is fixed. */
async function start(
  path: string,
  options: Parameters<typeof followLog>[1] = {},
) {
  const controller = new AbortController();
  let ready!: () => void;
  const isReady = new Promise<void>((resolve) => (ready = resolve));
  const got = collect<LogLine>(
    followLog(path, {
      pollIntervalMs: POLL_MS,
      signal: controller.signal,
      onReady: () => ready(),
      ...options,
    }),
  );
  await isReady;
  return { got, controller };
}

describe("followLog", () => {
  it("numbers lines from the start position, and from 1 again after a rotation", async () => {
    const path = join(tempDir(), "fw.log");
    writeFileSync(path, "old\n");
    const { got, controller } = await start(path);
    appendFileSync(path, "a\nb\n");
    await got.waitFor((l) => l.length === 2);
    renameSync(path, `${path}.1`);
    writeFileSync(path, "c\n");
    await got.waitFor((l) => l.length === 3);
    controller.abort();
    expect(await got.ended).toBeUndefined();
    expect(got.items.map((l) => [l.text, l.lineNo, l.file])).toEqual([
      ["a", 1, path],
      ["b", 2, path],
      ["c", 1, path],
    ]);
  });

  it("waits for a file that does not exist yet, then reads it from its start", async () => {
    const path = join(tempDir(), "later.log");
    const { got, controller } = await start(path);
    writeFileSync(path, "n1\nn2\n");
    await got.waitFor((l) => l.length === 2);
    controller.abort();
    await got.ended;
    expect(got.items.map((l) => l.text)).toEqual(["n1", "n2"]);
  });

  it("reads the whole file first with startAt: start", async () => {
    const path = join(tempDir(), "fw.log");
    writeFileSync(path, "s1\ns2\n");
    const { got, controller } = await start(path, { startAt: "start" });
    appendFileSync(path, "s3\n");
    await got.waitFor((l) => l.length === 3);
    controller.abort();
    await got.ended;
    expect(got.items.map((l) => l.text)).toEqual(["s1", "s2", "s3"]);
  });

  it("keeps every line when the consumer is slower than the writer (back-pressure)", async () => {
    const path = join(tempDir(), "fw.log");
    writeFileSync(path, "");
    const controller = new AbortController();
    let ready!: () => void;
    const isReady = new Promise<void>((resolve) => (ready = resolve));
    const lines = followLog(path, {
      pollIntervalMs: POLL_MS,
      signal: controller.signal,
      highWater: 16,
      onReady: () => ready(),
    });
    const seen: string[] = [];
    const consume = (async () => {
      for await (const line of lines) {
        seen.push(line.text);
        if (seen.length % 100 === 0) await new Promise((r) => setImmediate(r));
        if (seen.length === 5000) controller.abort();
      }
    })();
    await isReady;
    const all = Array.from({ length: 5000 }, (_, i) => `line ${i}`);
    appendFileSync(path, all.join("\n") + "\n");
    await consume;
    expect(seen).toEqual(all);
  });

  it("ends at once when the signal is already aborted, and when the consumer breaks", async () => {
    const path = join(tempDir(), "fw.log");
    writeFileSync(path, "");
    const lines: LogLine[] = [];
    for await (const line of followLog(path, { signal: AbortSignal.abort() }))
      lines.push(line);
    expect(lines).toEqual([]);

    let ready!: () => void;
    const isReady = new Promise<void>((resolve) => (ready = resolve));
    const iterable = followLog(path, {
      pollIntervalMs: POLL_MS,
      onReady: () => ready(),
    });
    const broke = (async () => {
      for await (const line of iterable) return line.text;
      return undefined;
    })();
    await isReady;
    appendFileSync(path, "y\n");
    expect(await broke).toBe("y");
  });

  it("ends with LOG_READ_FAILED when the path cannot be opened (not ENOENT)", async () => {
    const file = join(tempDir(), "plain-file");
    writeFileSync(file, "");
    const got = collect(
      followLog(join(file, "fw.log"), { pollIntervalMs: POLL_MS }),
    );
    const ended = await got.ended;
    expect(ended).toMatchObject({
      name: "LogSourceError",
      code: "LOG_READ_FAILED",
      cause: { code: "ENOTDIR" },
    });
    // The OS's reason is in the message the daemon logs (#15).
    expect((ended as Error).message).toMatch(/: ENOTDIR: not a directory/);
  });
});
