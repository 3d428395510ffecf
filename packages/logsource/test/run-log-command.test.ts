import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runLogCommand } from "../src/run-log-command.ts";
import type { LogLine } from "../src/types.ts";
import {
  collect,
  events,
  fixture,
  recordingLogger,
  tempDir,
} from "./helpers.ts";

const SCRIPT = fixture("log-command.js");
const fixedClock = { now: () => 0 };

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function pids(counter: string): number[] {
  return readFileSync(`${counter}.pid`, "utf8").trim().split("\n").map(Number);
}

describe("runLogCommand", () => {
  it("yields stdout lines, restarts the command with exponential back-off, logs stderr", async () => {
    const counter = join(tempDir(), "runs");
    const logger = recordingLogger();
    const controller = new AbortController();
    const got = collect<LogLine>(
      runLogCommand([process.execPath, SCRIPT, counter, "exit", "hello"], {
        signal: controller.signal,
        logger,
        name: "journalctl",
        clock: fixedClock,
        backoff: { initialMs: 20, maxMs: 80 },
      }),
    );
    await got.waitFor(
      (lines) => lines.filter((l) => l.text.startsWith("hello")).length >= 5,
    );
    controller.abort();
    expect(await got.ended).toBeUndefined();

    expect(got.items.slice(0, 4)).toEqual([
      { text: "hello run=1", file: "journalctl", lineNo: 1 },
      { text: "last line of run 1", file: "journalctl", lineNo: 2 },
      { text: "hello run=2", file: "journalctl", lineNo: 3 },
      { text: "last line of run 2", file: "journalctl", lineNo: 4 },
    ]);
    const exits = events(logger, "source.exited");
    expect(
      exits
        .slice(0, 4)
        .map((e) => [e.level, e.fields.code, e.fields.restartInMs]),
    ).toEqual([
      ["warn", 3, 20],
      ["warn", 3, 40],
      ["warn", 3, 80],
      ["warn", 3, 80],
    ]);
    expect(events(logger, "source.stderr")[0]).toMatchObject({
      level: "warn",
      fields: { source: "journalctl", input: "warning from run 1" },
    });
  });

  it("kills the command when aborted, and ends after it is gone", async () => {
    const counter = join(tempDir(), "runs");
    const controller = new AbortController();
    const got = collect<LogLine>(
      runLogCommand([process.execPath, SCRIPT, counter, "stay", "up"], {
        signal: controller.signal,
      }),
    );
    await got.waitFor((lines) => lines.length === 1);
    const [pid = 0] = pids(counter);
    expect(isAlive(pid)).toBe(true);
    controller.abort();
    expect(await got.ended).toBeUndefined();
    expect(isAlive(pid)).toBe(false);
  });

  it("kills the command when the consumer stops early", async () => {
    const counter = join(tempDir(), "runs");
    for await (const line of runLogCommand([
      process.execPath,
      SCRIPT,
      counter,
      "stay",
      "up",
    ])) {
      expect(line.text).toBe("up run=1");
      break;
    }
    const [pid = 0] = pids(counter);
    expect(isAlive(pid)).toBe(false);
  });

  it("logs an error and keeps retrying when the command cannot start", async () => {
    const logger = recordingLogger();
    const controller = new AbortController();
    const got = collect(
      runLogCommand([join(tempDir(), "no-such-command")], {
        signal: controller.signal,
        logger,
        clock: fixedClock,
        backoff: { initialMs: 10, maxMs: 10 },
      }),
    );
    await logger.waitFor(
      (entries) => entries.filter((e) => e.level === "error").length >= 2,
    );
    controller.abort();
    expect(await got.ended).toBeUndefined();
    expect(events(logger, "source.exited")[0]).toMatchObject({
      level: "error",
      fields: {
        source: "no-such-command",
        err: { code: "ENOENT" },
        restartInMs: 10,
      },
    });
  });

  it("drops each run's lines stamped before it started, up to its first line stamped later; one warning per run (#15)", async () => {
    const counter = join(tempDir(), "runs");
    const logger = recordingLogger();
    const controller = new AbortController();
    const startMs = Date.parse("2026-11-25T08:00:00.500Z");
    const dropped: LogLine[] = [];
    const got = collect<LogLine>(
      runLogCommand(
        [
          process.execPath,
          SCRIPT,
          counter,
          "exit",
          "2026-11-25T07:59:58Z gw kernel: old",
          "2026-11-25T07:59:59.400+00:00 gw kernel: old too",
          "no stamp: kept",
          "2026-11-25T08:00:00Z gw kernel: the start's second: kept",
          "2026-11-25T07:00:00Z gw kernel: after a kept stamp: not checked",
        ],
        {
          signal: controller.signal,
          logger,
          name: "journalctl",
          clock: { now: () => startMs },
          backoff: { initialMs: 20, maxMs: 80 },
          onLineBeforeStart: (line) => dropped.push(line),
        },
      ),
    );
    await got.waitFor((lines) => lines.some((l) => l.text.endsWith("run=2")));
    await logger.waitFor(() => events(logger, "source.rejected").length === 2);
    controller.abort();
    await got.ended;
    expect(got.items.slice(0, 4).map((l) => [l.lineNo, l.text])).toEqual([
      [3, "no stamp: kept run=1"],
      [4, "2026-11-25T08:00:00Z gw kernel: the start's second: kept run=1"],
      [
        5,
        "2026-11-25T07:00:00Z gw kernel: after a kept stamp: not checked run=1",
      ],
      [6, "last line of run 1"],
    ]);
    expect(dropped.slice(0, 4).map((l) => [l.file, l.lineNo])).toEqual([
      ["journalctl", 1],
      ["journalctl", 2],
      ["journalctl", 7],
      ["journalctl", 8],
    ]);
    expect(
      events(logger, "source.rejected").map((e) => [e.level, e.fields]),
    ).toEqual([
      [
        "warn",
        {
          source: "journalctl:1",
          event: "source.rejected",
          code: "LOG_LINE_BEFORE_START",
          count: 2,
          input: "2026-11-25T07:59:58Z gw kernel: old run=1",
          startedAt: "2026-11-25T08:00:00.500Z",
        },
      ],
      ["warn", expect.objectContaining({ source: "journalctl:7", count: 2 })],
    ]);
  });

  it("reports a run that printed only old lines when it exits; startAt: all keeps them", async () => {
    const old = "Nov 25 08:23:27 gw kernel: an old entry";
    for (const startAt of ["now", "all"] as const) {
      const logger = recordingLogger();
      const lines: string[] = [];
      for await (const line of runLogCommand(
        [process.execPath, SCRIPT, join(tempDir(), "runs"), "exit", old],
        { logger, startAt, backoff: { initialMs: 10_000, maxMs: 10_000 } },
      )) {
        lines.push(line.text);
        if (line.text.startsWith("last line")) break;
      }
      if (startAt === "now") {
        expect(lines).toEqual(["last line of run 1"]);
        expect(events(logger, "source.rejected")).toMatchObject([
          { fields: { code: "LOG_LINE_BEFORE_START", count: 1 } },
        ]);
      } else {
        expect(lines).toEqual([`${old} run=1`, "last line of run 1"]);
        expect(events(logger, "source.rejected")).toEqual([]);
      }
    }
  });

  it("refuses an empty argv", () => {
    expect(() => runLogCommand([])).toThrow(TypeError);
  });
});
