import { describe, expect, it } from "vitest";
import { parseIp } from "@portknock/core";
import { isInside, parseCidr } from "./ip-address.ts";

describe("CIDR blocks (addresses: @portknock/core)", () => {
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
