import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { createSourceTable } from "./source-table.ts";

describe("createSourceTable", () => {
  // Few distinct addresses (including IPv6), so inserts, finds and removes collide often.
  const source = fc.oneof(
    fc.integer({ min: 0, max: 40 }).map((i) => `10.0.${i >> 3}.${i & 7}`),
    fc.integer({ min: 0, max: 8 }).map((i) => `2001:db8::${i}`),
  );
  const op = fc.oneof(
    fc.record({ kind: fc.constant("insert" as const), source }),
    fc.record({ kind: fc.constant("remove" as const), source }),
    fc.record({ kind: fc.constant("touch" as const), source }),
  );

  it("behaves like an LRU map of at most `capacity` sources", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }),
        fc.array(op, { maxLength: 300 }),
        (capacity, ops) => {
          const table = createSourceTable(capacity, 2);
          const model: string[] = []; // least recently used first
          for (const o of ops) {
            const slot = table.find(o.source);
            const at = model.indexOf(o.source);
            expect(slot >= 0).toBe(at >= 0);
            if (o.kind === "insert" && at < 0) {
              table.insert(o.source);
              expect(table.evicted).toBe(model.length === capacity);
              if (table.evicted) model.shift();
              model.push(o.source);
            } else if (o.kind === "remove" && at >= 0) {
              table.remove(slot);
              model.splice(at, 1);
            } else if (o.kind === "touch" && at >= 0) {
              table.touch(slot);
              model.splice(at, 1);
              model.push(o.source);
            }
            expect(table.size).toBe(model.length);
            for (const s of model)
              expect(table.find(s)).toBeGreaterThanOrEqual(0);
            const oldest = table.oldest();
            if (model.length > 0) expect(oldest).toBe(table.find(model[0]!));
            else expect(oldest).toBe(-1);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it("gives each source its own window and keeps windows across growth", () => {
    const table = createSourceTable(5000, 4);
    for (let i = 0; i < 5000; i++) {
      const slot = table.insert(`10.1.${i >> 8}.${i & 255}`);
      table.windows[slot * 4] = i;
    }
    for (let i = 0; i < 5000; i++) {
      expect(table.windows[table.find(`10.1.${i >> 8}.${i & 255}`) * 4]).toBe(
        i,
      );
    }
  });

  it("finds IPv6 sources by their hashed keys through long probe chains and deletions (#20)", () => {
    // Hundreds of IPv6 sources in a table of 2,048 buckets per index: linear-probe chains form,
    // and evictions and removals shift entries back through them. IPv4 sources share the slots.
    const v6 = (i: number) =>
      `2001:db8:f00d:1:${(i * 40503) & 0xffff}::${i.toString(16)}`;
    const pool = fc.oneof(
      { weight: 4, arbitrary: fc.integer({ min: 0, max: 1500 }).map(v6) },
      {
        weight: 1,
        arbitrary: fc
          .integer({ min: 0, max: 300 })
          .map((i) => `10.9.${i >> 8}.${i & 255}`),
      },
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 300, max: 1000 }),
        fc.array(fc.tuple(fc.boolean(), pool), {
          minLength: 500,
          maxLength: 3000,
        }),
        (capacity, ops) => {
          const table = createSourceTable(capacity, 1);
          const model = new Map<string, number>(); // source -> its window's value
          const order: string[] = []; // least recently used first
          let n = 0;
          for (const [remove, source] of ops) {
            const slot = table.find(source);
            expect(slot >= 0).toBe(model.has(source));
            if (slot >= 0) {
              expect(table.windows[slot]).toBe(model.get(source));
              if (remove) {
                table.remove(slot);
                model.delete(source);
                order.splice(order.indexOf(source), 1);
              }
            } else {
              const s = table.insert(source);
              if (table.evicted) model.delete(order.shift()!);
              table.windows[s] = ++n;
              model.set(source, n);
              order.push(source);
            }
          }
          expect(table.size).toBe(model.size);
          for (const [source, value] of model) {
            expect(table.windows[table.find(source)]).toBe(value);
          }
        },
      ),
      { numRuns: 40 },
    );
  });
});
