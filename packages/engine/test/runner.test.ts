import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { spawnRunner } from "../src/runner.ts";
import { tempDir, writeRecorder, writeScript } from "./helpers.ts";

describe("spawnRunner", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("runs an argv without a shell and captures output", async () => {
    const dir = tempDir();
    const rec = writeRecorder(dir, "rec");
    const run = spawnRunner();
    const result = await run([rec.path, "a b", "$HOME", "; rm -rf /", "`id`"], {
      timeoutMs: 10_000,
    });
    expect(result).toMatchObject({
      ok: true,
      exitCode: 0,
      signal: null,
      timedOut: false,
    });
    expect(rec.calls()).toEqual([["a b", "$HOME", "; rm -rf /", "`id`"]]);
    const echo = writeScript(
      dir,
      "echo.sh",
      'echo "out:$1"; echo "err:$2" >&2',
    );
    expect(await run([echo, "x", "y"], { timeoutMs: 10_000 })).toMatchObject({
      ok: true,
      stdout: "out:x\n",
      stderr: "err:y\n",
      outputTruncated: false,
    });
  });

  it("reports a non-zero exit", async () => {
    const rec = writeRecorder(tempDir(), "fail", 3);
    const result = await spawnRunner()([rec.path], { timeoutMs: 10_000 });
    expect(result).toMatchObject({ ok: false, exitCode: 3, signal: null });
    expect(result.durationMs).toBeGreaterThanOrEqual(0);
  });

  it("reports a missing executable as ENOENT without rejecting", async () => {
    const result = await spawnRunner()([join(tempDir(), "nope")], {
      timeoutMs: 10_000,
    });
    expect(result).toMatchObject({
      ok: false,
      exitCode: null,
      error: { code: "ENOENT" },
    });
  });

  it("reports a non-executable file and an argv with NUL without rejecting", async () => {
    const dir = tempDir();
    const rec = writeRecorder(dir, "rec");
    const plain = join(dir, "rec.calls");
    const run = spawnRunner();
    expect(
      await run([rec.path, "a\u0000b"], { timeoutMs: 10_000 }),
    ).toMatchObject({ ok: false });
    expect(await run([dir], { timeoutMs: 10_000 })).toMatchObject({
      ok: false,
      error: { code: "EACCES" },
    });
    expect(existsSync(plain)).toBe(false);
  });

  it("bounds captured output", async () => {
    const big = writeScript(
      tempDir(),
      "big.sh",
      "head -c 100000 /dev/zero | tr '\\0' x",
    );
    const result = await spawnRunner({ maxOutputBytes: 1000 })([big], {
      timeoutMs: 10_000,
    });
    expect(result.stdout).toHaveLength(1000);
    expect(result.outputTruncated).toBe(true);
  });

  it("kills a command (and its children) that outlives the timeout", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const dir = tempDir();
    const marker = join(dir, "finished");
    // A shell that runs a child sleep: killing only the shell would leave sleep holding stdout.
    const slow = writeScript(
      dir,
      "slow.sh",
      `echo started; sleep 30; touch '${marker}'`,
    );
    const pending = spawnRunner({ killGraceMs: 1000 })([slow], {
      timeoutMs: 5000,
    });
    await vi.advanceTimersByTimeAsync(5000);
    const result = await pending;
    expect(result).toMatchObject({
      ok: false,
      timedOut: true,
      signal: "SIGTERM",
      exitCode: null,
    });
    expect(existsSync(marker)).toBe(false);
  });

  it("escalates to SIGKILL when SIGTERM is ignored", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const dir = tempDir();
    const ready = join(dir, "ready");
    const stubborn = writeScript(
      dir,
      "stubborn.sh",
      `trap '' TERM; touch '${ready}'; while :; do sleep 1; done`,
    );
    const pending = spawnRunner({ killGraceMs: 1000 })([stubborn], {
      timeoutMs: 5000,
    });
    await vi.waitFor(() => expect(existsSync(ready)).toBe(true), {
      timeout: 5000,
      interval: 5,
    });
    await vi.advanceTimersByTimeAsync(5000);
    await vi.advanceTimersByTimeAsync(1000);
    const result = await pending;
    expect(result).toMatchObject({
      ok: false,
      timedOut: true,
      signal: "SIGKILL",
    });
    expect(readFileSync(ready, "utf8")).toBe("");
  });
});
