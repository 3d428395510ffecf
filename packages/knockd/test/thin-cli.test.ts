import { readFileSync, writeFileSync, appendFileSync } from "node:fs";
import { join } from "node:path";
import { PassThrough, Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { main } from "../src/index.ts";
import { daemonConfig, runMain, tempDir, waitFor } from "./helpers.ts";

const VERSION = (
  JSON.parse(
    readFileSync(new URL("../package.json", import.meta.url), "utf8"),
  ) as { version: string }
).version;

/** An `io` whose stdout fails every write with `error`. */
function failingIo(error: Error): {
  io: Parameters<typeof main>[1];
  stderr: () => string;
} {
  let err = "";
  const stderr = new PassThrough();
  stderr.on("data", (d: Buffer) => (err += d.toString()));
  const stdout = new Writable({
    write(_chunk, _enc, cb): void {
      cb();
    },
  });
  stdout.write = (): boolean => {
    throw error;
  };
  return { io: { stdout, stderr, env: {} }, stderr: () => err };
}

describe("knockd's thin CLI (#14)", () => {
  it("-version and --version print the package's version", async () => {
    for (const flag of ["-version", "--version"]) {
      const r = await runMain([flag]);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(`knockd ${VERSION}\n`);
    }
  });

  it("an exception with a code becomes one line and exit 1, without a stack", async () => {
    const { io, stderr } = failingIo(
      Object.assign(new Error("write EPIPE"), { code: "EPIPE" }),
    );
    expect(await main(["-h"], io, { handleSignals: false })).toBe(1);
    expect(stderr()).toBe("knockd: EPIPE: write EPIPE\n");
  });

  it("an exception without a code is a bug: INTERNAL, the stack and a request to report", async () => {
    const { io, stderr } = failingIo(new TypeError("x is not a function"));
    expect(await main(["-h"], io, { handleSignals: false })).toBe(1);
    const lines = stderr().split("\n");
    expect(lines[0]).toBe("knockd: INTERNAL: x is not a function");
    expect(lines[1]).toMatch(/^TypeError: x is not a function/);
    expect(stderr()).toMatch(/this is a bug: please report it/);
  });

  it("follow mode: a bad line is a source.rejected event with its origin and escaped text, counted in linesSeen", async () => {
    const dir = tempDir();
    const log = join(dir, "firewall.log");
    writeFileSync(log, "");
    const conf = daemonConfig(dir, `logfile = ${log}`);
    const stop = new AbortController();
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let err = "";
    stderr.on("data", (d: Buffer) => (err += d.toString()));
    const running = main(
      ["-conf", conf, "-logjson"],
      { stdout, stderr, env: { HOME: dir } },
      { handleSignals: false, signal: stop.signal },
    );
    await waitFor(() => err.includes('"event":"ready"'), "ready");
    appendFileSync(
      log,
      "kernel: IN=eth0 OUT= SRC=10.0.0.999 DST=10.0.0.1 PROTO=TCP SPT=1 DPT=2000 \u0007bell\n",
    );
    await waitFor(() => err.includes("source.rejected"), "the rejection");
    stop.abort();
    expect(await running).toBe(0);
    // JSON log lines (the config's warnings come before them, as text).
    const events = err
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const rejected = events.find((e) => e.event === "source.rejected");
    expect(rejected).toMatchObject({
      code: "LOG_BAD_IP",
      source: `${log}:1`,
    });
    expect(rejected?.input).toContain("\\x07bell");
    expect(events.some((e) => e.event === "line.rejected")).toBe(false);
    const stopping = events.find((e) => e.event === "counters");
    expect(stopping).toMatchObject({
      linesSeen: 1,
      rejections: { LOG_BAD_IP: 1 },
    });
  });
});
