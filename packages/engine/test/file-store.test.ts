import {
  chmodSync,
  existsSync,
  readFileSync,
  readdirSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createFileStore } from "../src/file-store.ts";
import { describeStateStore } from "./describe-state-store.ts";
import { recordingLogger, tempDir } from "./helpers.ts";

describeStateStore("file", () =>
  createFileStore(join(tempDir(), "state.json")),
);

function readDoc(path: string): {
  state: unknown[];
  pending: unknown[];
  extras: Record<string, unknown>;
} {
  return JSON.parse(readFileSync(path, "utf8")) as never;
}

describe("createFileStore", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("persists state, pending actions and extras across instances", async () => {
    const path = join(tempDir(), "state.json");
    const a = await createFileStore(path);
    a.set(["10.1.1.1", "visits", "num"], 2);
    a.addPending({
      id: "p1",
      action: "k.conf:3",
      createdMs: 1,
      dueMs: 2,
      commands: [["/bin/x", "10.1.1.1"]],
    });
    a.setExtra("knockd.replay", { ab: 12 });
    await a.close();
    expect(readDoc(path)).toMatchObject({
      format: "portknock-state",
      version: 1,
    });
    const b = await createFileStore(path);
    expect(b.diagnostics).toEqual([]);
    expect(b.get(["10.1.1.1", "visits", "num"])).toBe(2);
    expect(b.pending()).toEqual([
      {
        id: "p1",
        action: "k.conf:3",
        createdMs: 1,
        dueMs: 2,
        commands: [["/bin/x", "10.1.1.1"]],
      },
    ]);
    expect(b.getExtra("knockd.replay")).toEqual({ ab: 12 });
    await b.close();
  });

  it("creates the file 0600 and keeps the mode of an existing file", async () => {
    const dir = tempDir();
    const path = join(dir, "state.json");
    const a = await createFileStore(path);
    a.set(["a"], 1);
    await a.flush();
    expect(statSync(path).mode & 0o777).toBe(0o600);
    chmodSync(path, 0o640);
    a.set(["a"], 2);
    await a.close();
    expect(statSync(path).mode & 0o777).toBe(0o640);
    expect(readdirSync(dir)).toEqual(["state.json"]); // no temp file left behind
  });

  it("coalesces changes: at most one write per 100 ms", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
    const path = join(tempDir(), "state.json");
    const store = await createFileStore(path);
    store.set(["n"], 0);
    await vi.advanceTimersByTimeAsync(0); // the first change is written at once
    await vi.waitFor(() => expect(store.stats.writes).toBe(1));
    for (let i = 1; i <= 50; i++) store.set(["n"], i);
    await vi.advanceTimersByTimeAsync(50);
    expect(store.stats.writes).toBe(1);
    await vi.advanceTimersByTimeAsync(50);
    await vi.waitFor(() => expect(store.stats.writes).toBe(2));
    expect(readDoc(path).state).toEqual([[["n"], 50]]);
    await store.close();
    expect(store.stats.writes).toBe(2);
  });

  it("moves a corrupt file aside with an error diagnostic and starts empty", async () => {
    const dir = tempDir();
    const path = join(dir, "state.json");
    writeFileSync(
      path,
      '{"format":"portknock-state","version":1,"state":[[["a"],1]',
    );
    const logger = recordingLogger();
    const store = await createFileStore(path, {
      logger,
      clock: { now: () => Date.UTC(2024, 4, 6, 7, 8, 9) },
    });
    expect(store.diagnostics).toMatchObject([
      {
        code: "STORE_CORRUPT",
        severity: "error",
        where: { kind: "config", file: path, line: 1 },
      },
    ]);
    expect(store.diagnostics[0]?.message).toContain(
      "state.json.corrupt-2024-05-06T07-08-09-000Z",
    );
    expect(logger.entries).toMatchObject([
      { level: "error", fields: { code: "STORE_CORRUPT" } },
    ]);
    expect(store.entries()).toEqual([]);
    expect(existsSync(path)).toBe(false);
    expect(readdirSync(dir)).toEqual([
      "state.json.corrupt-2024-05-06T07-08-09-000Z",
    ]);
    store.set(["b"], 1);
    await store.close();
    expect(readDoc(path).state).toEqual([[["b"], 1]]);
  });

  it.each([
    ["not JSON", "garbage"],
    ["another format", '{"format":"other","version":1}'],
    ["a future version", '{"format":"portknock-state","version":2}'],
    ["wrong types", '{"format":"portknock-state","version":1,"state":{}}'],
  ])("treats %s as corrupt", async (_what, text) => {
    const path = join(tempDir(), "state.json");
    writeFileSync(path, text);
    const store = await createFileStore(path);
    expect(store.diagnostics.map((d) => [d.code, d.severity])).toEqual([
      ["STORE_CORRUPT", "error"],
    ]);
    await store.close();
  });

  it("drops hostile or malformed entries with warnings and keeps the rest", async () => {
    const path = join(tempDir(), "state.json");
    writeFileSync(
      path,
      JSON.stringify({
        format: "portknock-state",
        version: 1,
        state: [
          [["ok"], 1],
          [["..", "x"], 2],
          [["a/b"], 3],
          [["ok2"], { nested: true }],
          [["__proto__"], 4],
        ],
        pending: [
          { id: "p", action: "a", createdMs: 0, dueMs: 5, commands: [["/x"]] },
          { id: 3 },
        ],
        extras: { __proto__: 1 },
      }).replace('"extras":{}', '"extras":{"__proto__":1}'),
    );
    const store = await createFileStore(path);
    expect(store.diagnostics.map((d) => [d.code, d.severity])).toEqual([
      ["STORE_CORRUPT", "warning"],
      ["STORE_CORRUPT", "warning"],
      ["STORE_CORRUPT", "warning"],
      ["STORE_CORRUPT", "warning"],
    ]);
    expect(store.entries()).toEqual([
      [["ok"], 1],
      [["__proto__"], 4],
    ]);
    expect(store.pending().map((p) => p.id)).toEqual(["p"]);
    expect(store.getExtra("__proto__")).toBe(1);
    await store.close();
  });

  it("removes temp files a crashed writer left behind", async () => {
    const dir = tempDir();
    const path = join(dir, "state.json");
    writeFileSync(join(dir, ".state.json.tmp-123-abcd"), "half a fi");
    const store = await createFileStore(path);
    await store.close();
    expect(readdirSync(dir)).toEqual([]);
  });

  it("rejects flush with STORE_WRITE_FAILED when the directory is gone, and logs it", async () => {
    const dir = tempDir();
    const logger = recordingLogger();
    const store = await createFileStore(join(dir, "missing", "state.json"), {
      logger,
    });
    store.set(["a"], 1);
    await expect(store.flush()).rejects.toMatchObject({
      code: "STORE_WRITE_FAILED",
    });
    expect(store.stats.writeFailures).toBeGreaterThan(0);
    expect(logger.entries.some((e) => e.level === "error")).toBe(true);
    await expect(store.close()).rejects.toMatchObject({
      code: "STORE_WRITE_FAILED",
    });
    await expect(store.close()).rejects.toMatchObject({
      code: "STORE_WRITE_FAILED",
    });
  });
});
