import { isIPv6 } from "node:net";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  formatIpv4,
  formatIpv4Number,
  formatIpv6,
  ipv4ToNumber,
  isIpAddress,
  isIpv4,
  normalizeIp,
  parseIp,
  parseIpv4,
  parseIpv6,
} from "./ip.ts";

describe("IPv4", () => {
  it.each([
    ["0.0.0.0", 0],
    ["10.3.2.1", 0x0a030201],
    ["255.255.255.255", 0xffffffff],
  ])("%s = %d, and back", (text, n) => {
    expect(ipv4ToNumber(text)).toBe(n);
    expect(formatIpv4Number(n)).toBe(text);
    expect(formatIpv4(parseIpv4(text)!)).toBe(text);
  });

  it.each([
    "",
    "10.3.2",
    "10.3.2.1.5",
    "256.1.1.1",
    "010.1.1.1",
    "1.2.3.4\n",
    "1.2.3.4; rm -rf /",
    " 1.2.3.4",
    "1..2.3",
    "1.2.3.",
    "1234.1.1.1",
  ])("refuses %j", (text) => {
    expect(ipv4ToNumber(text)).toBe(-1);
    expect(isIpv4(text)).toBe(false);
    expect(parseIpv4(text)).toBeUndefined();
  });

  it("reads a dotted quad inside a longer text", () => {
    const line = "SRC=10.0.0.7 DST";
    expect(ipv4ToNumber(line, 4, 12)).toBe(0x0a000007);
    expect(ipv4ToNumber(line, 4, 13)).toBe(-1);
  });

  it("a negative int32 formats as its unsigned value", () => {
    expect(formatIpv4Number(0xc0000201 | 0)).toBe("192.0.2.1");
  });

  it("agrees with fast-check's IPv4 generator", () => {
    fc.assert(
      fc.property(fc.ipV4(), (ip) => {
        expect(formatIpv4Number(ipv4ToNumber(ip))).toBe(ip);
      }),
    );
  });
});

describe("IP addresses, either family", () => {
  it.each([
    "0.0.0.0",
    "10.3.2.1",
    "::",
    "::1",
    "2001:db8::1",
    "fe80::1:2:3:4",
    "1:2:3:4:5:6:7:8",
    "::ffff:10.1.2.3",
    "1:2:3:4:5:6:1.2.3.4",
  ])("accepts %s", (ip) => expect(isIpAddress(ip)).toBe(true));

  it.each([
    "1:2:3:4:5:6:7:8:9",
    "1::2::3",
    "fe80::1%eth0",
    "12345::1",
    "1.2.3.4::",
    "::1.2.3.4:1",
    "1:2:3:4:5:6:7::8",
  ])("refuses %j", (ip) => expect(isIpAddress(ip)).toBe(false));

  it("expands :: correctly", () => {
    expect([...parseIp("2001:db8::1")!]).toEqual([
      0x20,
      1,
      0x0d,
      0xb8,
      ...Array<number>(11).fill(0),
      1,
    ]);
    expect([...parseIp("10.0.0.1")!]).toEqual([10, 0, 0, 1]);
  });
});

const canonical = (text: string): string | undefined => {
  const b = parseIpv6(text);
  return b && formatIpv6(b);
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
    expect(parseIpv6(text)).toBeUndefined();
  });

  it("accepts exactly what Node's isIPv6 accepts, and formats as WHATWG URL does", () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.ipV6(), fc.stringMatching(/^[0-9a-fA-F:.]{0,40}$/)),
        (text) => {
          const b = parseIpv6(text);
          // Node also accepts a dotted quad with leading zeros; we do not (as for IPv4).
          if (!/(^|\.)0\d/.test(text.split(":").at(-1) ?? "")) {
            expect(b != null, text).toBe(isIPv6(text));
          }
          if (b == null) return;
          const out = formatIpv6(b);
          expect(parseIpv6(out)).toEqual(b);
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
    expect(formatIpv6(parseIpv6(text)!, 0)).toBe(expected);
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
