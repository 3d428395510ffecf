import { isIPv6 } from "node:net";
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { formatIPv6, parseIPv6 } from "./ip-address.ts";

const canonical = (text: string): string | undefined => {
  const b = parseIPv6(text);
  return b && formatIPv6(b);
};

describe("IPv6 addresses", () => {
  it.each([
    ["::", "::"],
    ["::1", "::1"],
    ["2001:DB8:0:0:0:0:0:1", "2001:db8::1"],
    ["2001:db8:0000:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"], // one zero group stays
    ["2001:0:0:1:0:0:0:1", "2001:0:0:1::1"], // the longest run is shortened
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"], // the first of equal runs
    ["0:0:0:0:0:ffff:c000:0201", "::ffff:192.0.2.1"],
    ["::ffff:192.0.2.1", "::ffff:192.0.2.1"],
    ["64:ff9b::192.0.2.33", "64:ff9b::c000:221"],
    ["1::", "1::"],
    ["1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"],
  ])("%s → %s", (text, expected) => {
    expect(canonical(text)).toBe(expected);
  });

  it.each([
    "",
    ":",
    ":::",
    "1:2:3:4:5:6:7",
    "1:2:3:4:5:6:7:8:9",
    "1::2::3",
    "12345::",
    "g::",
    "::ffff:192.0.2.01",
    "::192.0.2.1:1",
    "fe80::1%eth0",
    " ::1",
    "[::1]",
    "::1/128",
    "1:2:3:4:5:6:7:8::",
    "10.3.2.1",
  ])("refuses %j", (text) => {
    expect(parseIPv6(text)).toBeUndefined();
  });

  it("accepts exactly what Node's isIPv6 accepts, and formats as WHATWG URL does", () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.ipV6(), fc.stringMatching(/^[0-9a-fA-F:.]{0,40}$/)),
        (text) => {
          const b = parseIPv6(text);
          // Node also accepts a dotted quad with leading zeros; we do not (as for IPv4).
          if (!/(^|\.)0\d/.test(text.split(":").at(-1) ?? "")) {
            expect(b != null, text).toBe(isIPv6(text));
          }
          if (b == null) return;
          const out = formatIPv6(b);
          expect(parseIPv6(out)).toEqual(b);
          if (!out.includes(".")) {
            expect(out).toBe(
              new URL(`http://[${text}]/`).hostname.slice(1, -1),
            );
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});
