/**
 * `method = raw` (client.md, issue #7): one hand-built TCP SYN per port through a raw socket
 * (`raw-socket`): the kernel builds the IP header and routes it (IPv4 and IPv6), no kernel socket
 * exists for the flow, so nothing is ever retransmitted. Needs root or CAP_NET_RAW.
 *
 * `raw-socket` is an optional dependency (#18): a native addon compiled at install, which npm
 * leaves out when there is no C toolchain. It is loaded only here, on the first raw send, so
 * everything else works without it and `-method raw` fails with `RAW_SOCKET_UNAVAILABLE`.
 */
import { randomInt } from "node:crypto";
import { createRequire } from "node:module";
import { setTimeout as sleep } from "node:timers/promises";
import { PortknockError } from "@portknock/core";
import { buildSyn } from "./tcp-syn.ts";
import type { SendReport } from "./send.ts";

// raw-socket is a CommonJS native addon without types: this is the part of it we use.
interface RawSocket {
  send(
    buffer: Buffer,
    offset: number,
    length: number,
    address: string,
    after: (error: Error | null, bytes: number) => void,
  ): void;
  on(event: "error", listener: (error: Error) => void): void;
  on(event: "close", listener: () => void): void;
  pauseRecv(): RawSocket;
  close(): void;
}
interface RawSocketModule {
  createSocket(options: { protocol: number; addressFamily: number }): RawSocket;
  Protocol: { TCP: number };
  AddressFamily: { IPv4: number; IPv6: number };
}

/** Options of `sendKnockRaw`. */
export interface RawSendOptions {
  address: string;
  family: 4 | 6;
  /** The local address the kernel will send from (for the checksum's pseudo-header). */
  sourceAddress: string;
  delayMs: number;
  signal?: AbortSignal;
}

/**
 * Sockets being used. raw-socket's native wrapper is weak (its libuv poll does not keep the
 * JavaScript object alive): while we wait for a send, the socket, its queued request and our
 * pending promise form a cycle nothing else reaches, and a garbage collection then destroys the
 * socket, stops its poll and leaves the process with nothing to wait for (it exited 13, unsettled
 * top-level await, in 1 run of 8). Holding the socket here until it is closed prevents that.
 */
const inUse = new Set<RawSocket>();

let loaded: RawSocketModule | undefined;

/**
 * `raw-socket`, loaded on first use. Throws `PortknockError` `RAW_SOCKET_UNAVAILABLE` when it
 * cannot be loaded (not installed, or its addon not built), saying how to install it.
 */
function loadRawSocket(): RawSocketModule {
  if (loaded !== undefined) return loaded;
  try {
    loaded = createRequire(import.meta.url)("raw-socket") as RawSocketModule;
  } catch (e) {
    const why = (e instanceof Error ? e.message : String(e)).split("\n")[0];
    throw new PortknockError(
      "RAW_SOCKET_UNAVAILABLE",
      `method = raw needs the optional package raw-socket, which could not be loaded (${why}). ` +
        "It is a native addon compiled when @portknock/knock is installed, which needs a C compiler, " +
        "make and python3 (Debian: apt-get install build-essential python3); then install " +
        '@portknock/knock again, or run "npm install raw-socket@1.8.1" beside it ("npm install -g" ' +
        "for a global install). Or use method = connect",
      { cause: e },
    );
  }
  return loaded;
}

/** Sends one SYN per port, in order; resolves with what was sent. */
export async function sendKnockRaw(
  ports: readonly number[],
  o: RawSendOptions,
): Promise<SendReport> {
  const raw = loadRawSocket();
  let socket: RawSocket;
  try {
    socket = raw.createSocket({
      protocol: raw.Protocol.TCP,
      addressFamily:
        o.family === 6 ? raw.AddressFamily.IPv6 : raw.AddressFamily.IPv4,
    });
  } catch (e) {
    throw new PortknockError(
      "RAW_SOCKET_DENIED",
      `method = raw needs root or CAP_NET_RAW (${(e as Error).message}); use method = connect`,
      { cause: e },
    );
  }
  inUse.add(socket);
  const report: SendReport = { sent: 0, failures: [] };
  // We never read: a raw TCP socket would otherwise be handed a copy of every TCP packet the host
  // receives (the RSTs the knock provokes among them).
  socket.pauseRecv();
  // raw-socket closes the socket on an error, and a send still queued then never calls back:
  // end the wait for it with the error (the process would otherwise exit with nothing pending).
  let failed: ((error: Error) => void) | undefined;
  let broken: Error | undefined;
  const fail = (error: Error): void => {
    broken ??= error;
    failed?.(error);
  };
  socket.on("error", fail);
  socket.on("close", () => fail(new Error("the raw socket closed")));
  try {
    for (const [i, port] of ports.entries()) {
      o.signal?.throwIfAborted();
      if (i > 0 && o.delayMs > 0)
        await sleep(o.delayMs, undefined, { signal: o.signal });
      const seg = Buffer.from(
        buildSyn({
          srcIp: o.sourceAddress,
          dstIp: o.address,
          srcPort: randomInt(32768, 61000),
          dstPort: port,
          seq: randomInt(0, 2 ** 32 - 1),
        }),
      );
      await new Promise<void>((resolve) => {
        let settled = false;
        const done = (error: Error | null): void => {
          if (settled) return;
          settled = true;
          failed = undefined;
          if (error)
            report.failures.push({
              port,
              code: (error as NodeJS.ErrnoException).code ?? "SEND_FAILED",
            });
          else report.sent++;
          resolve();
        };
        if (broken !== undefined) return done(broken);
        failed = done;
        socket.send(seg, 0, seg.length, o.address, done);
      });
    }
  } finally {
    socket.close();
    inUse.delete(socket);
  }
  return report;
}
