import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ipv4ToNumber } from "@portknock/core";
import { ethernet, ipv4, ipv6, tcp, udp } from "../test/frames.ts";
import { decodeFrame } from "./decode-frame.ts";
import {
  HIT_DST_PORT,
  HIT_FIELDS,
  HIT_FLAGS,
  HIT_PROTOCOL,
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
  return out;
}

const syn = ethernet(
  ipv4({
    src: "203.0.113.9",
    dst: "192.0.2.2",
    protocol: 6,
    payload: tcp({ srcPort: 40000, dstPort: 1001 }),
  }),
);

describe("readIpv4Hit", () => {
  it("reads an IPv4 SYN and a UDP datagram as decodeFrame does", () => {
    expect(read(syn, 5)).toEqual(decoded(syn));
    expect((read(syn)?.[HIT_SRC] ?? 0) >>> 0).toBe(ipv4ToNumber("203.0.113.9"));
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
