import type { NetworkInterfaceInfo } from "node:os";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ipv4ToNumber, noopLogger } from "@portknock/core";
import { ethernet, ipv4, ipv6, tcp, udp } from "../test/frames.ts";
import type { DecodedPacket } from "./decode-frame.ts";
import { decodeFrame } from "./decode-frame.ts";
import type { CaptureStats, FrameCounter } from "./frame-counter.ts";
import { createCaptureStats, createFrameCounter } from "./frame-counter.ts";
import { createLocalAddresses } from "./local-addresses.ts";
import {
  HIT_DST,
  HIT_DST_PORT,
  HIT_FIELDS,
  HIT_FLAGS,
  HIT_PROTOCOL,
  HIT_SEQ,
  HIT_SRC,
  HIT_SRC_PORT,
  readIpv4Hit,
} from "./read-ipv4-hit.ts";

const META = { timeMs: 0, origin: "t", iface: "lo" };

/** What `readIpv4Hit` says of `frame` placed at `start` of a larger buffer. */
function read(frame: Uint8Array, start = 0): number[] | undefined {
  const buffer = new Uint8Array(start + frame.length + 16).fill(0xee);
  buffer.set(frame, start);
  const out = new Int32Array(HIT_FIELDS);
  return readIpv4Hit(buffer, start, frame.length, out) ? [...out] : undefined;
}

/** The same fields from `decodeFrame`, or undefined when it rejects the frame. */
function decoded(frame: Uint8Array): number[] | undefined {
  const r = decodeFrame(frame, "ethernet", META);
  if (!r.ok || r.packet.family !== 4) return undefined;
  const p = r.packet;
  const out = [];
  out[HIT_SRC] = ipv4ToNumber(p.srcIp) | 0;
  out[HIT_DST_PORT] = p.dstPort;
  out[HIT_SRC_PORT] = p.srcPort;
  out[HIT_PROTOCOL] = p.protocol;
  out[HIT_FLAGS] = p.tcpFlags ?? 0;
  out[HIT_DST] = ipv4ToNumber(p.dstIp) | 0;
  out[HIT_SEQ] = (p.seq ?? 0) | 0;
  return out;
}

const syn = ethernet(
  ipv4({
    src: "203.0.113.9",
    dst: "192.0.2.2",
    protocol: 6,
    payload: tcp({ srcPort: 40000, dstPort: 1001, seq: 0xdeadbeef }),
  }),
);

describe("readIpv4Hit", () => {
  it("reads an IPv4 SYN and a UDP datagram as decodeFrame does", () => {
    expect(read(syn, 5)).toEqual(decoded(syn));
    expect((read(syn)?.[HIT_SRC] ?? 0) >>> 0).toBe(ipv4ToNumber("203.0.113.9"));
    expect((read(syn)?.[HIT_DST] ?? 0) >>> 0).toBe(ipv4ToNumber("192.0.2.2"));
    // The kernel retransmit rule's sequence number (#16), unsigned with `>>> 0`.
    expect((read(syn)?.[HIT_SEQ] ?? 0) >>> 0).toBe(0xdeadbeef);
    const datagram = ethernet(
      ipv4({
        src: "198.51.100.1",
        dst: "192.0.2.2",
        protocol: 17,
        payload: udp(5353, 2000),
      }),
    );
    expect(read(datagram)).toEqual(decoded(datagram));
    expect(read(datagram)?.[HIT_PROTOCOL]).toBe(17);
  });

  it("leaves IPv6, martian sources and fragments to decodeFrame", () => {
    const v6 = ethernet(
      ipv6({
        src: "2001:db8::1",
        dst: "2001:db8::2",
        protocol: 6,
        payload: tcp({ srcPort: 1, dstPort: 2 }),
      }),
    );
    expect(read(v6)).toBeUndefined();
    for (const src of ["0.1.2.3", "224.0.0.1", "255.255.255.255", "127.0.0.1"])
      expect(
        read(
          ethernet(
            ipv4({
              src,
              dst: "192.0.2.2",
              protocol: 6,
              payload: tcp({ srcPort: 1, dstPort: 2 }),
            }),
          ),
        ),
        src,
      ).toBeUndefined();
    expect(
      read(
        ethernet(
          ipv4({
            src: "192.0.2.1",
            dst: "192.0.2.2",
            protocol: 6,
            fragmentOffset: 3,
            payload: tcp({ srcPort: 1, dstPort: 2 }),
          }),
        ),
      ),
    ).toBeUndefined();
  });

  it("never reads past the frame: every cut of a SYN is left to decodeFrame", () => {
    for (let n = 0; n < syn.length; n++)
      expect(read(syn.subarray(0, n)), `length ${n}`).toBeUndefined();
  });

  it("answers only with decodeFrame's fields, for valid frames with random bytes overwritten", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(
          syn,
          ethernet(
            ipv4({
              src: "192.0.2.1",
              dst: "127.0.0.1",
              protocol: 17,
              options: new Uint8Array(8),
              payload: udp(1, 2),
            }),
          ),
        ),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), {
          maxLength: 6,
        }),
        fc.nat(12),
        (frame, edits, cut) => {
          const bytes = frame.slice(0, frame.length - cut);
          for (const [i, v] of edits) bytes[i % bytes.length] = v;
          const fast = read(bytes, 3);
          if (fast !== undefined) expect(fast).toEqual(decoded(bytes));
        },
      ),
      { numRuns: 20_000 },
    );
  });

  it("answers only with decodeFrame's fields, for arbitrary bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 34, maxLength: 80 }), (bytes) => {
        bytes[12] = 8;
        bytes[13] = 0;
        const fast = read(bytes);
        if (fast !== undefined) expect(fast).toEqual(decoded(bytes));
      }),
      { numRuns: 20_000 },
    );
  });
});

// The lane as live capture runs it (issue #20 after #16): readIpv4Hit, then the counter's
// address rules on numbers (`countIpv4`), else `take`, against `take` on every frame.
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

/** Each read of the host's table: eth0 gains 192.0.2.3 from the second read on. */
function tables(): () => NodeJS.Dict<NetworkInterfaceInfo[]> {
  let reads = 0;
  return () => ({
    lo: [info("127.0.0.1", true), info("::1", true)],
    eth0: [
      info("192.0.2.2"),
      info("2001:db8::2"),
      ...(reads++ > 0 ? [info("192.0.2.3")] : []),
    ],
    eth1: [info("198.51.100.2")],
  });
}

const ADDRESSES = [
  "192.0.2.2",
  "192.0.2.3",
  "198.51.100.2",
  "127.0.0.1",
  "127.9.9.9",
  "203.0.113.9",
  "10.0.0.1",
  "0.0.0.1",
  "224.0.0.1",
];

interface Lane {
  results: (number[] | string)[];
  reports: string[];
  counter: FrameCounter;
  stats: CaptureStats;
}

function lane(iface: string): Lane {
  const stats = createCaptureStats();
  const reports: string[] = [];
  const counter = createFrameCounter({
    stats,
    linkType: "ethernet",
    originPrefix: `pcap ${iface}`,
    iface,
    where: iface,
    logger: noopLogger,
    clock: { now: () => 0 },
    onReject: (d, frame, origin) =>
      reports.push(
        `${d.code} ${d.where.kind === "packet" && d.where.srcIp} ${origin} ${frame.length}`,
      ),
    local: createLocalAddresses({ read: tables() }),
  });
  return { results: [], reports, counter, stats };
}

/** `decoded`'s fields of a packet the counter let through. */
function fieldsOf(p: DecodedPacket): number[] | string {
  if (p.family !== 4) return `v6 ${p.srcIp}`;
  const out = [];
  out[HIT_SRC] = ipv4ToNumber(p.srcIp) | 0;
  out[HIT_DST_PORT] = p.dstPort;
  out[HIT_SRC_PORT] = p.srcPort;
  out[HIT_PROTOCOL] = p.protocol;
  out[HIT_FLAGS] = p.tcpFlags ?? 0;
  out[HIT_DST] = ipv4ToNumber(p.dstIp) | 0;
  out[HIT_SEQ] = (p.seq ?? 0) | 0;
  return out;
}

describe("the IPv4 lane through the frame counter (#20 with #16's address rules)", () => {
  it("decides, counts and reports every frame as take does: not for us, our own source, seq", () => {
    const frame = fc
      .record({
        src: fc.constantFrom(...ADDRESSES),
        dst: fc.constantFrom(...ADDRESSES),
        udp: fc.boolean(),
        seq: fc.nat({ max: 0xffffffff }),
        dstPort: fc.integer({ min: 1, max: 65535 }),
        gapMs: fc.constantFrom(0, 10, 400, 1000, 70_000),
        edits: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), {
          maxLength: 2,
        }),
      })
      .map((f) => {
        const bytes = ethernet(
          ipv4({
            src: f.src,
            dst: f.dst,
            protocol: f.udp ? 17 : 6,
            payload: f.udp
              ? udp(40000, f.dstPort)
              : tcp({ srcPort: 40000, dstPort: f.dstPort, seq: f.seq }),
          }),
        );
        for (const [i, v] of f.edits) bytes[i % bytes.length] = v;
        return { bytes, gapMs: f.gapMs };
      });
    fc.assert(
      fc.property(
        fc.constantFrom("eth0", "eth1", "lo", "any"),
        fc.array(frame, { minLength: 1, maxLength: 12 }),
        (iface, frames) => {
          const full = lane(iface);
          const fast = lane(iface);
          const buffer = new Uint8Array(2048);
          const out = new Int32Array(HIT_FIELDS);
          let t = 1_000_000;
          for (const { bytes, gapMs } of frames) {
            t += gapMs;
            const p = full.counter.take(bytes, t, false);
            full.results.push(p === undefined ? "rejected" : fieldsOf(p));
            buffer.set(bytes, 3);
            if (readIpv4Hit(buffer, 3, bytes.length, out)) {
              const n = fast.counter.countIpv4(
                buffer,
                3,
                bytes.length,
                Float64Array.of(t),
                false,
                out[HIT_SRC]!,
                out[HIT_DST]!,
              );
              fast.results.push(n === 0 ? "rejected" : [...out]);
            } else {
              const q = fast.counter.take(bytes, t, false);
              fast.results.push(q === undefined ? "rejected" : fieldsOf(q));
            }
          }
          expect(fast.results).toEqual(full.results);
          expect(fast.reports).toEqual(full.reports);
          expect(fast.stats).toEqual(full.stats);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it("FRAME_NOT_FOR_US and FRAME_MARTIAN_SOURCE (our own source) come from countIpv4 itself", () => {
    const l = lane("eth0");
    const buffer = new Uint8Array(256);
    const out = new Int32Array(HIT_FIELDS);
    const count = (src: string, dst: string): number => {
      const bytes = ethernet(
        ipv4({
          src,
          dst,
          protocol: 6,
          payload: tcp({ srcPort: 1, dstPort: 2 }),
        }),
      );
      buffer.set(bytes);
      expect(readIpv4Hit(buffer, 0, bytes.length, out)).toBe(true);
      return l.counter.countIpv4(
        buffer,
        0,
        bytes.length,
        Float64Array.of(0),
        false,
        out[HIT_SRC]!,
        out[HIT_DST]!,
      );
    };
    expect(count("203.0.113.9", "192.0.2.2")).toBe(1);
    expect(count("203.0.113.9", "198.51.100.2")).toBe(0); // eth1's, not eth0's
    expect(count("198.51.100.2", "192.0.2.2")).toBe(0); // our own address as the source
    expect(count("203.0.113.9", "192.0.2.2")).toBe(4);
    expect(l.stats.rejections.FRAME_NOT_FOR_US).toBe(1);
    expect(l.stats.rejections.FRAME_MARTIAN_SOURCE).toBe(1);
    expect(l.stats).toMatchObject({ seen: 4, decoded: 2 });
    expect(l.reports).toEqual([
      "FRAME_NOT_FOR_US 203.0.113.9 pcap eth0 #2 54",
      "FRAME_MARTIAN_SOURCE 198.51.100.2 pcap eth0 #3 54",
    ]);
  });
});
