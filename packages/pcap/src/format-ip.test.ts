import fc from "fast-check";
import { normalizeIp } from "@portknock/logsource";
import { describe, expect, it } from "vitest";
import { ipBytes } from "../test/frames.ts";
import { formatIpv4, formatIpv6 } from "./format-ip.ts";

describe("formatIpv6", () => {
  it.each([
    ["::1", "::1"],
    ["::", "::"],
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
    ["2001:0:0:1:0:0:0:1", "2001:0:0:1::1"],
    ["2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"],
    ["fe80:0:0:0:0:0:0:0", "fe80::"],
    ["0:0:0:0:0:ffff:c000:0207", "::ffff:192.0.2.7"],
    ["2001:DB8::AbCd", "2001:db8::abcd"],
  ])("formats %s as %s (RFC 5952)", (text, expected) => {
    expect(formatIpv6(ipBytes(text), 0)).toBe(expected);
  });

  it("gives the text normalizeIp (file mode) gives, for any address", () => {
    const word = fc.oneof(fc.constant(0), fc.constant(0), fc.nat(0xffff));
    fc.assert(
      fc.property(fc.array(word, { minLength: 8, maxLength: 8 }), (words) => {
        const bytes = new Uint8Array(16);
        words.forEach((w, i) => {
          bytes[2 * i] = w >> 8;
          bytes[2 * i + 1] = w & 0xff;
        });
        const text = formatIpv6(bytes, 0);
        expect(normalizeIp(text)).toBe(text);
        expect(normalizeIp(words.map((w) => w.toString(16)).join(":"))).toBe(
          text,
        );
      }),
      { numRuns: 2000 },
    );
  });

  it("never reads past the end", () => {
    expect(formatIpv6(new Uint8Array(3), 0)).toBe("::");
    expect(formatIpv4(new Uint8Array([10, 0]), 0)).toBe("10.0.0.0");
  });
});
