import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { ClusterGrant } from "./parse-grant-entry.ts";
import {
  grantEntryFields,
  grantRequestAt,
  parseGrantEntry,
} from "./parse-grant-entry.ts";

const GOOD: ClusterGrant = {
  from: "gw1",
  address: "2001:db8::7",
  family: 6,
  protocol: "udp",
  port: 53,
  expiresAtMs: 1_800_000_000_000,
};

/** The fields of GOOD with `name` set to `value` (or removed when undefined). */
function withField(name: string, value: string | undefined): string[] {
  const out: string[] = [];
  const fields = grantEntryFields(GOOD);
  for (let i = 0; i < fields.length; i += 2) {
    if (fields[i] !== name) out.push(fields[i]!, fields[i + 1]!);
    else if (value !== undefined) out.push(name, value);
  }
  return out;
}

describe("parseGrantEntry", () => {
  it("reads back what grantEntryFields writes", () => {
    expect(parseGrantEntry(grantEntryFields(GOOD))).toEqual({
      ok: true,
      grant: GOOD,
    });
  });

  it("normalizes the address and reads an IPv4-mapped one as IPv4", () => {
    const r = parseGrantEntry(
      grantEntryFields({ ...GOOD, address: "::ffff:192.0.2.7", family: 4 }),
    );
    expect(r).toMatchObject({ ok: true, grant: { address: "192.0.2.7" } });
    expect(
      parseGrantEntry(withField("address", "2001:DB8:0:0::7")),
    ).toMatchObject({ ok: true, grant: { address: "2001:db8::7" } });
  });

  it("ignores unknown fields (a later version may add some)", () => {
    expect(
      parseGrantEntry([...grantEntryFields(GOOD), "scope", "x"]),
    ).toMatchObject({ ok: true });
  });

  it.each([
    ["address", "192.0.2"],
    ["address", "2001:db8::7%eth0"],
    ["address", "2001:db8::/64"],
    ["address", " 2001:db8::7"],
    ["address", "ff02::1"],
    ["address", "::"],
    ["family", "4"],
    ["family", "x"],
    ["protocol", "icmp"],
    ["protocol", "TCP"],
    ["port", "65536"],
    ["port", "-1"],
    ["port", "22.0"],
    ["port", ""],
    ["expires", "soon"],
    ["expires", "1e12"],
    ["expires", "99999999999999999"],
    ["from", ""],
    ["from", "gw 1"],
    ["from", undefined],
    ["expires", undefined],
  ])("refuses %s = %j", (name, value) => {
    expect(parseGrantEntry(withField(name, value))).toMatchObject({
      ok: false,
    });
  });

  it("refuses IPv4 broadcast, multicast and unspecified addresses", () => {
    for (const a of ["255.255.255.255", "224.0.0.1", "0.0.0.0"]) {
      const fields = grantEntryFields({ ...GOOD, address: a, family: 4 });
      expect(parseGrantEntry(fields), a).toMatchObject({ ok: false });
    }
  });

  it("refuses a field given twice, an odd list and non-strings", () => {
    expect(
      parseGrantEntry([...grantEntryFields(GOOD), "port", "22"]),
    ).toMatchObject({ ok: false });
    expect(parseGrantEntry(["from"])).toMatchObject({ ok: false });
    expect(parseGrantEntry(null)).toMatchObject({ ok: false });
    expect(parseGrantEntry([1, 2])).toMatchObject({ ok: false });
  });

  it("never throws on arbitrary field lists", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(fc.string(), fc.constantFrom(...grantEntryFields(GOOD))),
        ),
        (fields) => {
          const r = parseGrantEntry(fields);
          if (!r.ok) expect(r.reason).toBeTypeOf("string");
        },
      ),
    );
  });
});

describe("grantRequestAt", () => {
  it("gives what is left of the lifetime, at least 1 ms", () => {
    expect(grantRequestAt(GOOD, GOOD.expiresAtMs - 1500)).toEqual({
      address: "2001:db8::7",
      family: 6,
      protocol: "udp",
      port: 53,
      lifetimeMs: 1500,
      scope: "local", // applied here, never published again
    });
    expect(grantRequestAt(GOOD, GOOD.expiresAtMs + 10).lifetimeMs).toBe(1);
  });
});
