import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseKnockFields } from "@portknock/codec";
import type { FieldSpec } from "@portknock/codec";
import { knockValues } from "./knock-values.ts";

function fields(list: string): readonly FieldSpec[] {
  const r = parseKnockFields(list);
  if (!r.ok) throw new Error(`bad test layout ${list}`);
  return r.layout.fields;
}
const compat = { format: "compat", nowMs: 1_100_000_000_500 } as const;

describe("knockValues", () => {
  it("fills every field in order, TIME from the clock", () => {
    const r = knockValues(
      fields("CLIENT,PORT,FLAG3,TIME,MASK,CHECKSUM"),
      { client: "10.0.0.1", port: 22, flags: new Map([[3, 7]]), mask: 24 },
      compat,
    );
    expect(r.diagnostics).toEqual([]);
    expect(r.values).toEqual({
      CLIENT: "10.0.0.1",
      PORT: 22,
      FLAG3: 7,
      TIME: 1_100_000_000,
      MASK: 24,
    });
  });

  it("reports every missing value at once, each naming its option", () => {
    const r = knockValues(
      fields("IP,PORT,FLAG12,MASK"),
      { flags: new Map() },
      compat,
    );
    expect(r.values).toBeUndefined();
    expect(r.diagnostics.map((d) => [d.code, d.where])).toEqual([
      ["ARGV_MISSING_VALUE", { kind: "argv", flag: "-client" }],
      ["ARGV_MISSING_VALUE", { kind: "argv", flag: "-port" }],
      ["ARGV_MISSING_VALUE", { kind: "argv", flag: "-flag12" }],
      ["ARGV_MISSING_VALUE", { kind: "argv", flag: "-mask" }],
    ]);
  });

  it("takes defaultClient when no client is given", () => {
    const r = knockValues(
      fields("CLIENT"),
      { flags: new Map() },
      { ...compat, defaultClient: "192.0.2.7" },
    );
    expect(r.values).toEqual({ CLIENT: "192.0.2.7" });
  });

  it.each([
    ["compat", "::1", "KNOCK_BAD_VALUE"],
    ["compat", "10.0.0.999", "KNOCK_BAD_VALUE"],
    ["sealed", "not-an-ip", "KNOCK_BAD_VALUE"],
    ["sealed", "2001:db8::1", undefined],
  ] as const)("%s CLIENT %s → %s", (format, client, code) => {
    const r = knockValues(
      fields("CLIENT"),
      { client, flags: new Map() },
      { format, nowMs: 0 },
    );
    expect(r.diagnostics[0]?.code).toBe(code);
    expect(r.values === undefined).toBe(code !== undefined);
  });

  it("warns (#14) about given options the knock has no field for", () => {
    const r = knockValues(
      fields("PORT,FLAG0"),
      { port: 1, flags: new Map([[0, 1]]), time: 5 },
      { ...compat, given: ["port", "flag0", "flag1", "time", "mask", "key"] },
    );
    expect(r.values).toEqual({ PORT: 1, FLAG0: 1 });
    expect(r.diagnostics.map((d) => [d.severity, d.code, d.where])).toEqual([
      ["warning", "KNOCK_FIELD_UNUSED", { kind: "argv", flag: "-flag1" }],
      ["warning", "KNOCK_FIELD_UNUSED", { kind: "argv", flag: "-time" }],
      ["warning", "KNOCK_FIELD_UNUSED", { kind: "argv", flag: "-mask" }],
    ]);
  });

  it("never throws, whatever the input", () => {
    const layouts = ["CLIENT,PORT,FLAG0,CHECKSUM", "IP,TIME,MASK", "PORT"];
    fc.assert(
      fc.property(
        fc.constantFrom(...layouts),
        fc.option(fc.string(), { nil: undefined }),
        fc.option(fc.integer(), { nil: undefined }),
        fc.array(fc.string({ maxLength: 8 })),
        (layout, client, port, given) => {
          const r = knockValues(
            fields(layout),
            { client, port, flags: new Map() },
            { format: "sealed", nowMs: 0, given },
          );
          for (const d of r.diagnostics) expect(d.where.kind).toBe("argv");
        },
      ),
    );
  });
});
