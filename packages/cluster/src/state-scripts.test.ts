import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isOutboxOp, isPendingAction } from "./outbox.ts";
import {
  decodeEntry,
  deleteFieldsOf,
  encodeValue,
  fieldOf,
  pairsOf,
} from "./state-scripts.ts";

describe("state entries in Redis (#19)", () => {
  it("round-trips a path below its root and a value", () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1 }),
        fc.array(fc.string(), { maxLength: 5 }),
        fc.oneof(
          fc.string(),
          fc
            .double({ noNaN: true, noDefaultInfinity: true })
            // JSON has no -0.
            .map((v) => (v === 0 ? 0 : v)),
        ),
        (root, rest, value) => {
          const d = decodeEntry(
            root,
            fieldOf([root, ...rest]),
            encodeValue(value),
          );
          expect(d).toEqual({ ok: true, path: [root, ...rest], value });
        },
      ),
    );
  });

  it("rejects anything else with a reason instead of throwing", () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (field, value) => {
        const d = decodeEntry("r", field, value);
        if (!d.ok) expect(d.problem).toMatch(/./);
      }),
    );
    expect(decodeEntry("r", '["a"]', "{}")).toMatchObject({ ok: false });
    expect(decodeEntry("r", '{"a":1}', "1")).toMatchObject({ ok: false });
    expect(decodeEntry("r", "[1]", "1")).toMatchObject({ ok: false });
    expect(decodeEntry("r", "[]", "null")).toMatchObject({ ok: false });
  });

  it("deletes a root whole, a deeper path by its field and the prefix of its children", () => {
    expect(deleteFieldsOf(["r"])).toEqual(["", ""]);
    expect(deleteFieldsOf(["r", "a"])).toEqual(['["a"]', '["a",']);
    expect(deleteFieldsOf(["r", 'a"', "b"])).toEqual([
      '["a\\"","b"]',
      '["a\\"","b",',
    ]);
    // A sibling whose key starts the same is not a child.
    expect(fieldOf(["r", "ab"]).startsWith(deleteFieldsOf(["r", "a"])[1])).toBe(
      false,
    );
  });

  it("pairs a flat HGETALL reply and ignores what is not one", () => {
    expect(pairsOf(["a", "1", "b", "2"])).toEqual([
      ["a", "1"],
      ["b", "2"],
    ]);
    expect(pairsOf(["a"])).toEqual([]);
    expect(pairsOf("x")).toEqual([]);
  });

  it("checks persisted outbox entries and pending actions without throwing", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        expect(typeof isOutboxOp(v)).toBe("boolean");
        expect(typeof isPendingAction(v)).toBe("boolean");
      }),
    );
    expect(
      isOutboxOp({ op: "add", seq: 1, path: ["a"], delta: 1, value: 1 }),
    ).toBe(true);
    expect(isOutboxOp({ op: "add", seq: 1, path: ["a"], value: 1 })).toBe(
      false,
    );
    expect(isOutboxOp({ op: "set", seq: 1.5, path: ["a"], value: 1 })).toBe(
      false,
    );
  });
});
