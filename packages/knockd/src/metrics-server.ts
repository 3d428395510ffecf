/**
 * The `metrics` endpoint (issue #15): a small `node:http` server that answers `GET /metrics`
 * with the page `render()` makes, and nothing else. It is bounded: request bodies are never
 * read, headers and requests time out quickly, and connections are capped. `node:http` is loaded
 * only when the endpoint is on, so a daemon without `metrics` starts as fast as before.
 */
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { getSystemErrorMap } from "node:util";
import type { ListenAddress } from "@portknock/config";
import type { Logger } from "@portknock/core";
import type { KnockdCode } from "./codes.ts";

/** The Content-Type of the text exposition format. */
export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** The bounds of the endpoint's server. */
export interface MetricsServerLimits {
  /** Connections open at once; more are closed as they arrive. */
  maxConnections: number;
  /** Time for a client to send the request's headers, from the connection (ms). */
  headersTimeoutMs: number;
  /** Time for a whole request (ms). */
  requestTimeoutMs: number;
  /** Idle time before a kept-alive connection is closed (ms). */
  keepAliveTimeoutMs: number;
}

/** The default bounds: a scraper needs one connection and answers in milliseconds. */
export const METRICS_LIMITS: MetricsServerLimits = {
  maxConnections: 16,
  headersTimeoutMs: 5000,
  requestTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5000,
};

/** Options of `createMetricsEndpoint`. */
export interface MetricsEndpointOptions {
  /** The page, made at each request (`formatMetrics`). */
  render: () => string;
  logger: Logger;
  limits?: Partial<MetricsServerLimits>;
}

/** The endpoint of a running daemon: listens where the configuration says, or nowhere. */
export interface MetricsEndpoint {
  /** Where it listens now; undefined when it does not. */
  readonly address: ListenAddress | undefined;
  /**
   * Listens on `address` (undefined: stops listening), replacing the server when the address
   * changed; nothing happens when it did not. Resolves false, after logging
   * `METRICS_LISTEN_FAILED` with the OS reason (and `where`, the config line), when it cannot
   * listen there; a server it replaced is then listening again where it was.
   */
  listen(address: ListenAddress | undefined, where?: string): Promise<boolean>;
  /** Stops listening and closes every connection. Idempotent. */
  close(): Promise<void>;
}

interface Running {
  address: ListenAddress;
  server: Server;
}

/** Creates an endpoint that listens nowhere yet. */
export function createMetricsEndpoint(
  options: MetricsEndpointOptions,
): MetricsEndpoint {
  const { logger } = options;
  const limits = { ...METRICS_LIMITS, ...options.limits };
  const handle = createHandler(options.render, logger);
  let current: Running | undefined;
  // listen() and close() one after another: a reload may come while the server starts.
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const next = queue.then(fn);
    queue = next.catch(() => {});
    return next;
  };

  const start = async (address: ListenAddress): Promise<Running> => ({
    address,
    server: await bind(address, limits, handle),
  });

  return {
    get address(): ListenAddress | undefined {
      return current?.address;
    },
    listen(address, where): Promise<boolean> {
      return serial(async () => {
        if (current?.address.text === address?.text) return true;
        const previous = current;
        if (previous) {
          current = undefined;
          await shut(previous.server);
        }
        if (address == null) {
          if (previous) {
            logger.info(
              { event: "metrics.closed", address: previous.address.text },
              "metrics endpoint closed",
            );
          }
          return true;
        }
        try {
          current = await start(address);
          logger.info(
            { event: "metrics.listening", address: address.text },
            `serving metrics on http://${address.text}/metrics`,
          );
          return true;
        } catch (e) {
          const code: KnockdCode = "METRICS_LISTEN_FAILED";
          logger.error(
            {
              event: "metrics.error",
              code,
              reason: (e as { code?: unknown }).code,
              address: address.text,
            },
            `metrics = ${address.text}${where ? ` (${where})` : ""}: cannot listen: ${describeOsError(e)}`,
          );
        }
        if (previous) {
          try {
            current = await start(previous.address);
            logger.warn(
              { event: "metrics.kept", address: previous.address.text },
              `still serving metrics on http://${previous.address.text}/metrics`,
            );
          } catch (e) {
            logger.error(
              {
                event: "metrics.error",
                code: "METRICS_LISTEN_FAILED",
                reason: (e as { code?: unknown }).code,
                address: previous.address.text,
              },
              `metrics = ${previous.address.text}: cannot listen again: ${describeOsError(e)}; no metrics endpoint`,
            );
          }
        }
        return false;
      });
    },
    close(): Promise<void> {
      return serial(async () => {
        const running = current;
        current = undefined;
        if (running) await shut(running.server);
      });
    },
  };
}

/** `EADDRINUSE (address already in use)`: the OS's code and its words. */
function describeOsError(e: unknown): string {
  const { code, errno } = e as { code?: unknown; errno?: unknown };
  const words =
    typeof errno === "number" ? getSystemErrorMap().get(errno)?.[1] : undefined;
  if (typeof code === "string" && words) return `${code} (${words})`;
  return (e as Error).message;
}

async function bind(
  address: ListenAddress,
  limits: MetricsServerLimits,
  handle: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<Server> {
  const { createServer } = await import("node:http");
  const server = createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      // How often the two timeouts above are checked (Node's default is 30 s).
      connectionsCheckingInterval: Math.min(1000, limits.headersTimeoutMs),
      maxHeaderSize: 8192,
    },
    handle,
  );
  server.maxConnections = limits.maxConnections;
  server.maxRequestsPerSocket = 1000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host: address.host, port: address.port }, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return server;
}

function shut(server: Server): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  // Kept-alive scrapers would hold close() open until they time out.
  server.closeAllConnections();
  return closed;
}

function createHandler(
  render: () => string,
  logger: Logger,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const length = req.headers["content-length"];
    const hasBody =
      (length != null && length !== "0") ||
      req.headers["transfer-encoding"] != null;
    const reply = (
      status: number,
      body: string,
      headers: Record<string, string> = {},
    ): void => {
      if (hasBody) {
        // The body is never read: the connection goes with the answer.
        res.shouldKeepAlive = false;
        res.once("finish", () => req.socket.destroy());
      }
      res.writeHead(status, {
        "Content-Type": "text/plain; charset=utf-8",
        "Content-Length": String(Buffer.byteLength(body)),
        ...headers,
      });
      res.end(req.method === "HEAD" ? undefined : body);
    };
    if (req.method !== "GET" && req.method !== "HEAD") {
      reply(405, "method not allowed: GET /metrics\n", { Allow: "GET, HEAD" });
      return;
    }
    const path = (req.url ?? "").split("?", 1)[0];
    if (path !== "/metrics") {
      reply(404, "not found: GET /metrics\n");
      return;
    }
    let page: string;
    try {
      page = render();
    } catch (e) {
      logger.error(
        { event: "metrics.error", code: "INTERNAL" },
        `cannot render /metrics: ${(e as Error).message}`,
      );
      reply(500, "internal error\n");
      return;
    }
    reply(200, page, { "Content-Type": METRICS_CONTENT_TYPE });
  };
}
