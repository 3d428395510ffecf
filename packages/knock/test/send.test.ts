/**
 * The real client on real packets (issue #4): the built `knock` runs inside a test network
 * namespace and tcpdump on that namespace's `lo` counts what reaches the wire.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import {
  createNetns,
  execIn,
  gateRootTests,
  startCapture,
  startVerboseCapture,
} from "./netns.ts";

const KNOCK = fileURLToPath(new URL("../bin/knock.js", import.meta.url));
const gate = gateRootTests(["ip", "tcpdump", "iptables"]);

// V4: 16 ports on 1000-1255, with repeats (1178 and 1033 twice).
const V4 = [
  1211, 1178, 1033, 1085, 1041, 1089, 1212, 1033, 1011, 1232, 1136, 1077, 1178,
  1155, 1086, 1012,
];
const V4_ARGS = [
  "-knock",
  "CLIENT,PORT,FLAG0,CHECKSUM",
  "-portspan",
  "1000-1255",
  "-key",
  "password",
  "-cipher",
  "Blowfish",
  "-noiv",
  "-client",
  "10.3.2.1",
  "-port",
  "3306",
  "-flag0",
  "5",
];
// Long enough after the last SYN for the kernel's first retransmission (1 s) to show if any.
const RETRANSMIT_WINDOW_MS = 1500;

describe.skipIf(gate.skip)("sending on loopback (root)", () => {
  it("sends exactly one SYN per port, in order, to a closed port (RST)", async () => {
    const ns = createNetns();
    const cap = await startCapture(
      ns.name,
      "tcp[tcpflags] & tcp-syn != 0 and dst portrange 1000-1255",
    );
    const r = await execIn(ns.name, [
      process.execPath,
      KNOCK,
      "-remote",
      "127.0.0.1",
      ...V4_ARGS,
    ]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    await sleep(RETRANSMIT_WINDOW_MS);
    const packets = await cap.stop();
    expect(packets.filter((p) => p.syn).map((p) => p.dstPort)).toEqual(V4);
  });

  it("sends exactly one SYN per port when a firewall DROPs the span (no retransmit)", async () => {
    const ns = createNetns();
    ns.exec([
      "iptables",
      "-A",
      "INPUT",
      "-i",
      "lo",
      "-p",
      "tcp",
      "--dport",
      "1000:1255",
      "-j",
      "DROP",
    ]);
    const cap = await startCapture(
      ns.name,
      "tcp[tcpflags] & tcp-syn != 0 and dst portrange 1000-1255",
    );
    const r = await execIn(ns.name, [
      process.execPath,
      KNOCK,
      "-remote",
      "127.0.0.1",
      "-knockdelay",
      "30",
      ...V4_ARGS,
    ]);
    expect(r.code).toBe(0);
    await sleep(RETRANSMIT_WINDOW_MS);
    const packets = await cap.stop();
    expect(packets.filter((p) => p.syn).map((p) => p.dstPort)).toEqual(V4);
    // Nothing but SYNs left the client: no RST or FIN when the attempts were aborted.
    expect(packets.every((p) => p.syn)).toBe(true);
    // The rule really dropped them (so the test covered the no-RST case).
    expect(ns.exec(["iptables", "-L", "INPUT", "-v", "-n", "-x"])).toMatch(
      /^\s+16\s+\d+\s+DROP/m,
    );
  });

  it("knocks ::1 over IPv6", async () => {
    const ns = createNetns();
    const cap = await startCapture(
      ns.name,
      "ip6 and tcp and dst portrange 1000-1255 and ip6[40+13] & 0x02 != 0",
    );
    const r = await execIn(ns.name, [
      process.execPath,
      KNOCK,
      "-remote",
      "::1",
      ...V4_ARGS,
    ]);
    expect(r.code).toBe(0);
    await sleep(RETRANSMIT_WINDOW_MS);
    const packets = await cap.stop();
    expect(
      packets.filter((p) => p.syn && p.family === 6).map((p) => p.dstPort),
    ).toEqual(V4);
  });

  it("protocol = udp sends one empty datagram per port", async () => {
    const ns = createNetns();
    const cap = await startCapture(ns.name, "udp and dst portrange 1000-1255");
    const r = await execIn(ns.name, [
      process.execPath,
      KNOCK,
      "-remote",
      "127.0.0.1",
      "-protocol",
      "udp",
      ...V4_ARGS,
    ]);
    expect(r.code).toBe(0);
    const packets = await cap.stop();
    expect(
      packets.filter((p) => p.proto === "udp").map((p) => p.dstPort),
    ).toEqual(V4);
  });

  it("defaults -client to the local address that routes to the remote", async () => {
    const ns = createNetns();
    const args = V4_ARGS.filter(
      (a, i, all) => a !== "-client" && all[i - 1] !== "-client",
    );
    const r = await execIn(ns.name, [
      process.execPath,
      KNOCK,
      "-remote",
      "127.0.0.1",
      "-json",
      "-test",
      ...args,
    ]);
    expect(r.code).toBe(0);
    // CLIENT = 127.0.0.1: the plaintext starts with 7f000001.
    expect((JSON.parse(r.stdout) as { plaintext: string }).plaintext).toMatch(
      /^7f000001/,
    );
  });
});

describe.skipIf(gate.skip)("method = raw on loopback (root)", () => {
  it.each([["127.0.0.1"], ["::1"]])(
    "sends one SYN per port with a correct checksum to %s, through a DROP rule",
    async (remote) => {
      const ns = createNetns();
      const tool = remote === "::1" ? "ip6tables" : "iptables";
      ns.exec([
        tool,
        "-A",
        "INPUT",
        "-i",
        "lo",
        "-p",
        "tcp",
        "--dport",
        "1000:1255",
        "-j",
        "DROP",
      ]);
      const filter =
        remote === "::1"
          ? "ip6 and tcp and dst portrange 1000-1255"
          : "tcp and dst portrange 1000-1255";
      const cap = await startVerboseCapture(ns.name, filter);
      const r = await execIn(ns.name, [
        process.execPath,
        KNOCK,
        "-remote",
        remote,
        "-method",
        "raw",
        ...V4_ARGS,
      ]);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      await sleep(RETRANSMIT_WINDOW_MS);
      const text = await cap.stop();
      const syns = text.split("\n").filter((l) => l.includes("Flags [S]"));
      expect(syns).toHaveLength(V4.length);
      expect(syns.every((l) => l.includes("(correct)"))).toBe(true);
      expect(syns.map((l) => Number(/\.(\d+): Flags/.exec(l)?.[1]))).toEqual(
        V4,
      );
    },
  );

  it("method = raw with protocol = udp is a usage error", async () => {
    const ns = createNetns();
    const out = await execIn(ns.name, [
      process.execPath,
      KNOCK,
      "-remote",
      "127.0.0.1",
      "-method",
      "raw",
      "-protocol",
      "udp",
      ...V4_ARGS,
    ]);
    expect(out.code).toBe(2);
    expect(out.stderr).toContain("option -method");
  });
});
