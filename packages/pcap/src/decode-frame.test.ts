import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  ACK,
  SYN,
  bsdLoopback,
  ethernet,
  ipv4,
  ipv6,
  sll,
  sll2,
  tcp,
  tcpFrame,
  udp,
} from "../test/frames.ts";
import { decodeFrame } from "./decode-frame.ts";
import type { DecodeFrameResult, DecodedPacket } from "./decode-frame.ts";
import { FRAME_REJECT_CODES } from "./errors.ts";
import type { LinkType } from "./link-type.ts";
import { LINK_TYPES } from "./link-type.ts";

const META = { timeMs: 1_700_000_000_000, origin: "pcap lo #1", iface: "lo" };

function packet(r: DecodeFrameResult): DecodedPacket {
  if (!r.ok) throw new Error(`expected a packet, got ${r.code}`);
  return r.packet;
}

const v4Syn = ipv4({
  src: "192.0.2.7",
  dst: "127.0.0.1",
  protocol: 6,
  ttl: 57,
  tos: 0x10,
  id: 54321,
  payload: tcp({
    srcPort: 40000,
    dstPort: 1001,
    seq: 0xdeadbeef,
    window: 65495,
  }),
});
const v6Syn = ipv6({
  src: "2001:db8::7",
  dst: "::1",
  protocol: 6,
  hopLimit: 63,
  trafficClass: 0xb8,
  payload: tcp({ srcPort: 40001, dstPort: 1002, seq: 7 }),
});

describe("decodeFrame", () => {
  it("decodes Ethernet / IPv4 / TCP SYN (lo: all-zero MACs)", () => {
    expect(packet(decodeFrame(ethernet(v4Syn), "ethernet", META))).toEqual({
      ...META,
      linkType: "ethernet",
      vlan: undefined,
      family: 4,
      srcIp: "192.0.2.7",
      dstIp: "127.0.0.1",
      protocol: 6,
      ttl: 57,
      tos: 0x10,
      length: 40,
      id: 54321,
      srcPort: 40000,
      dstPort: 1001,
      tcpFlags: SYN,
      seq: 0xdeadbeef,
      window: 65495,
    });
  });

  it("decodes Ethernet / IPv6 / TCP with RFC 5952 addresses", () => {
    expect(
      packet(decodeFrame(ethernet(v6Syn), "ethernet", META)),
    ).toMatchObject({
      family: 6,
      srcIp: "2001:db8::7",
      dstIp: "::1",
      protocol: 6,
      ttl: 63,
      tos: 0xb8,
      length: 60,
      id: undefined,
      srcPort: 40001,
      dstPort: 1002,
      tcpFlags: SYN,
      seq: 7,
    });
  });

  it("skips IPv6 extension headers (hop-by-hop, routing, destination options, AH)", () => {
    const frame = ethernet(
      ipv6({
        src: "fe80::1",
        dst: "fe80::2",
        protocol: 6,
        extensions: [{ type: 0 }, { type: 43 }, { type: 60 }, { type: 51 }],
        payload: tcp({ srcPort: 5, dstPort: 1234 }),
      }),
    );
    expect(packet(decodeFrame(frame, "ethernet", META))).toMatchObject({
      srcIp: "fe80::1",
      protocol: 6,
      srcPort: 5,
      dstPort: 1234,
      length: 40 + 8 + 8 + 8 + 12 + 20,
    });
  });

  it("reads the first IPv6 fragment, rejects the others", () => {
    const frag = (fragmentOffset: number): Uint8Array =>
      ethernet(
        ipv6({
          src: "::1",
          dst: "::1",
          protocol: 17,
          extensions: [{ type: 0 }, { type: 44, fragmentOffset, id: 99 }],
          payload: udp(53, 1500),
        }),
      );
    expect(packet(decodeFrame(frag(0), "ethernet", META))).toMatchObject({
      protocol: 17,
      id: 99,
      dstPort: 1500,
      tcpFlags: undefined,
      seq: undefined,
      window: undefined,
    });
    expect(decodeFrame(frag(1), "ethernet", META)).toEqual({
      ok: false,
      code: "FRAME_FRAGMENT",
      srcIp: "::1",
    });
  });

  it("gives up after 8 IPv6 extension headers", () => {
    const frame = ethernet(
      ipv6({
        src: "::1",
        dst: "::1",
        protocol: 6,
        extensions: Array.from({ length: 10 }, () => ({ type: 60 })),
        payload: tcp({ srcPort: 1, dstPort: 2 }),
      }),
    );
    expect(decodeFrame(frame, "ethernet", META)).toMatchObject({
      ok: false,
      code: "FRAME_UNSUPPORTED_PROTOCOL",
    });
  });

  it("skips IPv4 options; reads first fragments, rejects the others", () => {
    const withOptions = ipv4({
      src: "10.0.0.1",
      dst: "10.0.0.2",
      protocol: 6,
      options: new Uint8Array([1, 1, 1, 0]),
      moreFragments: true,
      payload: tcp({ srcPort: 1, dstPort: 2000 }),
    });
    expect(
      packet(decodeFrame(ethernet(withOptions), "ethernet", META)),
    ).toMatchObject({
      dstPort: 2000,
      length: 44,
    });
    const later = ipv4({
      src: "10.0.0.1",
      dst: "10.0.0.2",
      protocol: 6,
      fragmentOffset: 3,
      payload: tcp({ srcPort: 1, dstPort: 2000 }),
    });
    expect(decodeFrame(ethernet(later), "ethernet", META)).toEqual({
      ok: false,
      code: "FRAME_FRAGMENT",
      srcIp: "10.0.0.1",
    });
  });

  it("decodes UDP", () => {
    const frame = ethernet(
      ipv4({
        src: "127.0.0.1",
        dst: "127.0.0.1",
        protocol: 17,
        payload: udp(999, 1500),
      }),
    );
    expect(packet(decodeFrame(frame, "ethernet", META))).toMatchObject({
      protocol: 17,
      srcPort: 999,
      dstPort: 1500,
      tcpFlags: undefined,
    });
  });

  it("reads 802.1Q and 802.1ad VLAN tags", () => {
    expect(
      packet(decodeFrame(ethernet(v4Syn, [42]), "ethernet", META)),
    ).toMatchObject({
      vlan: 42,
      dstPort: 1001,
    });
    expect(
      packet(decodeFrame(ethernet(v6Syn, [100, 200]), "ethernet", META)),
    ).toMatchObject({
      vlan: 100,
      dstPort: 1002,
    });
  });

  it("reads a lone 802.1ad (QinQ, 0x88a8) tag like an 802.1Q one (#16)", () => {
    const tagged = ethernet(v4Syn, [42]);
    tagged[12] = 0x88;
    tagged[13] = 0xa8;
    expect(packet(decodeFrame(tagged, "ethernet", META))).toMatchObject({
      vlan: 42,
      dstPort: 1001,
    });
  });

  it("decodes Linux cooked v1 and v2 frames, and rejects outgoing ones", () => {
    expect(packet(decodeFrame(sll(v4Syn), "linux-sll", META))).toMatchObject({
      linkType: "linux-sll",
      srcIp: "192.0.2.7",
      dstPort: 1001,
    });
    expect(packet(decodeFrame(sll2(v6Syn), "linux-sll2", META))).toMatchObject({
      linkType: "linux-sll2",
      srcIp: "2001:db8::7",
      dstPort: 1002,
    });
    expect(decodeFrame(sll(v4Syn, 4), "linux-sll", META)).toEqual({
      ok: false,
      code: "FRAME_OUTGOING",
    });
    expect(decodeFrame(sll2(v4Syn, 4), "linux-sll2", META)).toEqual({
      ok: false,
      code: "FRAME_OUTGOING",
    });
  });

  it("decodes raw IP (tun, WireGuard) by the version nibble", () => {
    expect(packet(decodeFrame(v4Syn, "raw", META))).toMatchObject({
      family: 4,
      dstPort: 1001,
    });
    expect(packet(decodeFrame(v6Syn, "raw", META))).toMatchObject({
      family: 6,
      dstPort: 1002,
    });
    expect(decodeFrame(new Uint8Array([0x10, 0, 0, 0]), "raw", META)).toEqual({
      ok: false,
      code: "FRAME_NOT_IP",
    });
  });

  it("decodes BSD loopback in either byte order, and OpenBSD loop", () => {
    expect(
      packet(decodeFrame(bsdLoopback(v4Syn, 2, true), "null", META)).dstPort,
    ).toBe(1001);
    expect(
      packet(decodeFrame(bsdLoopback(v6Syn, 30, false), "null", META)).dstPort,
    ).toBe(1002);
    expect(
      packet(decodeFrame(bsdLoopback(v6Syn, 24, false), "loop", META)).dstPort,
    ).toBe(1002);
    expect(decodeFrame(bsdLoopback(v4Syn, 7, true), "null", META)).toEqual({
      ok: false,
      code: "FRAME_NOT_IP",
    });
  });

  it("rejects what is not TCP/UDP over IP with a code", () => {
    const arp = ethernet(new Uint8Array(28), [], 0x0806);
    expect(decodeFrame(arp, "ethernet", META)).toEqual({
      ok: false,
      code: "FRAME_NOT_IP",
    });
    const icmp = ethernet(
      ipv4({
        src: "10.0.0.1",
        dst: "10.0.0.2",
        protocol: 1,
        payload: new Uint8Array(8),
      }),
    );
    expect(decodeFrame(icmp, "ethernet", META)).toEqual({
      ok: false,
      code: "FRAME_UNSUPPORTED_PROTOCOL",
      srcIp: "10.0.0.1",
    });
    const v6InV4 = ethernet(v6Syn, [], 0x0800);
    expect(decodeFrame(v6InV4, "ethernet", META)).toMatchObject({
      ok: false,
      code: "FRAME_BAD_IP_HEADER",
    });
    const badTcp = ethernet(
      ipv4({
        src: "10.0.0.1",
        dst: "10.0.0.2",
        protocol: 6,
        payload: tcp({ srcPort: 1, dstPort: 2, dataOffset: 4 }),
      }),
    );
    expect(decodeFrame(badTcp, "ethernet", META)).toMatchObject({
      ok: false,
      code: "FRAME_BAD_TCP_HEADER",
    });
    expect(decodeFrame(ethernet(v4Syn), "bogus" as LinkType, META)).toEqual({
      ok: false,
      code: "FRAME_UNSUPPORTED_LINK",
    });
  });

  it.each([
    ["Ethernet/IPv4/TCP", ethernet(v4Syn), "ethernet"],
    ["Ethernet/IPv6/TCP", ethernet(v6Syn), "ethernet"],
    ["VLAN/IPv4/TCP", ethernet(v4Syn, [5]), "ethernet"],
    ["SLL/IPv4/TCP", sll(v4Syn), "linux-sll"],
    ["SLL2/IPv6/TCP", sll2(v6Syn), "linux-sll2"],
    ["raw/IPv6/TCP", v6Syn, "raw"],
    ["null/IPv4/TCP", bsdLoopback(v4Syn, 2, true), "null"],
  ] as const)(
    "rejects every truncation of %s as FRAME_TRUNCATED",
    (_name, frame, linkType) => {
      expect(decodeFrame(frame, linkType, META).ok).toBe(true);
      for (let n = 0; n < frame.length; n++) {
        const r = decodeFrame(frame.subarray(0, n), linkType, META);
        // A cut inside the IPv4 payload is noticed only by the transport header's length check.
        expect(r.ok ? "ok" : r.code, `length ${n}`).toBe("FRAME_TRUNCATED");
      }
    },
  );

  it("never throws on arbitrary bytes, for every link type", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 128 }),
        fc.constantFrom(...LINK_TYPES),
        (bytes, linkType) => {
          const r = decodeFrame(bytes, linkType, META);
          if (!r.ok) expect(FRAME_REJECT_CODES).toContain(r.code);
        },
      ),
      { numRuns: 5000 },
    );
  });

  it("never throws on valid frames with random bytes overwritten", () => {
    const frames: [Uint8Array, LinkType][] = [
      [ethernet(v4Syn), "ethernet"],
      [
        ethernet(
          ipv6({
            src: "::1",
            dst: "::1",
            protocol: 6,
            extensions: [{ type: 0 }, { type: 44 }],
            payload: tcp({ srcPort: 1, dstPort: 2 }),
          }),
        ),
        "ethernet",
      ],
      [sll(v4Syn), "linux-sll"],
    ];
    fc.assert(
      fc.property(
        fc.constantFrom(...frames),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), {
          maxLength: 6,
        }),
        fc.nat(),
        ([frame, linkType], edits, cut) => {
          const bytes = frame.slice(0, frame.length - (cut % 8));
          for (const [i, v] of edits) bytes[i % bytes.length] = v;
          const r = decodeFrame(bytes, linkType, META);
          if (!r.ok) expect(FRAME_REJECT_CODES).toContain(r.code);
          else expect(r.packet.dstPort).toBeLessThan(65536);
        },
      ),
      { numRuns: 5000 },
    );
  });

  it("round-trips the header fields of any TCP/UDP packet (from a unicast source)", () => {
    const v4 = fc
      .tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255))
      .map((b) => b.join("."));
    // Sources 1–126 and 128–223: what FRAME_MARTIAN_SOURCE leaves (tested on its own above).
    const unicast = fc
      .tuple(
        fc.oneof(
          fc.integer({ min: 1, max: 126 }),
          fc.integer({ min: 128, max: 223 }),
        ),
        fc.nat(255),
        fc.nat(255),
        fc.nat(255),
      )
      .map((b) => b.join("."));
    fc.assert(
      fc.property(
        unicast,
        v4,
        fc.nat(65535),
        fc.nat(65535),
        fc.nat(0xffffffff),
        fc.nat(255),
        fc.boolean(),
        (src, dst, srcPort, dstPort, seq, flags, isTcp) => {
          const payload = isTcp
            ? tcp({ srcPort, dstPort, seq, flags })
            : udp(srcPort, dstPort);
          const frame = ethernet(
            ipv4({ src, dst, protocol: isTcp ? 6 : 17, payload }),
          );
          const p = packet(decodeFrame(frame, "ethernet", META));
          expect([p.srcIp, p.dstIp, p.srcPort, p.dstPort]).toEqual([
            src,
            dst,
            srcPort,
            dstPort,
          ]);
          expect([p.seq, p.tcpFlags]).toEqual(
            isTcp ? [seq, flags] : [undefined, undefined],
          );
        },
      ),
    );
  });

  it("ACK flag is reported as is (the span rule, not the decoder, refuses it)", () => {
    const frame = tcpFrame({
      src: "127.0.0.1",
      dst: "127.0.0.1",
      srcPort: 1,
      dstPort: 2,
      flags: SYN | ACK,
    });
    expect(packet(decodeFrame(frame, "ethernet", META)).tcpFlags).toBe(
      SYN | ACK,
    );
  });
});

describe("sources no knocker can have (#16)", () => {
  const syn = (src: string, dst: string): Uint8Array =>
    src.includes(":")
      ? ethernet(
          ipv6({
            src,
            dst,
            protocol: 6,
            payload: tcp({ srcPort: 1, dstPort: 2000 }),
          }),
        )
      : ethernet(
          ipv4({
            src,
            dst,
            protocol: 6,
            payload: tcp({ srcPort: 1, dstPort: 2000 }),
          }),
        );

  it.each([
    ["0.0.0.0", "192.0.2.1"],
    ["0.1.2.3", "192.0.2.1"],
    ["224.0.0.1", "192.0.2.1"],
    ["239.255.255.250", "192.0.2.1"],
    ["240.0.0.1", "192.0.2.1"],
    ["255.255.255.255", "192.0.2.1"],
    ["127.0.0.1", "192.0.2.1"],
    ["::", "2001:db8::1"],
    ["ff02::1", "2001:db8::1"],
    ["::ffff:192.0.2.7", "2001:db8::1"],
    ["::1", "2001:db8::1"],
  ])("%s → %s is FRAME_MARTIAN_SOURCE, with its source", (src, dst) => {
    const r = decodeFrame(syn(src, dst), "ethernet", META);
    expect(r).toMatchObject({ ok: false, code: "FRAME_MARTIAN_SOURCE" });
  });

  it.each([
    ["127.0.0.1", "127.0.0.1"],
    ["127.0.0.2", "127.0.0.1"],
    ["::1", "::1"],
    ["223.255.255.254", "192.0.2.1"],
    ["1.0.0.1", "192.0.2.1"],
    ["2001:db8::7", "2001:db8::1"],
    ["fe80::1", "fe80::2"],
    ["64:ff9b::c000:207", "2001:db8::1"],
  ])("%s → %s is a packet (loopback to loopback is real)", (src, dst) => {
    expect(packet(decodeFrame(syn(src, dst), "ethernet", META)).srcIp).toBe(
      src,
    );
  });

  it("an IPv6 header with payload length 0 is FRAME_BAD_IP_HEADER", () => {
    const frame = syn("2001:db8::7", "2001:db8::1");
    // Ethernet (14) + the payload length at bytes 4–5 of the IPv6 header.
    frame[14 + 4] = 0;
    frame[14 + 5] = 0;
    expect(decodeFrame(frame, "ethernet", META)).toMatchObject({
      ok: false,
      code: "FRAME_BAD_IP_HEADER",
    });
  });
});
