import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createHitTable } from "./hit-table.ts";
import { createRetransmitFilter } from "./retransmit-filter.ts";
import type { KnockHit } from "@portknock/core";

const hit = (
  srcIp: string,
  srcPort: number | undefined,
  dstPort: number,
): KnockHit => ({
  srcIp,
  srcPort,
  dstPort,
  timeMs: 0,
  origin: "test",
});

function settableClock(start = 1_000_000): {
  now(): number;
  set(ms: number): void;
} {
  let t = start;
  return { now: () => t, set: (ms) => (t = ms) };
}

describe("createRetransmitFilter", () => {
  it("counts an identical hit within 3 s once, and again after the window", () => {
    const clock = settableClock(0);
    const filter = createRetransmitFilter({ clock });
    expect(filter.isDuplicate(hit("10.0.0.1", 40000, 1234))).toBe(false);
    clock.set(1000); // the kernel's first SYN retransmit
    expect(filter.isDuplicate(hit("10.0.0.1", 40000, 1234))).toBe(true);
    clock.set(3999); // 2999 ms after the last one: still a retransmit
    expect(filter.isDuplicate(hit("10.0.0.1", 40000, 1234))).toBe(true);
    clock.set(6999); // exactly 3 s after the last one
    expect(filter.isDuplicate(hit("10.0.0.1", 40000, 1234))).toBe(false);
  });

  it("compares source, source port and destination port", () => {
    const clock = settableClock();
    const filter = createRetransmitFilter({ clock });
    expect(filter.isDuplicate(hit("10.0.0.1", 40000, 1234))).toBe(false);
    expect(filter.isDuplicate(hit("10.0.0.2", 40000, 1234))).toBe(false);
    expect(filter.isDuplicate(hit("10.0.0.1", 40001, 1234))).toBe(false);
    expect(filter.isDuplicate(hit("10.0.0.1", 40000, 1235))).toBe(false);
    expect(filter.isDuplicate(hit("2001:db8::1", 40000, 1234))).toBe(false);
    expect(filter.isDuplicate(hit("2001:db8::1", 40000, 1234))).toBe(true);
  });

  it("never deduplicates hits without a source port", () => {
    const filter = createRetransmitFilter({ clock: settableClock() });
    expect(filter.isDuplicate(hit("10.0.0.1", undefined, 1))).toBe(false);
    expect(filter.isDuplicate(hit("10.0.0.1", undefined, 1))).toBe(false);
    expect(filter.size).toBe(0);
  });

  it("holds at most the hits of the last two windows", () => {
    const clock = settableClock(0);
    const filter = createRetransmitFilter({ clock, windowMs: 3000 });
    for (let t = 0; t < 30_000; t += 10) {
      clock.set(t);
      filter.isDuplicate(
        hit(`10.0.${(t >> 8) & 255}.${t & 255}`, 1, t & 0xffff),
      );
    }
    // 100 distinct hits a second: two windows (and a little) of them.
    expect(filter.size).toBeLessThanOrEqual(2 * 301);
    clock.set(40_000);
    filter.isDuplicate(hit("10.9.9.9", 1, 1));
    expect(filter.size).toBe(1);
  });

  it("caps a generation at maxEntries (a flood cannot grow it)", () => {
    const clock = settableClock();
    const filter = createRetransmitFilter({ clock, maxEntries: 100 });
    for (let i = 0; i < 10_000; i++)
      filter.isDuplicate(hit(`10.0.${i >> 8}.${i & 255}`, 1, 2));
    expect(filter.size).toBeLessThanOrEqual(200);
  });

  it("refuses bad options", () => {
    const clock = settableClock();
    expect(() => createRetransmitFilter({ clock, windowMs: 0 })).toThrow(
      RangeError,
    );
    expect(() => createRetransmitFilter({ clock, maxEntries: 0 })).toThrow(
      RangeError,
    );
  });

  it("agrees with a naive model on random hit sequences", () => {
    const event = fc.record({
      ip: fc.constantFrom("10.0.0.1", "10.0.0.2", "::1", "2001:db8::1"),
      srcPort: fc.constantFrom(1, 2, 65535),
      dstPort: fc.constantFrom(0, 7, 65535),
      advanceMs: fc.integer({ min: 0, max: 2500 }),
    });
    fc.assert(
      fc.property(fc.array(event, { maxLength: 60 }), (events) => {
        const clock = settableClock();
        const filter = createRetransmitFilter({ clock });
        const last = new Map<string, number>();
        let t = clock.now();
        for (const e of events) {
          t += e.advanceMs;
          clock.set(t);
          const key = `${e.ip} ${e.srcPort} ${e.dstPort}`;
          const seen = last.get(key);
          last.set(key, t);
          expect(filter.isDuplicate(hit(e.ip, e.srcPort, e.dstPort))).toBe(
            seen !== undefined && t - seen < 3000,
          );
        }
      }),
    );
  });
});

describe("hit table", () => {
  it("behaves like a Map while it grows", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.nat(5000),
            fc.constantFrom(0, 1, 0xffffffff),
            fc.nat(1000),
          ),
          {
            maxLength: 3000,
          },
        ),
        (ops) => {
          const table = createHitTable();
          const model = new Map<string, number>();
          let time = 1_000_000;
          for (const [a, b, advance] of ops) {
            time += advance; // times never go back within a table
            const key = `${a} ${b}`;
            expect(table.swap(a, b, time)).toBe(model.get(key));
            model.set(key, time);
          }
          expect(table.size).toBe(model.size);
          for (const [key, time] of model) {
            const [a = 0, b = 0] = key.split(" ").map(Number);
            expect(table.get(a, b)).toBe(time);
          }
        },
      ),
      { numRuns: 30 },
    );
  });
});
