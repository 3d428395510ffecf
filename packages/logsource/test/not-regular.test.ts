/**
 * Issue #16: a log path that is (or becomes) a FIFO, a device or a directory. The follower never
 * opens it (no libuv thread blocked on a FIFO without a writer, no endless read of a device):
 * each check refuses it, counted and logged once a minute, and following resumes when a regular
 * file is back. A replay of one is `LOG_NOT_REGULAR`, at once.
 */
import { execFileSync } from "node:child_process";
import {
  appendFileSync,
  mkdirSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { LogSourceError } from "../src/errors.ts";
import { followLog } from "../src/follow-log.ts";
import { builtinLogFormat } from "../src/log-format.ts";
import { createLogHitSource } from "../src/log-hit-source.ts";
import { readLogFile } from "../src/read-log-file.ts";
import { createBlockReplay } from "../src/replay-blocks.ts";
import type { LogLine } from "../src/types.ts";
import { POLL_MS } from "./follower-scenarios.ts";
import { collect, events, recordingLogger, tempDir } from "./helpers.ts";

const mkfifo = (path: string): void => {
  execFileSync("mkfifo", [path]);
};

/** Follows `path`, counting refusals; resolves once the start position is fixed. */
async function follow(path: string) {
  const controller = new AbortController();
  const logger = recordingLogger();
  const kinds: string[] = [];
  let ready!: () => void;
  const isReady = new Promise<void>((resolve) => (ready = resolve));
  const got = collect<LogLine>(
    followLog(path, {
      pollIntervalMs: POLL_MS,
      signal: controller.signal,
      logger,
      onReady: () => ready(),
      onNotRegular: (kind) => kinds.push(kind),
    }),
  );
  await isReady;
  return { got, controller, logger, kinds };
}

/** Resolves once `done()` holds, checked every poll; rejects after 5 s. */
function until(done: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  return new Promise((resolve, reject) => {
    const check = (): void => {
      if (done()) resolve();
      else if (Date.now() > deadline) reject(new Error("timed out"));
      else setTimeout(check, POLL_MS);
    };
    check();
  });
}

const refusals = (logger: ReturnType<typeof recordingLogger>) =>
  events(logger, "source.not_regular");

describe("followLog on a path that is not a regular file (#16)", () => {
  it("a FIFO put in place of the log: refused at each check, then the new file is read", async () => {
    const path = join(tempDir(), "fw.log");
    writeFileSync(path, "old\n");
    const { got, controller, logger, kinds } = await follow(path);
    appendFileSync(path, "a\n");
    await got.waitFor((l) => l.length === 1);
    appendFileSync(path, "late\n"); // written just before the rotation
    renameSync(path, `${path}.1`);
    mkfifo(path); // no writer: opening it would block
    await until(() => kinds.length >= 3);
    rmSync(path);
    writeFileSync(path, "b\n");
    await got.waitFor((l) => l.length === 3);
    controller.abort();
    expect(await got.ended).toBeUndefined();
    expect(got.items.map((l) => [l.text, l.lineNo])).toEqual([
      ["a", 1],
      ["late", 2],
      ["b", 1],
    ]);
    expect(new Set(kinds)).toEqual(new Set(["a FIFO (named pipe)"]));
    // Counted at every check, logged once a minute.
    expect(refusals(logger)).toHaveLength(1);
    expect(refusals(logger)[0]).toMatchObject({
      level: "error",
      fields: { code: "LOG_NOT_REGULAR", source: path },
    });
  });

  it("a device (a link to /dev/zero) from the start: never read; a regular file then is read from its start", async () => {
    const dir = tempDir();
    const path = join(dir, "fw.log");
    symlinkSync("/dev/zero", path);
    const { got, controller, kinds } = await follow(path);
    await until(() => kinds.length >= 2);
    expect(got.items).toEqual([]);
    rmSync(path);
    writeFileSync(path, "n1\n");
    await got.waitFor((l) => l.length === 1);
    controller.abort();
    expect(await got.ended).toBeUndefined();
    expect(got.items.map((l) => l.text)).toEqual(["n1"]);
    expect(kinds[0]).toBe("a character device");
  });

  it("a LogHitSource counts the refusals in stats.rejections.LOG_NOT_REGULAR and stops at once", async () => {
    const path = join(tempDir(), "fw.log");
    mkfifo(path);
    const source = createLogHitSource({
      path,
      format: builtinLogFormat("iptables"),
      pollIntervalMs: POLL_MS,
    });
    const it = source[Symbol.asyncIterator]();
    const next = it.next();
    await until(() => source.stats.rejections.LOG_NOT_REGULAR >= 2);
    await source.close();
    expect(await next).toEqual({ value: undefined, done: true });
  });
});

describe("a replay of a path that is not a regular file (#16)", () => {
  const cases = (): [string, string][] => {
    const dir = tempDir();
    const fifo = join(dir, "fifo");
    mkfifo(fifo);
    const sub = join(dir, "sub");
    mkdirSync(sub);
    return [
      [fifo, "a FIFO"],
      ["/dev/zero", "a character device"],
      [sub, "a directory"],
    ];
  };

  it("readLogFile rejects with LOG_NOT_REGULAR, without blocking or reading", async () => {
    for (const [path, kind] of cases()) {
      const error = await collect(readLogFile(path)).ended;
      expect(error).toBeInstanceOf(LogSourceError);
      expect(error).toMatchObject({ code: "LOG_NOT_REGULAR" });
      expect((error as Error).message).toContain(kind);
    }
  });

  it("nextColumns and the block replay refuse it with LOG_NOT_REGULAR", async () => {
    const format = builtinLogFormat("iptables");
    for (const [path] of cases()) {
      const source = createLogHitSource({ path, replay: true, format });
      await expect(source.nextColumns()).rejects.toMatchObject({
        code: "LOG_NOT_REGULAR",
      });
      await source.close();
      expect(() => createBlockReplay(path, format, 0)).toThrow(
        expect.objectContaining({ code: "LOG_NOT_REGULAR" }),
      );
    }
  });
});
