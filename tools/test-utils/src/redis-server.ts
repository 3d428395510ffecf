/**
 * A real `redis-server` for the cluster tests (issue #19): started on a free loopback port with a
 * throw-away directory, no persistence, no protected-mode surprises; `kill()` (SIGKILL) and
 * `start()` again on the same port simulate an outage. Outside CI a missing `redis-server`
 * skips with a printed reason (`redisUnavailable`); in CI it must be there (.ci/apt-packages).
 */
import { spawn, spawnSync } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Why `redis-server` cannot run here, or undefined when it can. */
export function redisUnavailable(): string | undefined {
  return spawnSync("sh", ["-c", "command -v redis-server"]).status === 0
    ? undefined
    : "needs redis-server (apt-get install redis-server)";
}

/** A running (or stopped) test Redis. */
export interface TestRedis {
  readonly port: number;
  /** `redis://127.0.0.1:PORT/0`. */
  readonly url: string;
  /** Whether the process runs now. */
  readonly running: boolean;
  /** (Re)starts it on the same port; resolves when it answers PING. */
  start(): Promise<void>;
  /** SIGKILL, and waits for the exit (an outage: connections drop at once). */
  kill(): Promise<void>;
  /** One command through redis-cli, for assertions (`cli("GET", "k")`); its stdout, trimmed. */
  cli(...args: string[]): string;
  /** Kills it and removes its directory. */
  stop(): Promise<void>;
}

/** A free TCP port on 127.0.0.1 (bound and released: a small race, retried by `startRedis`). */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const address = s.address();
      const port = typeof address === "object" && address ? address.port : 0;
      s.close(() => resolve(port));
    });
  });
}

async function pings(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    let data = "";
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once("error", () => done(false));
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.on("data", (d) => {
      data += d.toString("latin1");
      if (data.includes("\r\n")) done(data.startsWith("+PONG"));
    });
  });
}

/** Starts a `redis-server` on a free loopback port (`extraArgs`: more `--option value` pairs). */
export async function startRedis(
  extraArgs: readonly string[] = [],
): Promise<TestRedis> {
  const dir = mkdtempSync(join(tmpdir(), "pk-redis-"));
  let port = await freePort();
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const launch = async (): Promise<boolean> => {
    const c = spawn(
      "redis-server",
      [
        "--port",
        String(port),
        "--bind",
        "127.0.0.1",
        "--dir",
        dir,
        "--save",
        "",
        "--appendonly",
        "no",
        "--daemonize",
        "no",
        "--loglevel",
        "warning",
        ...extraArgs,
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    child = c;
    exited = new Promise((r) => c.once("exit", () => r()));
    let gone = false;
    void exited.then(() => (gone = true));
    for (let i = 0; i < 100 && !gone; i++) {
      if (await pings(port)) return true;
      await new Promise((r) => setTimeout(r, 20));
    }
    c.kill("SIGKILL");
    await exited;
    return false;
  };

  const redis: TestRedis = {
    get port() {
      return port;
    },
    get url() {
      return `redis://127.0.0.1:${port}/0`;
    },
    get running() {
      return (
        child != null && child.exitCode === null && child.signalCode === null
      );
    },
    async start(): Promise<void> {
      if (redis.running) return;
      for (let attempt = 0; attempt < 5; attempt++) {
        if (await launch()) return;
      }
      throw new Error(`redis-server would not start on 127.0.0.1:${port}`);
    },
    async kill(): Promise<void> {
      if (!redis.running) return;
      child?.kill("SIGKILL");
      await exited;
    },
    cli(...args: string[]): string {
      const r = spawnSync("redis-cli", ["-p", String(port), ...args], {
        encoding: "utf8",
      });
      if (r.status !== 0) throw new Error(`redis-cli failed: ${r.stderr}`);
      return r.stdout.trim();
    },
    async stop(): Promise<void> {
      await redis.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  // The first port may be taken between freePort and the launch: pick another.
  for (let attempt = 0; ; attempt++) {
    if (await launch()) return redis;
    if (attempt === 4) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error("redis-server would not start on a free loopback port");
    }
    port = await freePort();
  }
}
