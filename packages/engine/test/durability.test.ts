/**
 * Durability before effect (#15): a knock whose delayed "close" cannot be written to the statefile
 * (a real full tmpfs) runs nothing and changes nothing; a delayed action is marked started, on
 * disk, before its commands are spawned, and an entry found started at the next start is reported
 * and not run again.
 */
import { execFileSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { describe, expect, it, onTestFinished, vi } from "vitest";
import { createFileStore } from "../src/file-store.ts";
import { MINUTE, setup } from "./engine-harness.ts";
import { tempDir, writeRecorder, writeScript } from "./helpers.ts";

const isRoot = process.getuid?.() === 0;

/** A 64 KiB tmpfs mounted on a fresh directory, unmounted when the test ends. */
function smallTmpfs(): string {
  const dir = join(tempDir(), "tmpfs");
  mkdirSync(dir);
  execFileSync("mount", [
    "-t",
    "tmpfs",
    "-o",
    "size=64k,mode=0700",
    "tmpfs",
    dir,
  ]);
  onTestFinished(() => {
    execFileSync("umount", ["-l", dir]);
  });
  return dir;
}

/** Fills the filesystem of `dir` until a write fails with ENOSPC; returns the filler's path. */
function fill(dir: string): string {
  const filler = join(dir, "filler");
  const block = Buffer.alloc(4096, 0x61);
  let data = Buffer.alloc(0);
  for (;;) {
    try {
      data = Buffer.concat([data, block]);
      writeFileSync(filler, data);
    } catch (error) {
      expect((error as NodeJS.ErrnoException).code).toBe("ENOSPC");
      return filler;
    }
  }
}

const KNOCK = { CLIENT: "10.9.8.7", PORT: 22, FLAG0: 0 };

describe.skipIf(!isRoot)(
  "a statefile on a full disk (real tmpfs, root)",
  () => {
    it("refuses the knock: the open does not run, no state changes, nothing pending; it works again once there is room", async () => {
      const dir = tempDir();
      const disk = smallTmpfs();
      const path = join(disk, "state.json");
      const open = writeRecorder(dir, "open");
      const store = await createFileStore(path, { retryMs: 60_000 });
      const { engine, logger } = setup(
        [{ templates: ["open"] }, { templates: ["close"], delayMs: MINUTE }],
        {
          open: {
            system: [`${open.path} CLIENT`],
            state: ["state(CLIENT,opens)++"],
          },
          close: { system: ["/bin/true close CLIENT"] },
        },
        { store },
      );
      await engine.start();
      const filler = fill(disk);

      const refused = await engine.accept(KNOCK);
      expect(refused.actions.map((a) => a.status)).toEqual([
        "refused",
        "refused",
      ]);
      expect(refused.actions[0]?.refusal?.code).toBe(
        "ENGINE_STATE_NOT_DURABLE",
      );
      expect(refused.actions[1]?.pendingId).toBeUndefined();
      expect(open.calls()).toEqual([]);
      expect(store.get(["10.9.8.7", "opens"])).toBeUndefined();
      expect(store.pending()).toEqual([]);
      expect(engine.counters.knocksNotDurable).toBe(1);
      expect(engine.counters.refused.ENGINE_STATE_NOT_DURABLE).toBe(2);
      const error = logger.entries.find(
        (e) => e.fields.event === "knock.refused",
      );
      expect(error?.level).toBe("error");
      expect(error?.fields.code).toBe("ENGINE_STATE_NOT_DURABLE");
      // The one line names the statefile and the OS's reason.
      expect(error?.msg).toContain(path);
      expect(error?.msg).toContain("ENOSPC");

      rmSync(filler);
      const accepted = await engine.accept(KNOCK);
      expect(accepted.actions.map((a) => a.status)).toEqual([
        "ran",
        "scheduled",
      ]);
      expect(open.calls()).toEqual([["10.9.8.7"]]);
      expect(store.get(["10.9.8.7", "opens"])).toBe(1);
      const onDisk = JSON.parse(readFileSync(path, "utf8")) as {
        pending: Array<{ commands: string[][] }>;
      };
      expect(onDisk.pending.map((p) => p.commands[0])).toEqual([
        ["/bin/true", "close", "10.9.8.7"],
      ]);
      await engine.close();
      await store.close();
    });

    it("a grant is an effect too: not applied while the knock's close cannot be made durable (#17)", async () => {
      const disk = smallTmpfs();
      const store = await createFileStore(join(disk, "state.json"), {
        retryMs: 60_000,
      });
      const granted: string[] = [];
      const { engine } = setup(
        [{ templates: ["open"] }, { templates: ["close"], delayMs: MINUTE }],
        {
          open: {
            grant: [
              {
                text: "tcp/22",
                protocol: "tcp",
                port: 22,
                lifetimeMs: 30_000,
                to: "CLIENT",
              },
            ],
          },
          close: { system: ["/bin/true close CLIENT"] },
        },
        {
          store,
          grant: (r) => {
            granted.push(r.address);
            return Promise.resolve({ ok: true });
          },
        },
      );
      await engine.start();
      const filler = fill(disk);
      const refused = await engine.accept(KNOCK);
      expect(refused.actions.map((a) => a.refusal?.code)).toEqual([
        "ENGINE_STATE_NOT_DURABLE",
        "ENGINE_STATE_NOT_DURABLE",
      ]);
      expect(granted).toEqual([]);
      rmSync(filler);
      await engine.accept(KNOCK);
      expect(granted).toEqual(["10.9.8.7"]);
      await engine.close();
      await store.close();
    });

    it("undoes only the refused knock's state: earlier state under the same key stays", async () => {
      const disk = smallTmpfs();
      const path = join(disk, "state.json");
      const store = await createFileStore(path, { retryMs: 60_000 });
      store.set(["10.9.8.7", "visits"], 5);
      store.set(["10.9.8.7", "note"], "kept");
      await store.flush();
      const { engine } = setup(
        [{ templates: ["count"], delayMs: MINUTE }],
        {
          count: {
            system: ["/bin/true CLIENT"],
            state: ["state(CLIENT,visits)++", "delete state(CLIENT,note)"],
          },
        },
        { store },
      );
      fill(disk);
      const result = await engine.accept(KNOCK);
      expect(result.actions[0]?.status).toBe("refused");
      expect(store.entries()).toEqual([
        [["10.9.8.7", "visits"], 5],
        [["10.9.8.7", "note"], "kept"],
      ]);
      await engine.close();
      await store.close().catch(() => undefined);
    });
  },
);

describe("a delayed action is marked started before it runs (at most once)", () => {
  it("is on disk with startedMs while its command runs, and removed after", async () => {
    vi.useRealTimers();
    const dir = tempDir();
    const path = join(dir, "state.json");
    const copy = join(dir, "seen-by-close.json");
    // The delayed command copies the statefile as it is while the command runs.
    const close = writeScript(dir, "close.sh", `cp '${path}' '${copy}'`);
    const store = await createFileStore(path, { coalesceMs: 0 });
    const { engine } = setup(
      [{ templates: ["close"], delayMs: 50 }],
      { close: { system: [close] } },
      { store },
    );
    await engine.accept(KNOCK);
    await vi.waitFor(() => expect(existsSync(copy)).toBe(true), {
      timeout: 5000,
    });
    await engine.idle();
    const seen = JSON.parse(readFileSync(copy, "utf8")) as {
      pending: Array<{ startedMs?: number }>;
    };
    expect(seen.pending).toHaveLength(1);
    expect(typeof seen.pending[0]?.startedMs).toBe("number");
    await store.flush();
    expect(store.pending()).toEqual([]);
    await engine.close();
    await store.close();
  });

  it("reports an entry found started at start, removes it and does not run it again", async () => {
    const dir = tempDir();
    const path = join(dir, "state.json");
    const rec = writeRecorder(dir, "close");
    const store = await createFileStore(path);
    const now = Date.now();
    store.addPending({
      id: "interrupted",
      action: "knockdaemon.conf:10",
      createdMs: now - 2 * MINUTE,
      dueMs: now - MINUTE,
      startedMs: now - MINUTE,
      commands: [[rec.path, "interrupted"]],
    });
    store.addPending({
      id: "due",
      action: "knockdaemon.conf:20",
      createdMs: now - 2 * MINUTE,
      dueMs: now - MINUTE,
      commands: [[rec.path, "due"]],
    });
    await store.close();

    const reopened = await createFileStore(path);
    const { engine, logger } = setup([], {}, { store: reopened });
    expect(await engine.start()).toEqual({
      overdue: 1,
      scheduled: 0,
      interrupted: 1,
    });
    await engine.idle();
    expect(rec.calls()).toEqual([["due"]]);
    expect(reopened.pending()).toEqual([]);
    expect(engine.counters.actionsInterrupted).toBe(1);
    const line = logger.entries.find(
      (e) => e.fields.event === "action.interrupted",
    );
    expect(line?.level).toBe("error");
    expect(line?.fields.action).toBe("knockdaemon.conf:10");
    expect(line?.msg).toContain("not run again");
    await engine.close();
    await reopened.close();
  });
});
