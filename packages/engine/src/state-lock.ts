/**
 * One process per statefile (#15): two daemons on one statefile would both act on a knock and
 * lose each other's pending closes. The lock is a Unix socket in Linux's abstract namespace,
 * named after the statefile's real path: binding it is atomic, and the kernel releases it when the
 * process ends, however it ends (`kill -9` included), so a restart never finds a stale lock. A
 * second process gets `STORE_LOCKED` with the holder's pid, which the holder's socket answers.
 * Scope: the network namespace (abstract sockets live there); two daemons in different network
 * namespaces sharing one statefile are not detected.
 */
import { createHash } from "node:crypto";
import { realpathSync } from "node:fs";
import type { Server } from "node:net";
import { createConnection, createServer } from "node:net";
import { basename, dirname, join, resolve } from "node:path";
import { StoreError } from "./errors.ts";

/** A held statefile lock. */
export interface StateLock {
  /** Releases the lock (idempotent). */
  release(): Promise<void>;
}

/** The socket name of `path`'s lock: the same for every spelling of the path. */
export function stateLockName(path: string): string {
  let dir = resolve(dirname(path));
  try {
    dir = realpathSync(dir);
  } catch {
    // A directory that does not exist yet: its absolute spelling names it.
  }
  const key = createHash("sha256")
    .update(join(dir, basename(path)))
    .digest("hex")
    .slice(0, 40);
  return `\0portknock/statefile/${key}`;
}

/**
 * Takes the lock of the statefile `path`. Throws `StoreError` `STORE_LOCKED` ("already in use by
 * pid N") when another process holds it.
 */
export async function lockStateFile(path: string): Promise<StateLock> {
  const name = stateLockName(path);
  const server = createServer((socket) => {
    socket.on("error", () => {});
    socket.end(`${process.pid}\n`);
  });
  try {
    await listen(server, name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EADDRINUSE") throw error;
    const pid = await holderPid(name);
    throw new StoreError(
      "STORE_LOCKED",
      `statefile ${path} is in use by another process (pid ${pid ?? "unknown"}): already running`,
      { cause: error },
    );
  }
  // The lock must not keep the process alive.
  server.unref();
  let released: Promise<void> | undefined;
  return {
    release(): Promise<void> {
      released ??= new Promise((done) => server.close(() => done()));
      return released;
    },
  };
}

function listen(server: Server, name: string): Promise<void> {
  return new Promise((done, fail) => {
    server.once("error", fail);
    server.listen(name, () => {
      server.off("error", fail);
      done();
    });
  });
}

/** The pid the lock's holder answers with, or undefined within 1 s. */
function holderPid(name: string): Promise<number | undefined> {
  return new Promise((done) => {
    let text = "";
    const socket = createConnection(name);
    const timer = setTimeout(() => finish(), 1000);
    const finish = (): void => {
      clearTimeout(timer);
      socket.destroy();
      const pid = Number.parseInt(text, 10);
      done(Number.isInteger(pid) && pid > 0 ? pid : undefined);
    };
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => (text += chunk));
    socket.on("end", finish);
    socket.on("error", finish);
  });
}
