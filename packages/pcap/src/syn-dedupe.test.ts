import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createSynDedupe } from "./syn-dedupe.ts";

function clock(): { now(): number; t: number } {
  return {
    t: 1_000_000,
    now(): number {
      return this.t;
    },
  };
}

const syn = (
  seq: number | undefined,
  srcPort = 40000,
  dstPort = 1001,
  srcIp = "10.0.0.1",
) => ({
  srcIp,
  srcPort,
  dstPort,
  seq,
});

describe("createSynDedupe", () => {
  it("counts a retransmit (same source, ports, sequence number) within the window once", () => {
    const c = clock();
    const d = createSynDedupe({ windowMs: 3000, clock: c });
    expect(d.isDuplicate(syn(7))).toBe(false);
    c.t += 1000;
    expect(d.isDuplicate(syn(7))).toBe(true);
    expect(d.isDuplicate(syn(8))).toBe(false);
    expect(d.isDuplicate(syn(7, 40001))).toBe(false);
    expect(d.isDuplicate(syn(7, 40000, 1002))).toBe(false);
    expect(d.isDuplicate(syn(7, 40000, 1001, "10.0.0.2"))).toBe(false);
  });

  it("forgets after the window; a chain of close retransmits counts once", () => {
    const c = clock();
    const d = createSynDedupe({ windowMs: 3000, clock: c });
    expect(d.isDuplicate(syn(1))).toBe(false);
    c.t += 2000;
    expect(d.isDuplicate(syn(1))).toBe(true);
    c.t += 2999;
    expect(d.isDuplicate(syn(1))).toBe(true);
    c.t += 3000;
    expect(d.isDuplicate(syn(1))).toBe(false);
  });

  it("never calls UDP (no sequence number) a duplicate", () => {
    const d = createSynDedupe({ clock: clock() });
    expect([
      d.isDuplicate(syn(undefined)),
      d.isDuplicate(syn(undefined)),
    ]).toEqual([false, false]);
  });

  it("holds at most `capacity` entries under a flood, and still catches a retransmit", () => {
    const c = clock();
    const d = createSynDedupe({ windowMs: 3000, clock: c, capacity: 1000 });
    for (let i = 0; i < 100_000; i++) d.isDuplicate(syn(i));
    expect(d.size).toBeLessThanOrEqual(1024);
    expect(d.isDuplicate(syn(100_000))).toBe(false);
    expect(d.isDuplicate(syn(100_000))).toBe(true);
  });

  it("catches retransmits among many sources (fast-check)", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(
          fc.tuple(fc.nat(0xffffffff), fc.nat(65535), fc.nat(65535)),
          {
            minLength: 1,
            maxLength: 2000,
            selector: (t) => t.join(" "),
          },
        ),
        (keys) => {
          const c = clock();
          const d = createSynDedupe({ windowMs: 3000, clock: c });
          const packets = keys.map(([seq, sp, dp], i) =>
            syn(seq, sp, dp, `10.0.${i >> 8}.${i & 255}`),
          );
          for (const p of packets) expect(d.isDuplicate(p)).toBe(false);
          c.t += 1000;
          for (const p of packets) expect(d.isDuplicate(p)).toBe(true);
        },
      ),
      { numRuns: 20 },
    );
  });

  it("a clock that goes back does not make duplicates", () => {
    const c = clock();
    const d = createSynDedupe({ clock: c });
    d.isDuplicate(syn(1));
    c.t -= 10_000;
    expect(d.isDuplicate(syn(1))).toBe(false);
  });

  it("refuses a bad window or size", () => {
    expect(() => createSynDedupe({ clock: clock(), windowMs: 0 })).toThrow(
      RangeError,
    );
    expect(() => createSynDedupe({ clock: clock(), capacity: 0.5 })).toThrow(
      RangeError,
    );
  });
});
