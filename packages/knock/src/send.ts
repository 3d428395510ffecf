/**
 * Sending a knock (client.md "Sending"): one TCP SYN per port, in order, `delayMs` apart, with no
 * kernel retransmit; or one empty UDP datagram per port.
 *
 * `method = connect` is unprivileged: a non-blocking connect puts exactly one SYN on the wire, and
 * the socket is destroyed well before Linux's initial retransmission timeout (1 s), so the kernel
 * never sends a second one. Destroying a socket in SYN-SENT sends nothing (no RST, no FIN).
 */
import { Socket } from "node:net";
import { createSocket } from "node:dgram";
import { setTimeout as sleep } from "node:timers/promises";

/** How to send. */
export interface SendOptions {
  /** The remote IP address (already resolved). */
  address: string;
  family: 4 | 6;
  protocol: "tcp" | "udp";
  /** Pause between two ports, in milliseconds. */
  delayMs: number;
  /** Longest a connect attempt is kept open: must stay below the 1 s initial RTO. Default 250. */
  abortAfterMs?: number;
  signal?: AbortSignal;
}

/** What was sent. */
export interface SendReport {
  sent: number;
  /** Ports whose attempt failed locally (not a refusal by the remote), with the errno code (`SEND_FAILED` when the error had none). */
  failures: Array<{ port: number; code: string }>;
}

// A refused or timed-out connection is the expected outcome of a knock, not a failure.
const EXPECTED = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EHOSTUNREACH",
]);

/** Start one connect attempt and return once the SYN has left (the connect syscall ran). */
function startConnect(
  address: string,
  family: 4 | 6,
  port: number,
  onError: (code: string) => void,
): Socket {
  const socket = new Socket();
  socket.on("error", (err: NodeJS.ErrnoException) => {
    const code = err.code ?? "SEND_FAILED";
    if (!EXPECTED.has(code)) onError(code);
  });
  socket.connect({ host: address, port, family });
  return socket;
}

/** Sends `ports` to `options.address` in order. Rejects only on abort. */
export async function sendKnock(
  ports: readonly number[],
  options: SendOptions,
): Promise<SendReport> {
  const report: SendReport = { sent: 0, failures: [] };
  const abortAfterMs = Math.min(options.abortAfterMs ?? 250, 900);
  if (options.protocol === "udp") {
    const socket = createSocket(options.family === 6 ? "udp6" : "udp4");
    try {
      for (const [i, port] of ports.entries()) {
        options.signal?.throwIfAborted();
        if (i > 0 && options.delayMs > 0)
          await sleep(options.delayMs, undefined, { signal: options.signal });
        await new Promise<void>((resolve) => {
          socket.send(new Uint8Array(0), port, options.address, (err) => {
            if (err)
              report.failures.push({
                port,
                code: (err as NodeJS.ErrnoException).code ?? "SEND_FAILED",
              });
            else report.sent++;
            resolve();
          });
        });
      }
    } finally {
      socket.close();
    }
    return report;
  }
  const open: Array<{ socket: Socket; timer: NodeJS.Timeout }> = [];
  try {
    for (const [i, port] of ports.entries()) {
      options.signal?.throwIfAborted();
      if (i > 0 && options.delayMs > 0)
        await sleep(options.delayMs, undefined, { signal: options.signal });
      let failed = false;
      const socket = startConnect(
        options.address,
        options.family,
        port,
        (code) => {
          failed = true;
          report.failures.push({ port, code });
        },
      );
      // Node issues the connect syscall on the next tick; let it run before moving on so the
      // SYNs leave in order even with delayMs = 0.
      await new Promise((resolve) => setImmediate(resolve));
      if (!failed) report.sent++;
      const timer = setTimeout(() => socket.destroy(), abortAfterMs);
      open.push({ socket, timer });
    }
    // Wait for the last attempt's abort so the process does not exit with a socket that the
    // kernel would retransmit for.
    await sleep(Math.min(abortAfterMs, 1000), undefined, {
      signal: options.signal,
    });
  } finally {
    for (const { socket, timer } of open) {
      clearTimeout(timer);
      socket.destroy();
    }
  }
  return report;
}
