/**
 * `openCapture` in this process on `lo` (root): the bounded queue drops and counts when the
 * consumer lags, `map` runs in the libpcap callback, and a throwing `map` ends the iteration with
 * its error instead of escaping into cap's native callback. Each test filters on its own random
 * UDP port, so other traffic on `lo` does not reach it.
 */
import { randomInt } from "node:crypto";
import { createSocket } from "node:dgram";
import { describe, expect, it, onTestFinished } from "vitest";
import { openCapture } from "../src/open-capture.ts";
import { gateRootTests } from "./netns.ts";

const gate = gateRootTests(["ip"]);

async function sendUdp(port: number, count: number): Promise<void> {
  const socket = createSocket("udp4");
  for (let i = 0; i < count; i++) {
    await new Promise<void>((resolve, reject) =>
      socket.send(`${i}`, port, "127.0.0.1", (e) =>
        e ? reject(e) : resolve(),
      ),
    );
  }
  socket.close();
}

/** Resolves once `predicate` holds, checking on every turn of the event loop (no timers). */
async function until(predicate: () => boolean): Promise<void> {
  for (let i = 0; i < 100_000 && !predicate(); i++) {
    await new Promise((resolve) => setImmediate(resolve));
  }
  expect(predicate()).toBe(true);
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
});
