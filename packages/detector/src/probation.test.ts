import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { createProbation, probationHash } from "./probation.ts";

const stampOf = (timeMs: number, known: boolean): number =>
  ((timeMs | 0) << 1) | (known ? 1 : 0);

describe("createProbation", () => {
  const source = fc.oneof(
    fc.integer({ min: 0, max: 12 }).map((i) => `10.0.0.${i}`),
    fc.integer({ min: 0, max: 6 }).map((i) => `2001:db8::${i}`),
  );
  const op = fc.oneof(
    fc.record({
      kind: fc.constant("insert" as const),
      source,
      dtMs: fc.nat(400),
    }),
    fc.record({ kind: fc.constant("remove" as const), source }),
    fc.record({ kind: fc.constant("expire" as const), dtMs: fc.nat(400) }),
  );
  const v4 = (s: string): number =>
    s.split(".").reduce((n, b) => n * 256 + Number(b), 0);

  it("keeps each first hit until capacity later ones, its removal, or its timeout", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10 }),
        // Epoch-like times, across the points where the 31-bit stamps wrap.
        fc.constantFrom(0, 1_700_000_000_000, 2 ** 31 - 3000, 2 ** 32 - 3000),
        fc.array(op, { maxLength: 300 }),
        (capacity, start, ops) => {
          const p = createProbation(capacity);
          // The model: live records with the insert's number, entry and time.
          const model = new Map<
            string,
            { seq: number; entry: number; time: number }
          >();
          let seq = 0;
          let now = start;
          const find = (s: string): number =>
            s.includes(":") ? p.findOther(s) : p.findV4(v4(s));
          for (const o of ops) {
            if (o.kind === "insert") {
              now += o.dtMs;
              if (model.has(o.source)) continue; // the caller inserts absent sources only
              const mine = seq++;
              const old = [...model].find(([, r]) => r.seq === mine - capacity);
              if (old) model.delete(old[0]);
              const entry = mine * 65537;
              const stamp = stampOf(now, mine % 2 === 0);
              if (o.source.includes(":")) p.insertOther(o.source, entry, stamp);
              else p.insertV4(v4(o.source), entry, stamp);
              expect(p.evicted).toBe(old != null);
              model.set(o.source, { seq: mine, entry, time: now });
            } else if (o.kind === "remove") {
              const rec = find(o.source);
              expect(rec >= 0).toBe(model.has(o.source));
              if (rec >= 0) p.remove(rec);
              model.delete(o.source);
            } else {
              now += o.dtMs;
              const expired = [...model].filter(
                ([, r]) => now - r.time >= 1000,
              );
              expect(p.expire(now, 1000)).toBe(expired.length);
              for (const [s] of expired) model.delete(s);
            }
            expect(p.size).toBe(model.size);
            for (const [s, r] of model) {
              const rec = find(s);
              expect(rec).toBeGreaterThanOrEqual(0);
              expect(p.entry(rec)).toBe(r.entry);
              expect(p.stamp(rec)).toBe(stampOf(r.time, r.seq % 2 === 0));
              expect(p.ageMs(rec, now)).toBe(now - r.time);
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it("tells IPv4 numbers from other sources, and 0.0.0.0 from a free record", () => {
    const p = createProbation(4);
    expect(p.findV4(0)).toBe(-1);
    p.insertV4(0, 7, 8);
    const rec = p.findV4(0);
    expect(p.entry(rec)).toBe(7);
    expect(p.findV4(0xffffffff)).toBe(-1);
    expect(p.findOther("::")).toBe(-1);
    p.insertOther("::", 1, 2);
    expect(p.findOther("::")).not.toBe(rec);
    // IPv6 text is keyed by its address (#20): any spelling, and its words, find it.
    const other = p.findOther("::");
    expect(p.findOther("::0")).toBe(other);
    expect(p.findOther("0:0::0:0")).toBe(other);
    expect(p.findV6(new Int32Array(4))).toBe(other);
    expect(p.findV6(Int32Array.of(0, 0, 0, 1))).toBe(-1);
    expect(p.findOther("not an address")).toBe(-1);
    p.insertV6(Int32Array.of(0x20010db8, 0, 0, 1), 3, 4);
    expect(p.entry(p.findOther("2001:db8::1"))).toBe(3);
    expect(p.size).toBe(3);
  });

  it("forgets everything after a jump of 2^29 ms or more, where ages would not be exact", () => {
    const p = createProbation(8);
    const t = 1_700_000_000_000;
    p.expire(t, 30_000);
    p.insertV4(1, 1000, stampOf(t, false));
    p.insertV4(2, 1000, stampOf(t + 10, false));
    expect(p.expire(t + 2 ** 29 - 1, 30_000)).toBe(2); // expired, simply
    p.insertV4(1, 1000, stampOf(t + 2 ** 29, false));
    // 2^31 ms later the stamp reads as 0 ms old: the jump empties the segment instead.
    expect(p.ageMs(p.findV4(1), t + 2 ** 29 + 2 ** 31)).toBe(0);
    expect(p.expire(t + 2 ** 29 + 2 ** 31, 30_000)).toBe(1);
    expect(p.findV4(1)).toBe(-1);
  });

  it("refuses a capacity it cannot index", () => {
    expect(() => createProbation(0)).toThrow(RangeError);
    expect(() => createProbation(2 ** 23 + 1)).toThrow(RangeError);
  });
});

describe("createProbation's index under collisions", () => {
  it("finds and removes entries in long probe runs, across the table's end", () => {
    // capacity 512: 1024 buckets. Keys chosen by their hash: runs of 40 sharing a home bucket
    // (past the 31 a bucket can record), one of them ending across bucket 1023 → 0.
    const seed = 12345;
    const byHome = new Map<number, number[]>();
    for (
      let k = 1;
      [1018, 1023, 500].some((h) => (byHome.get(h)?.length ?? 0) < 40);
      k++
    ) {
      const home = probationHash(seed, k) & 1023;
      if ([1018, 1023, 500].includes(home))
        byHome.set(home, [...(byHome.get(home) ?? []), k]);
    }
    const keys = [...byHome.values()].flatMap((ks) => ks.slice(0, 40));
    const op = fc.oneof(
      fc.record({
        kind: fc.constant("insert" as const),
        key: fc.constantFrom(...keys),
      }),
      fc.record({
        kind: fc.constant("remove" as const),
        key: fc.constantFrom(...keys),
      }),
    );
    // One run behind another: removing the first run's entries shifts the second's back over
    // more than 31 buckets of entries that stay.
    const p = createProbation(512, seed);
    const [a, b] = [byHome.get(1023)!, byHome.get(1018)!];
    for (const k of [...a, ...b]) p.insertV4(k, k, 0);
    b.forEach((k, i) => {
      p.remove(p.findV4(k));
      for (const other of [...a, ...b.slice(i + 1)])
        expect(p.entry(p.findV4(other))).toBe(other);
    });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 400 }), (ops) => {
        const p = createProbation(512, seed);
        const live = new Set<number>();
        for (const o of ops) {
          if (o.kind === "insert" && !live.has(o.key)) {
            p.insertV4(o.key, o.key, 0);
            live.add(o.key);
          } else if (o.kind === "remove" && live.has(o.key)) {
            p.remove(p.findV4(o.key));
            live.delete(o.key);
          }
          for (const k of keys) {
            const rec = p.findV4(k);
            expect(rec >= 0).toBe(live.has(k));
            if (rec >= 0) expect(p.entry(rec)).toBe(k);
          }
        }
      }),
      { numRuns: 100 },
    );
  });
});
