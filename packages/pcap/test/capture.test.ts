/**
 * `openCapture` and the addon in this process on `lo` (root; issue #7): the bounded queue drops
 * and counts when the consumer lags, `map` runs in the batch callback, a throwing `map` ends the
 * iteration with its error; libpcap's own counters (`pcapStats()`: received, dropped by a full
 * ring), the snap length, libpcap's timestamps, errors of bad devices and filters, `close()`
 * twice, and open/close/garbage-collection cycles in a child. Each test filters on its own
 * random UDP port, so other traffic on `lo` does not reach it.
 */
import { spawnSync } from "node:child_process";
import { randomInt } from "node:crypto";
import { createSocket } from "node:dgram";
import { fileURLToPath } from "node:url";
import { describe, expect, it, onTestFinished } from "vitest";
import { PcapError } from "../src/errors.ts";
import { loadNative } from "../src/native-binding.ts";
import type { NativeCaptureOptions } from "../src/native-binding.ts";
import { openCapture } from "../src/open-capture.ts";
import { ethernet, ipv4, udp } from "./frames.ts";
import { gateRootTests } from "./netns.ts";

const gate = gateRootTests(["ip"]);

async function sendUdp(
  port: number,
  count: number,
  payloadBytes = 1,
): Promise<void> {
  const socket = createSocket("udp4");
  const payload = Buffer.alloc(payloadBytes, 0x61);
  for (let i = 0; i < count; i++) {
    await new Promise<void>((resolve, reject) =>
      socket.send(payload, port, "127.0.0.1", (e) =>
        e ? reject(e) : resolve(),
      ),
    );
  }
  socket.close();
}

/** Resolves once `predicate` holds, checking on every turn of the event loop (no timers). */
async function until(predicate: () => boolean): Promise<void> {
  for (let i = 0; i < 200_000 && !predicate(); i++) {
    await new Promise((resolve) => setImmediate(resolve));
  }
  expect(predicate()).toBe(true);
}

const NATIVE: NativeCaptureOptions = {
  snaplen: 128,
  bufferBytes: 1 << 20,
  promiscuous: false,
  immediate: true,
  timeoutMs: 10,
  batchBytes: 65_536,
  batchPackets: 1024,
  inbound: true,
};

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe.skipIf(gate.skip)("openCapture on lo (root)", () => {
  it("drops and counts the newest packets when the consumer lags", async () => {
    const port = randomInt(40_000, 60_000);
    const capture = openCapture({
      interfaces: ["lo"],
      filter: `udp and dst port ${port}`,
      queueSize: 2,
    });
    onTestFinished(() => capture.close());
    await sendUdp(port, 5);
    await until(() => capture.stats.seen === 5);
    expect(capture.stats).toMatchObject({ seen: 5, decoded: 5, dropped: 3 });
    await capture.close();
    const got: string[] = [];
    for await (const p of capture) got.push(`${p.dstPort} ${p.origin}`);
    expect(got).toEqual([`${port} pcap lo #1`, `${port} pcap lo #2`]);
  });

  it("map filters in the callback; a throwing map rejects the iteration", async () => {
    const port = randomInt(40_000, 60_000);
    let calls = 0;
    const capture = openCapture({
      interfaces: ["lo"],
      filter: `udp and dst port ${port}`,
      immediate: true,
      map: (p) => {
        calls++;
        if (calls === 3) throw new Error("boom");
        return calls === 1 ? undefined : p.srcPort;
      },
    });
    onTestFinished(() => capture.close());
    const got: number[] = [];
    const iteration = (async () => {
      for await (const srcPort of capture) got.push(srcPort);
    })();
    await sendUdp(port, 4);
    await expect(iteration).rejects.toThrow("boom");
    expect(got).toHaveLength(1);
    expect(calls).toBe(3);
  });

  it("pcapStats: received counts what passed the filter (the copy sent on lo is not counted), nothing dropped; libpcap's timestamps; readable after close, which is idempotent", async () => {
    const port = randomInt(40_000, 60_000);
    const before = Date.now();
    const capture = openCapture({
      interfaces: ["lo"],
      filter: `udp and dst port ${port}`,
    });
    onTestFinished(() => capture.close());
    const times: number[] = [];
    const consumed = (async () => {
      for await (const p of capture) times.push(p.timeMs);
    })();
    await sendUdp(port, 100);
    await until(() => capture.stats.seen === 100);
    expect(capture.pcapStats()).toEqual({
      received: 100,
      dropped: 0,
      ifDropped: 0,
      interfaces: { lo: { received: 100, dropped: 0, ifDropped: 0 } },
    });
    await capture.close();
    await capture.close();
    await consumed;
    expect(times).toHaveLength(100);
    // The kernel's receive times, in order, between the open and now.
    expect(times[0]).toBeGreaterThanOrEqual(before - 1);
    expect(times[99]).toBeLessThanOrEqual(Date.now() + 1);
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    expect(capture.pcapStats().received).toBe(100);
  });

  it("pcapStats: a full ring drops in the kernel and says so; every packet is either seen or counted as dropped", async () => {
    const port = randomInt(40_000, 60_000);
    const capture = openCapture({
      interfaces: ["lo"],
      filter: `udp and dst port ${port}`,
      bufferBytes: 65_536, // the smallest ring: a few hundred packets
      snapshotSize: 128,
    });
    onTestFinished(() => capture.close());
    const { Capture } = loadNative();
    const sender = new Capture("lo", "ether proto 0x88b5", NATIVE, () => {});
    onTestFinished(() => sender.close());
    // TEST-NET source: the kernel discards these after the capture (no replies).
    const frame = ethernet(
      ipv4({
        src: "192.0.2.1",
        dst: "127.0.0.1",
        protocol: 17,
        payload: udp(4000, port),
      }),
    );
    // One synchronous call: JavaScript cannot read while the ring fills.
    const sent = sender.send(frame, frame.length, 20_000);
    expect(sent).toBe(20_000);
    await until(() => {
      const s = capture.pcapStats();
      return s.received > 0 && capture.stats.seen + s.dropped === s.received;
    });
    const s = capture.pcapStats();
    expect(s.dropped).toBeGreaterThan(0);
    // The kernel may refuse a few at its own backlog, before any capture sees them.
    expect(s.received).toBeLessThanOrEqual(20_000);
    expect(s.received).toBeGreaterThan(19_000);
    expect(capture.stats.seen + s.dropped).toBe(s.received);
    expect(capture.stats.rejections.FRAME_TRUNCATED).toBe(0);
  });

  it("honours the snap length: frames are cut to it (counted as truncated) and decoded", async () => {
    const port = randomInt(40_000, 60_000);
    const capture = openCapture({
      interfaces: ["lo"],
      filter: `udp and dst port ${port}`,
      snapshotSize: 64,
    });
    onTestFinished(() => capture.close());
    const records: [number, number][] = [];
    const { Capture } = loadNative();
    const raw = new Capture(
      "lo",
      `udp and dst port ${port}`,
      { ...NATIVE, snaplen: 100 },
      (count) => {
        const words = new Uint32Array(raw.batch);
        let offset = 0;
        for (let i = 0; i < count; i++) {
          const caplen = words[(offset >> 2) + 2] ?? 0;
          records.push([caplen, words[(offset >> 2) + 3] ?? 0]);
          offset += 16 + ((caplen + 3) & ~3);
        }
      },
    );
    onTestFinished(() => raw.close());
    expect(raw.snaplen).toBe(100);
    await sendUdp(port, 3, 1000);
    await until(() => capture.stats.seen === 3 && records.length === 3);
    // 14 Ethernet + 20 IPv4 + 8 UDP + 1000 bytes on the wire, 100 kept.
    expect(records).toEqual([
      [100, 1042],
      [100, 1042],
      [100, 1042],
    ]);
    expect(capture.stats).toMatchObject({ seen: 3, decoded: 3, truncated: 3 });
  });

  it("a missing device, a filter libpcap refuses and a non-capturing link are PCAP_OPEN_FAILED with libpcap's reason", () => {
    const noDevice = thrown(() =>
      openCapture({ interfaces: ["lo", "pk-no-such-if"], filter: "tcp" }),
    );
    expect(noDevice).toBeInstanceOf(PcapError);
    expect(noDevice).toMatchObject({
      code: "PCAP_OPEN_FAILED",
      cause: { code: "PCAP_NO_SUCH_DEVICE" },
    });
    const badFilter = thrown(() =>
      openCapture({ interfaces: ["lo"], filter: "tcp and dst portrange 9-" }),
    );
    expect(badFilter).toMatchObject({
      code: "PCAP_OPEN_FAILED",
      cause: { code: "PCAP_FILTER" },
    });
    const { Capture } = loadNative();
    expect(
      thrown(() => new Capture("pk-no-such-if", "", NATIVE, () => {})),
    ).toMatchObject({ code: "PCAP_NO_SUCH_DEVICE" });
    const closed = new Capture("lo", "udp", NATIVE, () => {});
    closed.close();
    closed.close();
    expect(thrown(() => closed.send(new Uint8Array(60)))).toMatchObject({
      code: "PCAP_CLOSED",
    });
  });

  it(
    "survives open/close cycles with garbage collection, dropped open handles and failed opens (#7: cap 0.2.1 crashed)",
    { timeout: 60_000 },
    () => {
      const child = fileURLToPath(
        new URL("./open-close-child.js", import.meta.url),
      );
      const r = spawnSync(process.execPath, ["--expose-gc", child], {
        encoding: "utf8",
      });
      expect([r.status, r.signal, r.stdout, r.stderr]).toEqual([
        0,
        null,
        "ok",
        "",
      ]);
    },
  );
});
