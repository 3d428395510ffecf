/**
 * `method = raw` survives garbage collection while it waits for a send: raw-socket's native
 * wrapper is weak, and a collection during a knock used to destroy the socket, leaving the
 * process with nothing to wait for (exit 13, unsettled top-level await, 1 run in 8; always with a
 * collection forced every tick, as here).
 */
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { createNetns, execIn, gateRootTests } from "./netns.ts";

const SEND_RAW = fileURLToPath(new URL("../dist/send-raw.js", import.meta.url));
const gate = gateRootTests(["ip"]);

// A child that sends 40 raw SYNs to ::1 while collecting garbage at every turn of the loop (the
// interval is unref'd: it must not be what keeps the process alive).
const CHILD = `
const { sendKnockRaw } = await import(${JSON.stringify(SEND_RAW)});
setInterval(() => globalThis.gc(), 0).unref();
const ports = Array.from({ length: 40 }, (_, i) => 1000 + i);
const r = await sendKnockRaw(ports, { address: "::1", family: 6, sourceAddress: "::1", delayMs: 0 });
process.stdout.write(JSON.stringify(r));
`;

describe.skipIf(gate.skip)(
  "method = raw under garbage collection (root)",
  () => {
    it("sends every SYN and exits 0 with a collection forced every tick", async () => {
      const ns = createNetns();
      for (let run = 0; run < 3; run++) {
        const r = await execIn(ns.name, [
          process.execPath,
          "--expose-gc",
          "--input-type=module",
          "-e",
          CHILD,
        ]);
        expect(r.stderr).toBe("");
        expect(r.code).toBe(0);
        expect(JSON.parse(r.stdout)).toEqual({ sent: 40, failures: [] });
      }
      // Three Node processes in a namespace: a hang guard, not a speed target (a loaded machine
      // took over 5 s).
    }, 60_000);
  },
);
