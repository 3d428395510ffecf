/**
 * The JavaScript side of the kernel filter (spec: daemon.md §1): whether a decoded packet is a
 * knock candidate (protocol, destination port in the span, and for TCP a connection attempt:
 * SYN set, ACK clear). It repeats what `buildBpfFilter` asks libpcap for, because offline replays
 * have no kernel filter, large spans are filtered by their bounding range only, and the IPv6
 * branch of the expression reads a fixed offset. Pure.
 */
import type { PortRange } from "./bpf-filter.ts";
import { mergePortRanges } from "./bpf-filter.ts";
import type { DecodedPacket } from "./decode-frame.ts";

/** A compiled span test. */
export type SpanMatcher = (packet: DecodedPacket) => boolean;

const SYN = 0x02;
const ACK = 0x10;

/**
 * Compiles the span test: a 64 KiB port bitmap, so a test costs the same for any span. Throws
 * `RangeError` for bad ranges (see `mergePortRanges`).
 */
export function createSpanMatcher(
  ranges: readonly PortRange[],
  protocol: "tcp" | "udp",
): SpanMatcher {
  const test = createSpanTest(ranges, protocol);
  return (p: DecodedPacket): boolean =>
    test(p.protocol, p.dstPort, p.tcpFlags ?? 0);
}

/** The span test on a packet's fields (protocol number, port, TCP flags): `createSpanMatcher`'s. */
export type SpanTest = (
  protocol: number,
  dstPort: number,
  tcpFlags: number,
) => boolean;

/** Compiles the span test on fields, as `createSpanMatcher` (which uses it). */
export function createSpanTest(
  ranges: readonly PortRange[],
  protocol: "tcp" | "udp",
): SpanTest {
  const inSpan = new Uint8Array(65536);
  for (const [lo, hi] of mergePortRanges(ranges)) inSpan.fill(1, lo, hi + 1);
  const number = protocol === "tcp" ? 6 : 17;
  return (p: number, dstPort: number, tcpFlags: number): boolean =>
    p === number &&
    inSpan[dstPort] === 1 &&
    (number === 17 || (tcpFlags & (SYN | ACK)) === SYN);
}
