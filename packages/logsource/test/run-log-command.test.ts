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

  it("refuses an empty argv", () => {
    expect(() => runLogCommand([])).toThrow(TypeError);
  });
});
