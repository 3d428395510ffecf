/** Test helpers for knockd: temp dirs, recorder scripts, a spawned daemon, the real client. */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { PassThrough } from "node:stream";
import { fileURLToPath } from "node:url";
import { onTestFinished } from "vitest";
import { main } from "@portknock/knockd";
import { main as knock } from "@portknock/knock";

export const KNOCKD = fileURLToPath(
  new URL("../bin/knockd.js", import.meta.url),
);
export const KNOCK = join(
  dirname(
    createRequire(import.meta.url).resolve("@portknock/knock/package.json"),
  ),
  "bin/knock.js",
);

/** A temp dir removed when the test finishes. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "knockd-test-"));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A script that appends its arguments, one line, to `out`: a real executable for actions. */
export function recorder(
  dir: string,
  name = "record.sh",
): { path: string; out: string; lines(): string[] } {
  const path = join(dir, name);
  const out = join(dir, `${name}.out`);
  writeFileSync(path, `#!/bin/sh\necho "$*" >> '${out}'\n`);
  chmodSync(path, 0o755);
  return {
    path,
    out,
    lines: (): string[] =>
      existsSync(out)
        ? readFileSync(out, "utf8").split("\n").filter(Boolean)
        : [],
  };
}

/** Shared knock settings of the daemon and client configs in these tests. */
export const KNOCK_SETTINGS = [
  "knock = CLIENT,PORT,FLAG0,CHECKSUM",
  "portspan = 1024-33791",
  "encrypt = yes",
  "cipher = Blowfish",
  "key = test passphrase for knockd",
  "iv = yes",
].join("\n");

/** Writes a daemon config into `dir`; returns its path. */
export function daemonConfig(
  dir: string,
  body: string,
  name = "knockdaemon.conf",
): string {
  const path = join(dir, name);
  writeFileSync(path, `${KNOCK_SETTINGS}\nfileinterval = 0.05\n${body}\n`);
  return path;
}

/** What a CLI run in-process printed, and its exit code. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a CLI's `main` in-process with captured output and a fresh HOME. */
async function runCli(
  run: (io: {
    stdout: PassThrough;
    stderr: PassThrough;
    env: { HOME: string };
  }) => Promise<number>,
): Promise<CliRun> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = "";
  let err = "";
  stdout.on("data", (d: Buffer) => (out += d.toString()));
  stderr.on("data", (d: Buffer) => (err += d.toString()));
  const code = await run({ stdout, stderr, env: { HOME: tempDir() } });
  return { code, stdout: out, stderr: err };
}

/** Runs knockd's `main` in-process with captured output. */
export function runMain(argv: string[]): Promise<CliRun> {
  return runCli((io) => main(argv, io, { handleSignals: false }));
}

/**
 * Appends a knock to `logfile` with the real client (`knock -logtofile`), configured with
 * `settings` (config lines, by default `KNOCK_SETTINGS`) given as its flags.
 */
export function knockToLog(
  logfile: string,
  args: string[],
  settings: string = KNOCK_SETTINGS,
): void {
  const r = spawnSync(
    process.execPath,
    [
      KNOCK,
      ...settings.split("\n").flatMap((l) => {
        const [k, v] = l.split(" = ") as [string, string];
        return k === "encrypt" || k === "iv" ? [`-${k}=${v}`] : [`-${k}`, v];
      }),
      "-logtofile",
      "-logfile",
      logfile,
      "-quiet",
      ...args,
    ],
    { encoding: "utf8" },
  );
  if (r.status !== 0)
    throw new Error(`knock failed (${r.status}): ${r.stderr}`);
}

/** A knockd child process whose stderr lines can be awaited. */
export interface Daemon {
  child: ChildProcess;
  stderr(): string;
  /** Resolves with the first stderr line matching `re` after `from` (default: any so far). */
  waitForLine(re: RegExp, timeoutMs?: number, from?: number): Promise<string>;
  /** Sends a signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Spawns the built `knockd` and waits for its `ready` line. */
export async function spawnDaemon(args: string[]): Promise<Daemon> {
  const child = spawn(process.execPath, [KNOCKD, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let err = "";
  const waiters: Array<() => void> = [];
  child.stderr.on("data", (d: Buffer) => {
    err += d.toString();
    for (const w of waiters.splice(0)) w();
  });
  child.stdout.resume();
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => resolve(code)),
  );
  onTestFinished(() => {
    if (child.exitCode == null) child.kill("SIGKILL");
  });
  const daemon: Daemon = {
    child,
    stderr: () => err,
    waitForLine(re, timeoutMs = 10_000, from = 0): Promise<string> {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(
              new Error(
                `no line matching ${re} within ${timeoutMs} ms; stderr:\n${err}`,
              ),
            ),
          timeoutMs,
        );
        const check = (): void => {
          const line = err
            .slice(from)
            .split("\n")
            .find((l) => re.test(l));
          if (line != null) {
            clearTimeout(timer);
            resolve(line);
          } else if (child.exitCode != null) {
            clearTimeout(timer);
            reject(
              new Error(
                `knockd exited ${child.exitCode} before a line matching ${re}; stderr:\n${err}`,
              ),
            );
          } else {
            waiters.push(check);
          }
        };
        check();
      });
    },
    async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<number | null> {
      child.kill(signal);
      return exited;
    },
  };
  await daemon.waitForLine(/\bready\b/);
  return daemon;
}

/** Polls `fn` until it returns true (an effect of another process), or fails after `timeoutMs`. */
export async function waitFor(
  fn: () => boolean,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  const start = Date.now();
  while (!fn()) {
    if (Date.now() - start > timeoutMs)
      throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Runs the `knock` client in-process with captured output. */
export function runKnock(
  argv: string[],
  options: { now?: () => number } = {},
): Promise<CliRun> {
  return runCli((io) => knock(argv, io, options));
}

/**
 * A TCP port free on `host` now (the kernel picks it; the listener is closed again): for a
 * daemon whose config must name a port (`metrics`, where port 0 is refused).
 */
export function freePort(host = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen({ host, port: 0 }, () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
