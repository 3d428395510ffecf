/**
 * knockd in network mode on real packets (issue #7): the daemon captures with libpcap in a test
 * network namespace while the real `knock` client knocks — connect and raw methods, TCP and UDP,
 * IPv4 and IPv6, noise from other sources interleaved, and across a veth pair with a DROP rule.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Exposition } from "./exposition.ts";
import { parseExposition } from "./exposition.ts";
import { KNOCK, recorder, tempDir, waitFor } from "./helpers.ts";
import type { Netns } from "./netns.ts";
import {
  createNetns,
  execIn,
  gateRootTests,
  spawnDaemonIn,
  spawnIn,
} from "./netns.ts";

const gate = gateRootTests(["ip", "iptables"]);
const KEY = "base64:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
const KNOCK_ARGS = [
  "-format",
  "sealed",
  "-knock",
  "CLIENT,PORT,FLAG0",
  "-portspan",
  "1024-33791",
  "-key",
  KEY,
];

/**
 * Waits until the kernel reports `iface` up (operstate, set by linkwatch up to ~1 s after
 * `ip link set up`): until then `os.networkInterfaces()` (libuv: IFF_RUNNING only) leaves its
 * addresses out, and knockd's first packets would be FRAME_NOT_FOR_US although they reach it.
 */
async function waitUntilUp(ns: Netns, iface: string): Promise<void> {
  await waitFor(
    () => ns.exec(["cat", `/sys/class/net/${iface}/operstate`]).trim() === "up",
    `${iface} up`,
    10_000,
  );
}

/**
 * A client and a gateway namespace joined by a veth pair: the client's end `a` is NET.1/24, the
 * gateway's `b` NET.2/24, both up (and `b` reported up) when this returns.
 */
async function vethPair(
  net: string,
): Promise<{ client: Netns; gw: Netns; a: string; b: string }> {
  const client = createNetns();
  const gw = createNetns();
  const a = `pka${client.name.slice(3, 9)}`;
  const b = `pkb${client.name.slice(3, 9)}`;
  client.exec([
    "ip",
    "link",
    "add",
    a,
    "type",
    "veth",
    "peer",
    "name",
    b,
    "netns",
    gw.name,
  ]);
  client.exec(["ip", "addr", "add", `${net}.1/24`, "dev", a]);
  client.exec(["ip", "link", "set", a, "up"]);
  gw.exec(["ip", "addr", "add", `${net}.2/24`, "dev", b]);
  gw.exec(["ip", "link", "set", b, "up"]);
  await waitUntilUp(gw, b);
  return { client, gw, a, b };
}

function daemonConf(dir: string, rec: string, extra: string): string {
  const conf = join(dir, "knockdaemon.conf");
  writeFileSync(
    conf,
    [
      "runmode = network",
      "format = sealed",
      "knock = CLIENT,PORT,FLAG0",
      "portspan = 1024-33791",
      `key = ${KEY}`,
      extra,
      "<actions>",
      "  <action>",
      "    template = t",
      "  </action>",
      "  <template t>",
      `    system = "${rec} CLIENT PORT FLAG0"`,
      "  </template>",
      "</actions>",
    ].join("\n"),
  );
  return conf;
}

const METRICS_PORT = 40000;

/** `GET /metrics` from inside the namespace, from a source port outside the span too. */
async function scrapeIn(ns: string): Promise<Exposition> {
  const r = await execIn(ns, [
    process.execPath,
    "-e",
    `require("node:http").get({ host: "127.0.0.1", port: ${METRICS_PORT}, path: "/metrics", localPort: 45000 }, (res) => {
      if (res.statusCode !== 200) process.exit(1);
      res.pipe(process.stdout);
    });`,
  ]);
  expect(r.code).toBe(0);
  return parseExposition(r.stdout);
}

// The manual's own example, as written.
const TCPLO = `interface = lo
useethfilter = tcplo
<ethfilter tcplo>
  proto = IP_PROTO_TCP
  flags = SYN
  dest_ip = 127.0.0.1
</ethfilter>`;

describe.skipIf(gate.skip)(
  "knockd network mode on real packets (root)",
  { timeout: 40_000 },
  () => {
    it.each([["connect"], ["raw"]])(
      "the manual's tcplo filter on lo: knock -method %s",
      async (method) => {
        const ns = createNetns();
        const dir = tempDir();
        const rec = recorder(dir);
        const d = await spawnDaemonIn(ns.name, [
          "-conf",
          // The namespace's own port, outside the span: scraping it adds no hit (#15).
          daemonConf(dir, rec.path, `${TCPLO}\nmetrics = ${METRICS_PORT}`),
          "-logjson",
        ]);
        // Noise: SYNs into the span from another local source while the knock runs.
        const noise = spawnIn(ns.name, [
          process.execPath,
          "-e",
          `
      const net = require("node:net");
      let i = 0;
      const t = setInterval(() => {
        const s = net.connect({ host: "127.0.0.1", port: 1024 + ((i++ * 7919) % 32768), localAddress: "127.0.0.2" });
        s.on("error", () => {}); setTimeout(() => s.destroy(), 100);
        if (i > 60) { clearInterval(t); setTimeout(() => process.exit(0), 200); }
      }, 5);`,
        ]);
        const r = await execIn(ns.name, [
          process.execPath,
          KNOCK,
          "-remote",
          "127.0.0.1",
          "-method",
          method,
          "-port",
          "22",
          "-flag0",
          "1",
          ...KNOCK_ARGS,
        ]);
        expect(r.stderr).toBe("");
        expect(r.code).toBe(0);
        await waitFor(() => rec.lines().length === 1, "the action", 15_000);
        expect(rec.lines()).toEqual(["127.0.0.1 22 1"]);
        // The noise ends by itself once its 61 SYNs are out.
        await waitFor(
          () => noise.child.exitCode != null,
          "the noise sender to finish",
          10_000,
        );
        // SIGUSR1: the capture's counters, libpcap's own among them.
        const from = d.stderr().length;
        d.child.kill("SIGUSR1");
        const counters = JSON.parse(
          await d.waitForLine(/"event":"counters"/, 10_000, from),
        ) as {
          knocksAccepted: number;
          capture: {
            seen: number;
            droppedInQueue: number;
            pcap: { received: number; dropped: number; ifDropped: number };
          };
        };
        expect(counters.knocksAccepted).toBe(1);
        // 61 noise SYNs and the knock's passed the kernel filter, none lost.
        expect(counters.capture.seen).toBeGreaterThan(61);
        expect(counters.capture.pcap.received).toBeGreaterThanOrEqual(
          counters.capture.seen,
        );
        expect(counters.capture.pcap.dropped).toBe(0);
        expect(counters.capture.droppedInQueue).toBe(0);
        // /metrics shows the capture's counters too, the numbers SIGUSR1 logged (#15).
        const page = await scrapeIn(ns.name);
        expect(page.value("portknock_lines_read_total")).toBe(
          counters.capture.seen,
        );
        expect(page.value("portknock_capture_received_total")).toBe(
          counters.capture.pcap.received,
        );
        for (const [stage, n] of [
          ["queue", counters.capture.droppedInQueue],
          ["kernel", counters.capture.pcap.dropped],
          ["interface", counters.capture.pcap.ifDropped],
        ] as const) {
          expect(page.value("portknock_capture_dropped_total", { stage })).toBe(
            n,
          );
        }
        expect(page.value("portknock_knocks_accepted_total")).toBe(1);
        expect(await d.stop()).toBe(0);
        expect(d.stderr()).toMatch(/ready/);
      },
    );

    it.each([["connect"], ["raw"]])(
      "IPv6: knocks ::1 with an IPv6 CLIENT, -method %s",
      async (method) => {
        const ns = createNetns();
        const dir = tempDir();
        const rec = recorder(dir);
        const d = await spawnDaemonIn(ns.name, [
          "-conf",
          daemonConf(dir, rec.path, "interface = lo"),
        ]);
        const r = await execIn(ns.name, [
          process.execPath,
          KNOCK,
          "-remote",
          "::1",
          "-method",
          method,
          "-port",
          "443",
          "-flag0",
          "2",
          ...KNOCK_ARGS,
        ]);
        expect(r.code).toBe(0);
        await waitFor(() => rec.lines().length === 1, "the action", 15_000);
        expect(rec.lines()).toEqual(["::1 443 2"]);
        await d.stop();
      },
    );

    it.each([["connect"], ["raw"]])(
      "IPv6 through the allocation-free lane (#20): knocks another address of lo, -method %s",
      async (method) => {
        // ::1 as a source keeps the object lane; fd00:99::1 to itself takes the columns.
        const ns = createNetns();
        ns.exec(["ip", "-6", "addr", "add", "fd00:99::1/128", "dev", "lo"]);
        const dir = tempDir();
        const rec = recorder(dir);
        const d = await spawnDaemonIn(ns.name, [
          "-conf",
          daemonConf(dir, rec.path, "interface = lo"),
        ]);
        const r = await execIn(ns.name, [
          process.execPath,
          KNOCK,
          "-remote",
          "fd00:99::1",
          "-method",
          method,
          "-port",
          "443",
          "-flag0",
          "2",
          ...KNOCK_ARGS,
        ]);
        expect(r.code).toBe(0);
        await waitFor(() => rec.lines().length === 1, "the action", 15_000);
        expect(rec.lines()).toEqual(["fd00:99::1 443 2"]);
        await d.stop();
      },
    );

    it("UDP knocks with proto = IP_PROTO_UDP", async () => {
      const ns = createNetns();
      const dir = tempDir();
      const rec = recorder(dir);
      const conf = daemonConf(
        dir,
        rec.path,
        "interface = lo\nuseethfilter = udp\n<ethfilter udp>\n  proto = IP_PROTO_UDP\n</ethfilter>",
      );
      const d = await spawnDaemonIn(ns.name, ["-conf", conf]);
      const r = await execIn(ns.name, [
        process.execPath,
        KNOCK,
        "-remote",
        "127.0.0.1",
        "-protocol",
        "udp",
        "-port",
        "22",
        "-flag0",
        "3",
        ...KNOCK_ARGS,
      ]);
      expect(r.code).toBe(0);
      await waitFor(() => rec.lines().length === 1, "the action", 15_000);
      expect(rec.lines()).toEqual(["127.0.0.1 22 3"]);
      await d.stop();
    });

    it("across a veth pair, through a firewall that DROPs the span", async () => {
      const { client, gw, b } = await vethPair("10.201.0");
      gw.exec([
        "iptables",
        "-A",
        "INPUT",
        "-i",
        b,
        "-p",
        "tcp",
        "--dport",
        "1024:33791",
        "-j",
        "DROP",
      ]);
      const dir = tempDir();
      const rec = recorder(dir);
      const d = await spawnDaemonIn(gw.name, [
        "-conf",
        daemonConf(dir, rec.path, `interface = ${b}`),
      ]);
      const r = await execIn(client.name, [
        process.execPath,
        KNOCK,
        "-remote",
        "10.201.0.2",
        "-port",
        "22",
        "-flag0",
        "4",
        ...KNOCK_ARGS,
      ]);
      expect(r.code).toBe(0);
      await waitFor(() => rec.lines().length === 1, "the action", 15_000);
      expect(rec.lines()).toEqual(["10.201.0.1 22 4"]);
      // The firewall really dropped the knock's SYNs.
      expect(gw.exec(["iptables", "-L", "INPUT", "-v", "-n", "-x"])).toMatch(
        /^\s+1[4-9]\s+\d+\s+DROP/m,
      );
      await d.stop();
    });

    // -debug takes every packet through decodeFrame; without it, IPv4 frames take the
    // allocation-free lane (#20), which must apply the same address rules.
    it.each([["-debug"], ["the allocation-free lane"]])(
      "a knock addressed to another host on the link is not ours: FRAME_NOT_FOR_US, no action; one to us runs (#16), %s",
      async (variant) => {
        const debug = variant === "-debug";
        const { client, gw, a, b } = await vethPair("10.202.0");
        // 10.202.0.9 is "another host" whose frames reach the gateway's interface (as on a bridge
        // port): the client sends them to the gateway's MAC.
        const mac = gw.exec(["cat", `/sys/class/net/${b}/address`]).trim();
        client.exec([
          "ip",
          "neigh",
          "add",
          "10.202.0.9",
          "lladdr",
          mac,
          "dev",
          a,
        ]);
        const dir = tempDir();
        const rec = recorder(dir);
        const d = await spawnDaemonIn(gw.name, [
          "-conf",
          daemonConf(
            dir,
            rec.path,
            `interface = ${b}\nmetrics = ${METRICS_PORT}`,
          ),
          ...(debug ? ["-debug"] : []),
          "-logjson",
        ]);
        const knock = (remote: string, flag: string) =>
          execIn(client.name, [
            process.execPath,
            KNOCK,
            "-remote",
            remote,
            "-port",
            "22",
            "-flag0",
            flag,
            ...KNOCK_ARGS,
          ]);
        expect((await knock("10.202.0.9", "6")).code).toBe(0);
        expect((await knock("10.202.0.2", "7")).code).toBe(0);
        await waitFor(
          () => rec.lines().length === 1,
          "the action",
          15_000,
        ).catch((e: Error) => {
          throw new Error(
            `${e.message}; knockd said:\n${d.stderr().slice(-4000)}`,
          );
        });
        expect(rec.lines()).toEqual(["10.202.0.1 22 7"]);
        // -debug names each decision: the first knock's SYNs were not for us, the second's hits.
        const events = d
          .stderr()
          .split("\n")
          .filter((l) => l.includes('"packet.'));
        expect(
          events.some((l) => l.includes('"code":"FRAME_NOT_FOR_US"')),
        ).toBe(debug);
        expect(events.some((l) => l.includes('"event":"packet.hit"'))).toBe(
          debug,
        );
        const page = await scrapeIn(gw.name);
        const notForUs = page.value("portknock_rejections_total", {
          code: "FRAME_NOT_FOR_US",
        });
        // Every SYN of the first knock (the second one's are hits).
        expect(notForUs).toBeGreaterThanOrEqual(14);
        // packetsSeen counts both knocks' SYNs, whichever way they were read.
        expect(page.value("portknock_lines_read_total")).toBeGreaterThanOrEqual(
          notForUs + 14,
        );
        expect(page.value("portknock_knocks_accepted_total")).toBe(1);
        await d.stop();
        expect(rec.lines()).toEqual(["10.202.0.1 22 7"]);
      },
    );
  },
);
