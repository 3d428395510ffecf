/**
 * Two throw-away network namespaces joined by a veth pair, for the root-only firewall tests of
 * `@portknock/firewall` and knockd (issue #17): a gateway (`gw`, where the firewall is installed
 * and a TCP/UDP service listens) and a client with two IPv4 and two IPv6 addresses (the granted
 * one and a second one that must stay closed). Every firewall command runs inside `gw` (`gwRun`,
 * built on the runner the caller passes: the firewall's `spawnArgv()`), so the host's ruleset is
 * never touched.
 */
import { spawn } from "node:child_process";
import type { ChildProcessWithoutNullStreams } from "node:child_process";
import { createInterface } from "node:readline";
import { onTestFinished } from "vitest";
import { createNetns, type Netns } from "./netns.ts";

/** A command runner shaped like `@portknock/firewall`'s `RunArgv` (test-utils depends on no package). */
export type GatewayRunner<O, R> = (argv: readonly string[], options: O) => R;

/** Addresses of the topology. */
export const GW = { v4: "10.77.0.1", v6: "fd77::1" } as const;
/** The client's granted (`a`) and other (`b`) addresses. */
export const CLIENT = {
  a4: "10.77.0.2",
  b4: "10.77.0.3",
  a6: "fd77::2",
  b6: "fd77::3",
} as const;
/** Ports the gateway's service listens on. */
export const PORTS = { protectedTcp: 2222, openTcp: 2223, protectedUdp: 5353 };

/** What a probe found: a TCP handshake or a UDP echo (`open`), a RST (`refused`), nothing (`timeout`). */
export type ProbeResult = "open" | "refused" | "timeout";

/** The topology: namespaces, a runner inside `gw`, and a prober inside the client. */
export interface GatewayTopology<O, R> {
  gw: Netns;
  client: Netns;
  /** Runs a command inside `gw`. */
  gwRun: GatewayRunner<O, R>;
  /** One connection attempt (TCP) or datagram (UDP) from `from` to the gateway. */
  probe(
    protocol: "tcp" | "udp",
    from: string,
    port: number,
    timeoutMs?: number,
  ): Promise<ProbeResult>;
}

// The gateway's service: TCP on two ports (dual-stack), a UDP echo; prints "ready" when bound.
const SERVICE = `
const net = require("node:net"), dgram = require("node:dgram");
const [tcpA, tcpB, udp] = process.argv.slice(1).map(Number);
let left = 4;
const up = () => { if (--left === 0) console.log("ready"); };
for (const p of [tcpA, tcpB]) net.createServer((s) => { s.on("error", () => {}); s.end(); }).listen(p, "::", up);
for (const type of ["udp4", "udp6"]) {
  const u = dgram.createSocket({ type, ipv6Only: type === "udp6" });
  u.on("message", (m, r) => u.send(m, r.port, r.address));
  u.bind(udp, type === "udp4" ? "0.0.0.0" : "::", up);
}`;

// The client's prober: one JSON request per line on stdin, one JSON answer per line on stdout.
const PROBER = `
const net = require("node:net"), dgram = require("node:dgram");
const rl = require("node:readline").createInterface({ input: process.stdin });
rl.on("line", (line) => {
  const q = JSON.parse(line);
  let done = false;
  const answer = (result) => { if (done) return; done = true; clearTimeout(t); cleanup(); console.log(JSON.stringify({ id: q.id, result })); };
  let cleanup = () => {};
  const t = setTimeout(() => answer("timeout"), q.timeoutMs);
  if (q.protocol === "tcp") {
    const s = net.connect({ host: q.host, port: q.port, localAddress: q.from });
    cleanup = () => s.destroy();
    s.on("connect", () => answer("open"));
    s.on("error", (e) => answer(e.code === "ECONNREFUSED" ? "refused" : "error " + e.code));
  } else {
    const u = dgram.createSocket(q.host.includes(":") ? "udp6" : "udp4");
    cleanup = () => u.close();
    u.on("message", () => answer("open"));
    u.on("error", (e) => answer(e.code === "ECONNREFUSED" ? "refused" : "error " + e.code));
    u.bind(0, q.from, () => u.send("ping", q.port, q.host));
  }
});`;

/** Starts `node -e script ...args` in `ns`; killed when the test finishes. */
function spawnNode(
  ns: string,
  script: string,
  args: string[],
): ChildProcessWithoutNullStreams {
  const child = spawn(
    "ip",
    ["netns", "exec", ns, process.execPath, "-e", script, ...args],
    { stdio: ["pipe", "pipe", "pipe"] },
  );
  onTestFinished(() => {
    child.kill("SIGKILL");
  });
  return child;
}

/** The first stdout line of `child`, or its stderr if it exits first. */
function firstLine(child: ChildProcessWithoutNullStreams): Promise<string> {
  return new Promise((resolve, reject) => {
    let err = "";
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.stdout.once("data", (d: Buffer) => resolve(d.toString().trim()));
    child.once("exit", (code) => reject(new Error(`exited ${code}: ${err}`)));
  });
}

/** Creates the topology (both namespaces are deleted when the test finishes). */
export async function createGatewayTopology<O, R>(
  run: GatewayRunner<O, R>,
): Promise<GatewayTopology<O, R>> {
  const gw = createNetns();
  const client = createNetns();
  gw.exec([
    "ip",
    "link",
    "add",
    "veth0",
    "type",
    "veth",
    "peer",
    "name",
    "veth1",
    "netns",
    client.name,
  ]);
  gw.exec(["ip", "addr", "add", `${GW.v4}/24`, "dev", "veth0"]);
  gw.exec(["ip", "-6", "addr", "add", `${GW.v6}/64`, "dev", "veth0", "nodad"]);
  gw.exec(["ip", "link", "set", "veth0", "up"]);
  for (const a of [CLIENT.a4, CLIENT.b4]) {
    client.exec(["ip", "addr", "add", `${a}/24`, "dev", "veth1"]);
  }
  for (const a of [CLIENT.a6, CLIENT.b6]) {
    client.exec([
      "ip",
      "-6",
      "addr",
      "add",
      `${a}/64`,
      "dev",
      "veth1",
      "nodad",
    ]);
  }
  client.exec(["ip", "link", "set", "veth1", "up"]);

  const service = spawnNode(gw.name, SERVICE, [
    String(PORTS.protectedTcp),
    String(PORTS.openTcp),
    String(PORTS.protectedUdp),
  ]);
  const prober = spawnNode(client.name, PROBER, []);
  await firstLine(service);
  const pending = new Map<number, (r: ProbeResult) => void>();
  createInterface({ input: prober.stdout }).on("line", (line) => {
    const { id, result } = JSON.parse(line) as {
      id: number;
      result: ProbeResult;
    };
    pending.get(id)?.(result);
    pending.delete(id);
  });
  let next = 0;
  return {
    gw,
    client,
    gwRun: (argv, options) =>
      run(["ip", "netns", "exec", gw.name, ...argv], options),
    probe(protocol, from, port, timeoutMs = 700) {
      const id = next++;
      const host = from.includes(":") ? GW.v6 : GW.v4;
      return new Promise((resolve) => {
        pending.set(id, resolve);
        prober.stdin.write(
          JSON.stringify({ id, protocol, from, host, port, timeoutMs }) + "\n",
        );
      });
    },
  };
}
