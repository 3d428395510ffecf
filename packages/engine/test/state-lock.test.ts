/**
 * #15: one process per statefile. The lock is held while a file store is open, whatever the
 * path's spelling, released by `close()` and by the end of the process (kill -9 included).
 */
import { spawn } from "node:child_process";
import { mkdirSync, symlinkSync } from "node:fs";
import { join, relative } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { createFileStore } from "../src/file-store.ts";
import { tempDir } from "./helpers.ts";

describe("the statefile lock (#15)", () => {
  it("a second store on the same file, however spelled, is STORE_LOCKED with the holder's pid", async () => {
    const dir = tempDir();
    const path = join(dir, "state.json");
    const first = await createFileStore(path);
    mkdirSync(join(dir, "sub"));
    symlinkSync(dir, join(dir, "sub", "link"));
    for (const spelling of [
      path,
      join(dir, "sub", "..", "state.json"),
      join(dir, "sub", "link", "state.json"),
      relative(process.cwd(), path),
    ]) {
      await expect(createFileStore(spelling)).rejects.toMatchObject({
        name: "StoreError",
        code: "STORE_LOCKED",
        message: expect.stringContaining(`pid ${process.pid}`) as string,
      });
    }
    // Another file in the same directory is another lock.
    const other = await createFileStore(join(dir, "other.json"));
    await other.close();
    await first.close();
    const again = await createFileStore(path);
    await again.close();
  });

  it("lock: false opens without it", async () => {
    const path = join(tempDir(), "state.json");
    const first = await createFileStore(path);
    const second = await createFileStore(path, { lock: false });
    await second.close();
    await first.close();
  });

  it("a process killed with SIGKILL leaves no lock behind", async () => {
    const path = join(tempDir(), "state.json");
    // A child holds the lock (through the built store) until it is killed.
    const store = pathToFileURL(
      join(import.meta.dirname, "..", "dist", "file-store.js"),
    ).href;
    const child = spawn(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        `const { createFileStore } = await import(${JSON.stringify(store)});
         await createFileStore(${JSON.stringify(path)});
         process.stdout.write("locked\\n");
         setInterval(() => {}, 1000);`,
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    await new Promise<void>((done, fail) => {
      child.stdout.on("data", (d: Buffer) => {
        if (d.toString().includes("locked")) done();
      });
      child.on("exit", (code) => fail(new Error(`child exited ${code}`)));
    });
    await expect(createFileStore(path)).rejects.toMatchObject({
      code: "STORE_LOCKED",
      message: expect.stringContaining(`pid ${child.pid}`) as string,
    });
    const exited = new Promise((done) => child.on("exit", done));
    child.kill("SIGKILL");
    await exited;
    const after = await createFileStore(path);
    await after.close();
  });
});
