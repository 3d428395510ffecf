// A throw-away redis-server for the Redis benches (cluster, redis-client): a free loopback port,
// no persistence, and a wait until it answers PING.
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { Redis } from "ioredis";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A free TCP port on 127.0.0.1 (bound and released). */
export async function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Starts `redis-server` on `port` with `dir` as its directory: `{ child, exited }`. */
export function startServer(port, dir) {
  const child = spawn(
    "redis-server",
    [
      ...["--port", String(port), "--bind", "127.0.0.1", "--dir", dir],
      ...["--save", "", "--appendonly", "no", "--loglevel", "warning"],
    ],
    { stdio: "ignore" },
  );
  const exited = new Promise((r) => child.once("exit", r));
  return { child, exited };
}

/** Resolves once the server on `port` answers PING (about 5 s at most). */
export async function waitPing(port) {
  for (let i = 0; i < 200; i++) {
    const r = new Redis({ port, host: "127.0.0.1", lazyConnect: true });
    r.on("error", () => undefined);
    try {
      await r.connect();
      await r.ping();
      r.disconnect();
      return;
    } catch {
      r.disconnect();
      await sleep(25);
    }
  }
  throw new Error(`redis-server did not answer on ${port}`);
}
