import { describe, expect, it } from "vitest";
import { ACK, SYN, ethernet, ipv4, tcpFrame, udp } from "../test/frames.ts";
import type { DecodedPacket } from "./decode-frame.ts";
import { decodeFrame } from "./decode-frame.ts";
import { createSpanMatcher } from "./span-match.ts";

function decoded(frame: Uint8Array): DecodedPacket {
  const r = decodeFrame(frame, "ethernet", { timeMs: 0, origin: "t" });
  if (!r.ok) throw new Error(r.code);
  return r.packet;
}

const tcpTo = (dstPort: number, flags = SYN): DecodedPacket =>
  decoded(tcpFrame({ src: "::1", dst: "::1", srcPort: 1, dstPort, flags }));
const udpTo = (dstPort: number): DecodedPacket =>
  decoded(
    ethernet(
      ipv4({
        src: "10.0.0.1",
        dst: "10.0.0.2",
        protocol: 17,
        payload: udp(1, dstPort),
      }),
    ),
  );

describe("createSpanMatcher", () => {
  it("TCP: a SYN without ACK to a port of the span", () => {
    const m = createSpanMatcher(
      [
        [600, 699],
        [900, 900],
      ],
      "tcp",
    );
    expect([599, 600, 699, 700, 900, 901].map((p) => m(tcpTo(p)))).toEqual([
      false,
      true,
      true,
      false,
      true,
      false,
    ]);
    expect(m(tcpTo(600, SYN | ACK))).toBe(false);
    expect(m(tcpTo(600, ACK))).toBe(false);
    expect(m(tcpTo(600, SYN | 0xc0))).toBe(true); // ECN-setup SYN
    expect(m(udpTo(600))).toBe(false);
  });

  it("UDP: any datagram to a port of the span", () => {
    const m = createSpanMatcher([[600, 699]], "udp");
    expect([m(udpTo(650)), m(udpTo(700)), m(tcpTo(650))]).toEqual([
      true,
      false,
      false,
    ]);
  });
});
