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

  it("keeps at most 2 × maxEntries entries under a flood", () => {
    const c = clock();
    const d = createSynDedupe({ windowMs: 3000, clock: c, maxEntries: 1000 });
    let most = 0;
    for (let i = 0; i < 100_000; i++) {
      d.isDuplicate(syn(i));
      most = Math.max(most, d.size);
    }
    expect(most).toBe(2000);
  });

  it("refuses a bad window or size", () => {
    expect(() => createSynDedupe({ clock: clock(), windowMs: 0 })).toThrow(
      RangeError,
    );
    expect(() => createSynDedupe({ clock: clock(), maxEntries: 0.5 })).toThrow(
      RangeError,
    );
  });
});
