import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  addressBytes,
  buildSyn,
  internetChecksum,
  pseudoHeader,
} from "./tcp-syn.ts";

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

describe("addressBytes", () => {
  it.each([
    ["127.0.0.1", "7f000001"],
    ["::1", "00000000000000000000000000000001"],
    [
      "2001:db8::8:800:200c:417a",
      "20010db8000000000008080020 0c417a".replace(" ", ""),
    ],
    ["fe80::", "fe800000000000000000000000000000"],
    ["::ffff:192.0.2.1", "00000000000000000000ffffc0000201"],
  ])("%s", (ip, bytes) => {
    expect(hex(addressBytes(ip))).toBe(bytes);
  });
  it("refuses what is not an address", () => {
    expect(() => addressBytes("gw.example.org")).toThrow(TypeError);
  });
});

describe("buildSyn", () => {
  it("lays out a SYN with no options", () => {
    const seg = buildSyn({
      srcIp: "10.0.0.1",
      dstIp: "10.0.0.2",
      srcPort: 40000,
      dstPort: 1024,
      seq: 0x01020304,
    });
    expect(hex(seg.subarray(0, 16))).toBe(
      "9c400400" + "01020304" + "00000000" + "5002" + "faf0",
    );
    expect(hex(seg.subarray(18))).toBe("0000");
  });

  it("checksums to zero over the pseudo-header (IPv4 and IPv6)", () => {
    const v4 = fc.ipV4().map((ip) => ip.split(".").map(Number).join("."));
    const v6 = fc.ipV6();
    fc.assert(
      fc.property(
        fc.oneof(fc.tuple(v4, v4), fc.tuple(v6, v6)),
        fc.integer({ min: 0, max: 65535 }),
        fc.integer({ min: 0, max: 65535 }),
        fc.integer({ min: 0, max: 2 ** 32 - 1 }),
        ([srcIp, dstIp], srcPort, dstPort, seq) => {
          const seg = buildSyn({ srcIp, dstIp, srcPort, dstPort, seq });
          const pseudo = pseudoHeader(
            addressBytes(srcIp),
            addressBytes(dstIp),
            20,
          );
          expect(internetChecksum(pseudo, seg)).toBe(0);
        },
      ),
    );
  });

  it("refuses mixed families", () => {
    expect(() =>
      buildSyn({
        srcIp: "::1",
        dstIp: "127.0.0.1",
        srcPort: 1,
        dstPort: 1,
        seq: 1,
      }),
    ).toThrow(TypeError);
  });
});
