/**
 * The metrics endpoint's server on real loopback sockets (#15): what it answers, how it is
 * bounded, and how it listens, fails to listen and moves.
 */
import { request } from "node:http";
import type { IncomingHttpHeaders } from "node:http";
import { connect, createServer } from "node:net";
import type { Socket } from "node:net";
import { PassThrough } from "node:stream";
import { describe, expect, it, onTestFinished } from "vitest";
import type { ListenAddress } from "@portknock/config";
import { freePort } from "../test/helpers.ts";
import { createDaemonLogger } from "./logger.ts";
import type { MetricsEndpointOptions } from "./metrics-server.ts";
import { createMetricsEndpoint } from "./metrics-server.ts";

const PAGE = "# HELP x_total X.\n# TYPE x_total counter\nx_total 1\n";

function at(port: number, host = "127.0.0.1"): ListenAddress {
  return { host, port, text: `${host}:${port}` };
}

function endpoint(options: Partial<MetricsEndpointOptions> = {}): {
  ep: ReturnType<typeof createMetricsEndpoint>;
  log: () => object[];
} {
  const stream = new PassThrough();
  let text = "";
  stream.on("data", (d: Buffer) => (text += d.toString()));
  const ep = createMetricsEndpoint({
    render: () => PAGE,
    logger: createDaemonLogger({ json: true, level: "debug", stream }),
    ...options,
  });
  onTestFinished(() => ep.close());
  return {
    ep,
    log: () =>
      text
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l) as object),
  };
}

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

function send(
  port: number,
  path: string,
  options: { method?: string; body?: string } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        path,
        method: options.method ?? "GET",
        agent: false,
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => (body += d));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body }),
        );
      },
    );
    req.on("error", reject);
    req.end(options.body);
  });
}

/** A raw connection and a promise of its end (closed by the server, or an error). */
function rawSocket(
  port: number,
): Promise<{ socket: Socket; closed: Promise<string> }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port });
    let data = "";
    socket.setEncoding("utf8");
    socket.on("data", (d: string) => (data += d));
    const closed = new Promise<string>((r) =>
      socket.once("close", () => r(data)),
    );
    onTestFinished(() => void socket.destroy());
    socket.once("connect", () => resolve({ socket, closed }));
    socket.once("error", reject);
  });
}

describe("the metrics endpoint's server (#15)", { timeout: 20_000 }, () => {
  it("GET /metrics: 200, the exposition format's Content-Type and the page; HEAD: headers only", async () => {
    const port = await freePort();
    const { ep } = endpoint();
    expect(await ep.listen(at(port))).toBe(true);
    expect(ep.address?.port).toBe(port);
    const r = await send(port, "/metrics");
    expect(r.status).toBe(200);
    expect(r.headers["content-type"]).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(r.body).toBe(PAGE);
    expect(Number(r.headers["content-length"])).toBe(Buffer.byteLength(PAGE));
    expect((await send(port, "/metrics?name[]=x_total")).body).toBe(PAGE);
    const head = await send(port, "/metrics", { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.body).toBe("");
  });

  it("404 for other paths, 405 (Allow: GET, HEAD) for other methods", async () => {
    const port = await freePort();
    const { ep } = endpoint();
    await ep.listen(at(port));
    for (const path of ["/", "/metrics/", "/metricsx", "/debug", "//metrics"]) {
      const r = await send(port, path);
      expect(r.status, path).toBe(404);
      expect(r.body).not.toContain("x_total");
    }
    for (const method of ["POST", "PUT", "DELETE", "OPTIONS", "PATCH"]) {
      const r = await send(port, "/metrics", { method });
      expect(r.status, method).toBe(405);
      expect(r.headers.allow).toBe("GET, HEAD");
    }
  });

  it("never reads a request body: a POST with a large one is answered 405 and its connection closed", async () => {
    const port = await freePort();
    const { ep } = endpoint();
    await ep.listen(at(port));
    const { socket, closed } = await rawSocket(port);
    socket.write(
      "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n",
    );
    socket.write("x".repeat(65_536));
    const answer = await closed;
    expect(answer).toMatch(/^HTTP\/1\.1 405 /);
    expect(answer).toMatch(/connection: close/i);
    // The server is still there for the next scraper.
    expect((await send(port, "/metrics")).status).toBe(200);
  });

  it("caps concurrent connections: one over the cap is closed at once, the others still served", async () => {
    const port = await freePort();
    const { ep } = endpoint({ limits: { maxConnections: 2 } });
    await ep.listen(at(port));
    const a = await rawSocket(port);
    const b = await rawSocket(port);
    const over = await rawSocket(port);
    over.socket.write("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
    expect(await over.closed).toBe("");
    a.socket.write(
      "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    expect(await a.closed).toMatch(/^HTTP\/1\.1 200 [\s\S]*x_total 1\n$/);
    b.socket.destroy();
    await b.closed;
    expect((await send(port, "/metrics")).status).toBe(200);
  });

  it("closes a connection that does not finish its headers within headersTimeout", async () => {
    const port = await freePort();
    const { ep } = endpoint({
      limits: { headersTimeoutMs: 300, requestTimeoutMs: 600 },
    });
    await ep.listen(at(port));
    const { socket, closed } = await rawSocket(port);
    socket.write("GET /metrics HTTP/1.1\r\nHost: x\r\n");
    const started = Date.now();
    expect(await closed).toMatch(/^(HTTP\/1\.1 408 |$)/);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it("a port in use: false, METRICS_LISTEN_FAILED with EADDRINUSE and the config line, nothing listening", async () => {
    const taken = createServer();
    await new Promise<void>((r) =>
      taken.listen({ host: "127.0.0.1", port: 0 }, r),
    );
    onTestFinished(() => void taken.close());
    const { port } = taken.address() as { port: number };
    const { ep, log } = endpoint();
    expect(await ep.listen(at(port), "knockdaemon.conf:12")).toBe(false);
    expect(ep.address).toBeUndefined();
    const entry = log().find(
      (l) => (l as { event?: string }).event === "metrics.error",
    ) as { code: string; reason: string; msg: string };
    expect(entry.code).toBe("METRICS_LISTEN_FAILED");
    expect(entry.reason).toBe("EADDRINUSE");
    expect(entry.msg).toContain(
      `metrics = 127.0.0.1:${port} (knockdaemon.conf:12)`,
    );
    expect(entry.msg).toContain("EADDRINUSE (address already in use)");
  });

  it("an address this host does not have: EADDRNOTAVAIL", async () => {
    const { ep, log } = endpoint();
    // TEST-NET-1 (RFC 5737): bound on no interface here; binding sends nothing.
    expect(await ep.listen(at(9464, "192.0.2.1"))).toBe(false);
    expect(log()).toContainEqual(
      expect.objectContaining({
        code: "METRICS_LISTEN_FAILED",
        reason: "EADDRNOTAVAIL",
      }),
    );
  });

  it("moves to a new address, keeps the old one when the new one fails, and stops listening", async () => {
    const [p1, p2] = [await freePort(), await freePort()];
    const { ep, log } = endpoint();
    await ep.listen(at(p1));
    // A kept-alive scraper must not hold the move (or close) up.
    const kept = await rawSocket(p1);
    kept.socket.write("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
    expect(await ep.listen(at(p1))).toBe(true); // unchanged: nothing happens
    expect(await ep.listen(at(p2))).toBe(true);
    await kept.closed;
    await expect(send(p1, "/metrics")).rejects.toThrow(/ECONNREFUSED/);
    expect((await send(p2, "/metrics")).status).toBe(200);

    const taken = createServer();
    await new Promise<void>((r) =>
      taken.listen({ host: "127.0.0.1", port: 0 }, r),
    );
    onTestFinished(() => void taken.close());
    const busy = (taken.address() as { port: number }).port;
    expect(await ep.listen(at(busy))).toBe(false);
    expect(ep.address?.port).toBe(p2);
    expect((await send(p2, "/metrics")).status).toBe(200);
    expect(log()).toContainEqual(
      expect.objectContaining({ event: "metrics.kept" }),
    );

    expect(await ep.listen(undefined)).toBe(true);
    expect(ep.address).toBeUndefined();
    await expect(send(p2, "/metrics")).rejects.toThrow(/ECONNREFUSED/);
    await ep.close();
    await ep.close();
  });

  it("a page that cannot be made is a 500 and an INTERNAL error in the log, and the server goes on", async () => {
    const port = await freePort();
    let fail = true;
    const { ep, log } = endpoint({
      render: () => {
        if (fail) throw new Error("broken invariant");
        return PAGE;
      },
    });
    await ep.listen(at(port));
    expect((await send(port, "/metrics")).status).toBe(500);
    expect(log()).toContainEqual(
      expect.objectContaining({ event: "metrics.error", code: "INTERNAL" }),
    );
    fail = false;
    expect((await send(port, "/metrics")).body).toBe(PAGE);
  });
});
