/**
 * `followLog` with inotify (issue #15): a change is read when it happens, not at the next poll.
 * With a poll interval of an hour, every rotation scenario still yields exactly its lines, so
 * each of them was read because of an event. And when watching is impossible (a missing
 * directory; no inotify at all, in a user namespace whose watch limit is 0) it polls, after one
 * warning. The fallback runs the built `dist/` in a child process (CI builds before testing).
 */
import { spawn, spawnSync } from "node:child_process";
import {
  appendFileSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  renameSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import TailFile from "@logdna/tail-file";
import { describe, expect, it } from "vitest";
import { followLog } from "../src/follow-log.ts";
import { addPollNow } from "../src/poll-now.ts";
import type { LogLine } from "../src/types.ts";
import type { Follower } from "./follower-scenarios.ts";
import { SCENARIOS, runScenario } from "./follower-scenarios.ts";
import { logdnaFollower } from "./followers.ts";
import {
  collect,
  events,
  fixture,
  recordingLogger,
  tempDir,
} from "./helpers.ts";

const HOUR_MS = 3_600_000;

/** `followLog` polling once an hour: within a test, only inotify can make it read. */
const eventsOnly: Follower = {
  name: "followLog, 1 h polls",
  follow: (path, options) =>
    logdnaFollower.follow(path, { ...options, pollIntervalMs: HOUR_MS }),
};

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
      signal: controller.signal,
      onReady: () => ready(),
      ...options,
    }),
  );
  await isReady;
  return { got, controller };
}

/**
 * This process's descriptors open on files in `dir`, and its inotify watches on `dir` or on an
 * inode in `inodes` (fdinfo names the inode of each watch, in hex).
 */
function openIn(
  dir: string,
  inodes: readonly number[] = [],
): { files: string[]; watches: number } {
  const mine = new Set(
    [statSync(dir).ino, ...inodes].map((i) => i.toString(16)),
  );
  const files: string[] = [];
  let watches = 0;
  for (const fd of readdirSync("/proc/self/fd")) {
    let target = "";
    try {
      target = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      continue; // the directory listing's own descriptor, already closed
    }
    if (target.startsWith(dir)) files.push(target);
    if (target !== "anon_inode:inotify") continue;
    for (const l of readFileSync(`/proc/self/fdinfo/${fd}`, "utf8").split(
      "\n",
    )) {
      const ino = /^inotify wd:[0-9a-f]+ ino:([0-9a-f]+) /.exec(l)?.[1];
      if (ino !== undefined && mine.has(ino)) watches++;
    }
  }
  return { files, watches };
}

async function eventually(
  check: () => boolean,
  what: () => string,
): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++)
    await new Promise((r) => setTimeout(r, 10));
  if (!check()) throw new Error(`timed out: ${what()}`);
}

describe("followLog with inotify: every scenario read on events alone (1 h polls)", () => {
  it.each(SCENARIOS.filter((s) => !s.limitation))("$name", async (scenario) => {
    const result = await runScenario(eventsOnly, scenario);
    expect(result.lines).toEqual(scenario.expected);
  });

  it.each(SCENARIOS.filter((s) => s.limitation))(
    "$name: the documented limit; it recovers without repeating",
    async (scenario) => {
      const result = await runScenario(eventsOnly, scenario);
      expect(result.completed).toBe(true);
      expect(new Set(result.lines).size).toBe(result.lines.length);
    },
  );

  it("reads a file created after the start as soon as it appears", async () => {
    const path = join(tempDir(), "later.log");
    const { got, controller } = await start(path, { pollIntervalMs: HOUR_MS });
    writeFileSync(path, "n1\n");
    await got.waitFor((l) => l.length === 1, 2000);
    appendFileSync(path, "n2\n");
    await got.waitFor((l) => l.length === 2, 2000);
    controller.abort();
    await got.ended;
    expect(got.items.map((l) => l.text)).toEqual(["n1", "n2"]);
  });

  it("closes its watches and files when aborted (no descriptor left)", async () => {
    const dir = tempDir();
    const path = join(dir, "fw.log");
    writeFileSync(path, "");
    const inodes = [statSync(path).ino];
    const { got, controller } = await start(path, { pollIntervalMs: HOUR_MS });
    expect(openIn(dir, inodes).watches).toBe(2); // the directory and the file
    appendFileSync(path, "a\n");
    await got.waitFor((l) => l.length === 1, 2000);
    renameSync(path, `${path}.1`);
    writeFileSync(path, "b\n");
    inodes.push(statSync(path).ino);
    await got.waitFor((l) => l.length === 2, 2000);
    // The renamed file is closed; only the TailFile's handle on the new one stays (a read
    // stream's own descriptor closes just after its read).
    await eventually(
      () => openIn(dir).files.length === 1 && openIn(dir, inodes).watches === 2,
      () =>
        `one file and two watches, got ${JSON.stringify(openIn(dir, inodes))}`,
    );
    expect(openIn(dir).files).toEqual([path]);
    controller.abort();
    await got.ended;
    await eventually(
      () => openIn(dir, inodes).watches === 0 && openIn(dir).files.length === 0,
      () => `nothing left open, got ${JSON.stringify(openIn(dir, inodes))}`,
    );
  });

  it("the pinned @logdna/tail-file has the internals addPollNow wraps", () => {
    const path = join(tempDir(), "fw.log");
    writeFileSync(path, "");
    expect(addPollNow(new TailFile(path))).toBeTypeOf("function");
  });
});

describe("followLog when watching is impossible: one warning, then polling", () => {
  it("its directory does not exist yet", async () => {
    const dir = join(tempDir(), "later");
    const path = join(dir, "fw.log");
    const logger = recordingLogger();
    const { got, controller } = await start(path, {
      pollIntervalMs: 25,
      logger,
    });
    mkdirSync(dir);
    writeFileSync(path, "p1\n");
    await got.waitFor((l) => l.length === 1);
    appendFileSync(path, "p2\n");
    await got.waitFor((l) => l.length === 2);
    controller.abort();
    await got.ended;
    expect(got.items.map((l) => l.text)).toEqual(["p1", "p2"]);
    expect(events(logger, "source.watch_failed")).toMatchObject([
      { level: "warn", fields: { source: path, code: "ENOENT" } },
    ]);
  });

  const userns =
    spawnSync("unshare", ["--user", "--map-root-user", "true"]).status === 0;
  if (!userns)
    console.warn("skipping the no-inotify test: needs unshare --user");

  it.skipIf(!userns)(
    "no inotify at all (a user namespace with no watches allowed)",
    async () => {
      const dir = tempDir();
      const path = join(dir, "fw.log");
      writeFileSync(path, "old\n");
      const child = spawn(
        "unshare",
        [
          "--user",
          "--map-root-user",
          process.execPath,
          fixture("follow-without-inotify.js"),
          path,
          "25",
        ],
        { stdio: ["ignore", "pipe", "inherit"] },
      );
      const out: Record<string, unknown>[] = [];
      let buf = "";
      const waiters = new Set<() => void>();
      child.stdout.on("data", (d: Buffer) => {
        buf += d.toString();
        const lines = buf.split("\n");
        buf = lines.pop() ?? "";
        for (const l of lines)
          out.push(JSON.parse(l) as Record<string, unknown>);
        for (const w of [...waiters]) w();
      });
      const exited = new Promise<number | null>((resolve) =>
        child.once("exit", resolve),
      );
      const until = (done: () => boolean): Promise<void> =>
        new Promise((resolve, reject) => {
          const timer = setTimeout(
            () => reject(new Error(`timed out; got ${JSON.stringify(out)}`)),
            10_000,
          );
          const check = (): void => {
            if (!done()) return;
            clearTimeout(timer);
            waiters.delete(check);
            resolve();
          };
          waiters.add(check);
          check();
        });
      const lines = (): unknown[] =>
        out.flatMap((o) => ("line" in o ? [o.line] : []));
      try {
        await until(() => out.some((o) => o.ready === true));
        appendFileSync(path, "x1\n");
        await until(() => lines().length === 1);
        renameSync(path, `${path}.1`);
        writeFileSync(path, "x2\n");
        await until(() => lines().length === 2);
      } finally {
        child.kill("SIGTERM");
      }
      expect(await exited).toBe(0);
      expect(lines()).toEqual(["x1", "x2"]);
      expect(
        out.filter(
          (o) =>
            (o.log as { event?: string } | undefined)?.event ===
            "source.watch_failed",
        ),
      ).toMatchObject([{ log: { level: "warn", code: "ENOSPC" } }]);
    },
  );
});
