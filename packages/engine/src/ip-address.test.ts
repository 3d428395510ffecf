import { describe, expect, it } from "vitest";
import { isIpAddress, parseIp } from "@portknock/core";
import { isInside, parseCidr } from "./ip-address.ts";

describe("IP addresses", () => {
  it.each([
    "0.0.0.0",
    "10.3.2.1",
    "255.255.255.255",
    "::",
    "::1",
    "2001:db8::1",
    "fe80::1:2:3:4",
    "1:2:3:4:5:6:7:8",
    "::ffff:10.1.2.3",
    "1:2:3:4:5:6:1.2.3.4",
  ])("accepts %s", (ip) => expect(isIpAddress(ip)).toBe(true));

  it.each([
    "",
    "10.3.2",
    "10.3.2.1.5",
    "256.1.1.1",
    "010.1.1.1",
    "1.2.3.4\n",
    "1.2.3.4; rm -rf /",
    " 1.2.3.4",
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
    expect([...parseIp("1::")!].slice(0, 2)).toEqual([0, 1]);
  });

  it.each([
    ["10.1.2.3", "10.0.0.0/8", true],
    ["11.1.2.3", "10.0.0.0/8", false],
    ["10.1.2.3", "10.1.2.2/31", true],
    ["10.1.2.4", "10.1.2.2/31", false],
    ["10.1.2.3", "0.0.0.0/0", true],
    ["2001:db8::5", "2001:db8::/32", true],
    ["2001:db8::5", "2001:db8::4/127", true],
    ["2001:db8::6", "2001:db8::4/127", false],
    ["10.1.2.3", "::/0", false],
    ["::ffff:10.1.2.3", "10.0.0.0/8", true],
    ["10.1.2.3", "::ffff:10.0.0.0/104", true],
  ])("%s inside %s: %s", (ip, cidr, expected) => {
    expect(isInside(parseIp(ip)!, parseCidr(cidr)!)).toBe(expected);
  });

  it.each(["10.0.0.0/33", "10.0.0.0/", "10.0.0.0/08", "::/129", "x/8"])(
    "refuses CIDR %j",
    (c) => expect(parseCidr(c)).toBeUndefined(),
  );
});
