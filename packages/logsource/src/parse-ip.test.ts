import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isIpv4, normalizeIp } from "./parse-ip.ts";

describe("normalizeIp", () => {
  it.each([
    ["192.0.2.1", "192.0.2.1"],
    ["0.0.0.0", "0.0.0.0"],
    ["255.255.255.255", "255.255.255.255"],
    ["::1", "::1"],
    ["0000:0000:0000:0000:0000:0000:0000:0001", "::1"],
    ["2001:0DB8:0000:0000:0000:0000:0000:0001", "2001:db8::1"],
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
    ["2001:db8::", "2001:db8::"],
    ["::", "::"],
    ["fe80:0:0:0:1:2:3:4", "fe80::1:2:3:4"],
    ["1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"],
    ["1:0:3:4:5:6:7:8", "1:0:3:4:5:6:7:8"],
    ["::ffff:192.0.2.1", "::ffff:192.0.2.1"],
    ["0000:0000:0000:0000:0000:ffff:c000:0201", "::ffff:192.0.2.1"],
    ["64:ff9b::192.0.2.1", "64:ff9b::c000:201"],
  ])("%s → %s", (text, normal) => {
    expect(normalizeIp(text)).toBe(normal);
  });

  it.each([
    "",
    "1.2.3",
    "1.2.3.4.5",
    "256.1.1.1",
    "010.0.0.1",
    "1.2.3.4 ",
    "1..2.3",
    "::1::",
    "1:2:3:4:5:6:7:8:9",
    "1:2:3:4:5:6:7::8",
    "12345::1",
    "::1.2.3",
    "1.2.3.4::",
    "fe80::1%eth0",
    "g::1",
    ":1",
    "1:",
    "abc",
  ])("%j is not an address", (text) => {
    expect(normalizeIp(text)).toBeUndefined();
  });

  it("never throws, and its result is already normal", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 50 }),
          fc.ipV4(),
          fc.ipV6(),
          fc.stringMatching(/^[0-9a-f:.]{0,45}$/),
        ),
        (text) => {
          const normal = normalizeIp(text);
          if (normal !== undefined) expect(normalizeIp(normal)).toBe(normal);
        },
      ),
    );
  });

  it("accepts every address fast-check generates, in agreement with URL for IPv6", () => {
    fc.assert(
      fc.property(fc.ipV4(), (ip) => {
        expect(isIpv4(ip)).toBe(true);
        expect(normalizeIp(ip)).toBe(ip);
      }),
    );
    fc.assert(
      fc.property(fc.ipV6(), (ip) => {
        const normal = normalizeIp(ip);
        expect(normal).toBeDefined();
        if (!normal?.startsWith("::ffff:")) {
          // WHATWG URL also writes RFC 5952 text (but IPv4-mapped ones in hex).
          expect(`[${normal}]`).toBe(new URL(`http://[${ip}]/`).hostname);
        }
      }),
    );
  });
});
