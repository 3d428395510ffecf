import type { NetworkInterfaceInfo } from "node:os";
import { networkInterfaces } from "node:os";
import { describe, expect, it } from "vitest";
import { ipv4ToNumber } from "@portknock/core";
import { createLocalAddresses } from "./local-addresses.ts";

const info = (address: string, internal = false): NetworkInterfaceInfo =>
  ({
    address,
    netmask: "255.255.255.0",
    family: address.includes(":") ? "IPv6" : "IPv4",
    mac: "00:00:00:00:00:00",
    internal,
    cidr: null,
    ...(address.includes(":") && { scopeid: 0 }),
  }) as NetworkInterfaceInfo;

describe("createLocalAddresses (#16)", () => {
  it("answers per interface, any interface's for `any`; lo owns 127.0.0.0/8; IPv6 in canonical form", () => {
    const local = createLocalAddresses({
      read: () => ({
        lo: [info("127.0.0.1", true), info("::1", true)],
        eth0: [
          info("192.0.2.2"),
          info("2001:DB8:0:0::2"),
          info("fe80::1%eth0"),
        ],
        eth1: [info("198.51.100.2")],
      }),
    });
    expect(local.isLocal("eth0", "192.0.2.2", 0)).toBe(true);
    expect(local.isLocal("eth0", "2001:db8::2", 0)).toBe(true);
    expect(local.isLocal("eth0", "fe80::1", 0)).toBe(true);
    expect(local.isLocal("eth0", "198.51.100.2", 0)).toBe(false);
    expect(local.isLocal("any", "198.51.100.2", 0)).toBe(true);
    expect(local.isLocal(undefined, "192.0.2.2", 0)).toBe(true);
    expect(local.isLocal("lo", "127.3.4.5", 0)).toBe(true);
    expect(local.isLocal("eth0", "127.0.0.1", 0)).toBe(false);
    expect(local.isLocal("nosuch0", "192.0.2.2", 0)).toBe(false);
    expect(local.isOwn("198.51.100.2", 0)).toBe(true);
    expect(local.isOwn("192.0.2.9", 0)).toBe(false);
    expect(local.isLoopback("lo", 0)).toBe(true);
    expect(local.isLoopback("eth0", 0)).toBe(false);
    expect(local.isLoopback("any", 0)).toBe(false);
  });

  it("answers for IPv4 numbers as for their text (#20: the allocation-free lane)", () => {
    const read = () => ({
      lo: [info("127.0.0.1", true)],
      eth0: [info("192.0.2.2"), info("2001:db8::2")],
      eth1: [info("198.51.100.2")],
    });
    const text = createLocalAddresses({ read });
    const numbers = createLocalAddresses({ read });
    for (const ip of ["192.0.2.2", "198.51.100.2", "127.3.4.5", "10.0.0.1"]) {
      const n = ipv4ToNumber(ip) | 0;
      expect(numbers.isOwnV4(n, 0), ip).toBe(text.isOwn(ip, 0));
      for (const iface of ["eth0", "eth1", "lo", "any", "nosuch0", undefined])
        expect(numbers.isLocalV4(iface, n, 0), `${ip} ${iface}`).toBe(
          text.isLocal(iface, ip, 0),
        );
    }
    expect(numbers.isLocalV4("eth0", ipv4ToNumber("192.0.2.2") | 0, 0)).toBe(
      true,
    );
    expect(numbers.isLocalV4("eth0", ipv4ToNumber("198.51.100.2") | 0, 0)).toBe(
      false,
    );
    expect(numbers.isOwnV4(ipv4ToNumber("203.0.113.9") | 0, 0)).toBe(false);
  });

  it("checkV4 applies the capture's rules as the text questions answer them, interfaces alternating (#20)", () => {
    const read = () => ({
      lo: [info("127.0.0.1", true)],
      eth0: [info("192.0.2.2")],
      eth1: [info("198.51.100.2")],
    });
    const text = createLocalAddresses({ read });
    const numbers = createLocalAddresses({ read });
    const ips = ["192.0.2.2", "198.51.100.2", "127.0.0.1", "203.0.113.9"];
    const time = Float64Array.of(0);
    for (const src of ips)
      for (const dst of ips)
        for (const iface of ["eth0", "lo", "eth1", "any", "eth0", undefined]) {
          const named = iface !== undefined && iface !== "any";
          const expected =
            named && !text.isLoopback(iface, 0) && text.isOwn(src, 0)
              ? "FRAME_MARTIAN_SOURCE"
              : text.isLocal(iface, dst, 0)
                ? undefined
                : "FRAME_NOT_FOR_US";
          expect(
            numbers.checkV4(
              iface,
              ipv4ToNumber(src) | 0,
              ipv4ToNumber(dst) | 0,
              time,
            ),
            `${src} → ${dst} on ${iface}`,
          ).toBe(expected);
        }
  });

  it("reads again on a miss at most once a second, and every minute", () => {
    let reads = 0;
    const table: Record<string, NetworkInterfaceInfo[]> = {
      eth0: [info("192.0.2.2")],
    };
    const local = createLocalAddresses({
      read: () => {
        reads++;
        return table;
      },
    });
    expect(local.isLocal("eth0", "192.0.2.2", 0)).toBe(true);
    expect(reads).toBe(1);
    table.eth0 = [info("192.0.2.2"), info("192.0.2.3")];
    // Missed within the second: not read again (a flood of misses costs one read a second).
    for (let t = 0; t < 1000; t += 10)
      expect(local.isLocal("eth0", "192.0.2.3", t)).toBe(false);
    expect(reads).toBe(1);
    expect(local.isLocal("eth0", "192.0.2.3", 1000)).toBe(true);
    expect(reads).toBe(2);
    // A removed address is forgotten at the next periodic read.
    table.eth0 = [info("192.0.2.3")];
    expect(local.isLocal("eth0", "192.0.2.2", 30_000)).toBe(true);
    expect(local.isLocal("eth0", "192.0.2.2", 61_000)).toBe(false);
    // A clock that went back reads again.
    const before = reads;
    local.isLocal("eth0", "192.0.2.3", 500);
    expect(reads).toBe(before + 1);
  });

  it("reads this process's real interfaces by default", () => {
    const local = createLocalAddresses();
    for (const [name, infos] of Object.entries(networkInterfaces())) {
      for (const i of infos ?? []) {
        if (i.family === "IPv4")
          expect(local.isLocal(name, i.address, 0)).toBe(true);
      }
    }
  });
});
