import type { NetworkInterfaceInfo } from "node:os";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { noopLogger, parseIpv6 } from "@portknock/core";
import { ethernet, ipv4, ipv6, tcp, udp } from "../test/frames.ts";
import type { DecodedPacket } from "./decode-frame.ts";
import { decodeFrame } from "./decode-frame.ts";
import type { CaptureStats, FrameCounter } from "./frame-counter.ts";
import { createCaptureStats, createFrameCounter } from "./frame-counter.ts";
import { createLocalAddresses } from "./local-addresses.ts";
import {
  HIT6_DST,
  HIT6_DST_PORT,
  HIT6_FIELDS,
  HIT6_FLAGS,
  HIT6_PROTOCOL,
  HIT6_SEQ,
  HIT6_SRC,
  HIT6_SRC_PORT,
  readIpv6Hit,
} from "./read-ipv6-hit.ts";

const META = { timeMs: 0, origin: "t", iface: "lo" };

/** What `readIpv6Hit` says of `frame` placed at `start` of a larger buffer. */
function read(frame: Uint8Array, start = 0): number[] | undefined {
  const buffer = new Uint8Array(start + frame.length + 16).fill(0xee);
  buffer.set(frame, start);
  const out = new Int32Array(HIT6_FIELDS);
  return readIpv6Hit(buffer, start, frame.length, out) ? [...out] : undefined;
}

/** The four words of IPv6 text, as signed ints. */
function words(text: string): number[] {
  const bytes = parseIpv6(text)!;
  const view = new DataView(bytes.buffer);
  return [0, 4, 8, 12].map((i) => view.getInt32(i));
}

/** `readIpv6Hit`'s fields of a packet `decodeFrame` decoded. */
function fieldsOf(p: DecodedPacket): number[] | string {
  if (p.family !== 6) return `v4 ${p.srcIp}`;
  const out: number[] = [];
  words(p.srcIp).forEach((w, i) => (out[HIT6_SRC + i] = w));
  words(p.dstIp).forEach((w, i) => (out[HIT6_DST + i] = w));
  out[HIT6_SRC_PORT] = p.srcPort;
  out[HIT6_DST_PORT] = p.dstPort;
  out[HIT6_PROTOCOL] = p.protocol;
  out[HIT6_FLAGS] = p.tcpFlags ?? 0;
  out[HIT6_SEQ] = (p.seq ?? 0) | 0;
  return out;
}

/** The same fields from `decodeFrame`, or undefined when it rejects the frame or it is IPv4. */
function decoded(frame: Uint8Array): number[] | undefined {
  const r = decodeFrame(frame, "ethernet", META);
  if (!r.ok || r.packet.family !== 6) return undefined;
  return fieldsOf(r.packet) as number[];
}

const syn = ethernet(
  ipv6({
    src: "2001:db8:f00d:1:8000:a000:ffff:fffe",
    dst: "2001:db8::2",
    protocol: 6,
    payload: tcp({ srcPort: 40000, dstPort: 1001, seq: 0xdeadbeef }),
  }),
);
const datagram = ethernet(
  ipv6({
    src: "fe80::1",
    dst: "::1",
    protocol: 17,
    payload: udp(5353, 2000),
  }),
);

describe("readIpv6Hit", () => {
  it("reads an IPv6 SYN and a UDP datagram as decodeFrame does", () => {
    expect(read(syn, 5)).toEqual(decoded(syn));
    expect(read(syn)?.slice(HIT6_SRC, HIT6_SRC + 4)).toEqual(
      words("2001:db8:f00d:1:8000:a000:ffff:fffe"),
    );
    expect(read(syn)?.slice(HIT6_DST, HIT6_DST + 4)).toEqual(
      words("2001:db8::2"),
    );
    expect((read(syn)?.[HIT6_SEQ] ?? 0) >>> 0).toBe(0xdeadbeef);
    expect(read(datagram)).toEqual(decoded(datagram));
    expect(read(datagram)?.[HIT6_PROTOCOL]).toBe(17);
  });

  it("leaves IPv4, VLAN tags and martian sources to decodeFrame", () => {
    const payload = tcp({ srcPort: 1, dstPort: 2 });
    expect(
      read(
        ethernet(
          ipv4({ src: "192.0.2.1", dst: "192.0.2.2", protocol: 6, payload }),
        ),
      ),
    ).toBeUndefined();
    const plain = {
      src: "2001:db8::1",
      dst: "2001:db8::2",
      protocol: 6,
      payload,
    };
    expect(read(ethernet(ipv6(plain)))).toBeDefined();
    expect(read(ethernet(ipv6(plain), [7]))).toBeUndefined();
    for (const src of ["::", "::1", "::ffff:192.0.2.1", "ff02::1", "::2"])
      expect(read(ethernet(ipv6({ ...plain, src }))), src).toBeUndefined();
    // ::1 to ::1 decodes (a loopback packet), but takes the object lane too.
    expect(
      decodeFrame(
        ethernet(ipv6({ ...plain, src: "::1", dst: "::1" })),
        "ethernet",
        META,
      ).ok,
    ).toBe(true);
  });

  it("skips extension headers as decodeFrame does: each kind, chains up to its bound, first fragments", () => {
    const plain = {
      src: "2001:db8::1",
      dst: "2001:db8::2",
      protocol: 6,
      payload: tcp({ srcPort: 40000, dstPort: 1001, seq: 7 }),
    };
    for (const type of [0, 43, 44, 60, 51]) {
      const frame = ethernet(ipv6({ ...plain, extensions: [{ type }] }));
      expect(read(frame, 1), `extension ${type}`).toEqual(decoded(frame));
      expect(read(frame)?.[HIT6_DST_PORT], `${type}`).toBe(1001);
    }
    const udpBehind = ethernet(
      ipv6({
        ...plain,
        protocol: 17,
        payload: udp(5353, 2000),
        extensions: [{ type: 0 }, { type: 51 }, { type: 60 }],
      }),
    );
    expect(read(udpBehind)).toEqual(decoded(udpBehind));
    expect(read(udpBehind)?.[HIT6_DST_PORT]).toBe(2000);
    // decodeFrame skips at most 9 headers: a 10th leaves an extension header as the protocol
    // (FRAME_UNSUPPORTED_PROTOCOL), and the lane leaves that frame to it.
    const chain = (n: number): Uint8Array =>
      ethernet(
        ipv6({
          ...plain,
          extensions: Array.from({ length: n }, () => ({ type: 60 })),
        }),
      );
    expect(read(chain(9))).toEqual(decoded(chain(9)));
    expect(read(chain(9))).toBeDefined();
    expect(read(chain(10))).toBeUndefined();
    expect(decodeFrame(chain(10), "ethernet", META)).toMatchObject({
      ok: false,
      code: "FRAME_UNSUPPORTED_PROTOCOL",
    });
    // A later fragment carries no ports: FRAME_FRAGMENT there, not read here.
    const later = ethernet(
      ipv6({ ...plain, extensions: [{ type: 44, fragmentOffset: 1 }] }),
    );
    expect(read(later)).toBeUndefined();
    expect(decodeFrame(later, "ethernet", META)).toMatchObject({
      ok: false,
      code: "FRAME_FRAGMENT",
    });
    // Every cut of a frame with a chain is left to decodeFrame, which rejects it.
    const long = ethernet(
      ipv6({ ...plain, extensions: [{ type: 0 }, { type: 44 }, { type: 51 }] }),
    );
    for (let n = 0; n < long.length; n++) {
      expect(read(long.subarray(0, n)), `length ${n}`).toBeUndefined();
      expect(decoded(long.subarray(0, n)), `length ${n}`).toBeUndefined();
    }
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
          datagram,
          ...[[0], [60], [44], [51], [0, 43, 44, 60], [51, 60, 60]].map(
            (types) =>
              ethernet(
                ipv6({
                  src: "2001:db8::1",
                  dst: "2001:db8::2",
                  protocol: 6,
                  extensions: types.map((type) => ({ type })),
                  payload: tcp({ srcPort: 1, dstPort: 2 }),
                }),
              ),
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
      fc.property(fc.uint8Array({ minLength: 54, maxLength: 100 }), (bytes) => {
        bytes[12] = 0x86;
        bytes[13] = 0xdd;
        bytes[14] = 0x60 | (bytes[14]! & 0x0f);
        bytes[20] = [6, 17, 0, 44, 43, 60, 51, 59][bytes[20]! & 7]!;
        // Short extension headers (lengths 0–1) whose next header is one of those again, so
        // that chains of several are read too.
        for (let at = 54; at + 1 < bytes.length; at += 8) {
          bytes[at] = [6, 17, 0, 44, 43, 60, 51, 6][bytes[at]! & 7]!;
          bytes[at + 1] = bytes[at + 1]! & 1;
        }
        const fast = read(bytes);
        if (fast !== undefined) expect(fast).toEqual(decoded(bytes));
      }),
      { numRuns: 20_000 },
    );
  });
});

// The lane as live capture runs it: readIpv4Hit's twin, then the counter's address rules on
// words (`countIpv6`), else `take`, against `take` on every frame.
const info = (address: string, internal = false): NetworkInterfaceInfo =>
  ({
    address,
    netmask: address.includes(":") ? "ffff:ffff:ffff:ffff::" : "255.0.0.0",
    family: address.includes(":") ? "IPv6" : "IPv4",
    mac: "00:00:00:00:00:00",
    internal,
    cidr: null,
    ...(address.includes(":") && { scopeid: 0 }),
  }) as NetworkInterfaceInfo;

/** Each read of the host's table: eth0 gains 2001:db8::3 from the second read on. */
function tables(): () => NodeJS.Dict<NetworkInterfaceInfo[]> {
  let reads = 0;
  return () => ({
    lo: [info("127.0.0.1", true), info("::1", true)],
    eth0: [
      info("192.0.2.2"),
      info("2001:db8::2"),
      info("fe80::2%eth0"),
      ...(reads++ > 0 ? [info("2001:db8::3")] : []),
    ],
    eth1: [info("2001:db8:1::2")],
  });
}

const ADDRESSES = [
  "2001:db8::2",
  "2001:db8::3",
  "2001:db8:1::2",
  "fe80::2",
  "::1",
  "2001:db8:f00d::9",
  "fd00::1",
  "ff02::1",
  "::",
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

describe("the IPv6 lane through the frame counter (#20 with #16's address rules)", () => {
  it("decides, counts and reports every frame as take does: not for us, our own source, seq", () => {
    const frame = fc
      .record({
        src: fc.constantFrom(...ADDRESSES),
        dst: fc.constantFrom(...ADDRESSES),
        udp: fc.boolean(),
        seq: fc.nat({ max: 0xffffffff }),
        dstPort: fc.integer({ min: 1, max: 65535 }),
        gapMs: fc.constantFrom(0, 10, 400, 1000, 70_000),
        extensions: fc.array(
          fc.record({
            type: fc.constantFrom(0, 43, 44, 60, 51),
            fragmentOffset: fc.constantFrom(0, 0, 1),
          }),
          { maxLength: 3 },
        ),
        edits: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), {
          maxLength: 2,
        }),
      })
      .map((f) => {
        const bytes = ethernet(
          ipv6({
            src: f.src,
            dst: f.dst,
            protocol: f.udp ? 17 : 6,
            extensions: f.extensions,
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
          const out = new Int32Array(HIT6_FIELDS);
          let t = 1_000_000;
          for (const { bytes, gapMs } of frames) {
            t += gapMs;
            const p = full.counter.take(bytes, t, false);
            full.results.push(p === undefined ? "rejected" : fieldsOf(p));
            buffer.set(bytes, 3);
            if (readIpv6Hit(buffer, 3, bytes.length, out)) {
              const n = fast.counter.countIpv6(
                buffer,
                3,
                bytes.length,
                Float64Array.of(t),
                false,
                out,
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

  it("FRAME_NOT_FOR_US and FRAME_MARTIAN_SOURCE (our own source) come from countIpv6 itself", () => {
    const l = lane("eth0");
    const buffer = new Uint8Array(256);
    const out = new Int32Array(HIT6_FIELDS);
    const count = (src: string, dst: string): number => {
      const bytes = ethernet(
        ipv6({
          src,
          dst,
          protocol: 6,
          payload: tcp({ srcPort: 1, dstPort: 2 }),
        }),
      );
      buffer.set(bytes);
      expect(readIpv6Hit(buffer, 0, bytes.length, out)).toBe(true);
      return l.counter.countIpv6(
        buffer,
        0,
        bytes.length,
        Float64Array.of(0),
        false,
        out,
      );
    };
    expect(count("2001:db8:f00d::9", "2001:db8::2")).toBe(1);
    expect(count("2001:db8:f00d::9", "fe80::2")).toBe(2); // scope dropped
    expect(count("2001:db8:f00d::9", "2001:db8:1::2")).toBe(0); // eth1's
    expect(count("2001:db8:1::2", "2001:db8::2")).toBe(0); // our own address as the source
    expect(count("2001:db8:f00d::9", "2001:db8::2")).toBe(5);
    expect(l.stats.rejections.FRAME_NOT_FOR_US).toBe(1);
    expect(l.stats.rejections.FRAME_MARTIAN_SOURCE).toBe(1);
    expect(l.stats).toMatchObject({ seen: 5, decoded: 3 });
    expect(l.reports).toEqual([
      "FRAME_NOT_FOR_US 2001:db8:f00d::9 pcap eth0 #3 74",
      "FRAME_MARTIAN_SOURCE 2001:db8:1::2 pcap eth0 #4 74",
    ]);
  });
});
