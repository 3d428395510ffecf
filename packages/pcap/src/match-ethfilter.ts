/**
 * Matching a compiled `<ethfilter>` against a packet (rules in ethfilter.ts). Pure; no
 * allocation for literal values but the decimal text of numeric properties.
 */
import type { DecodedPacket } from "./decode-frame.ts";
import type { CompiledEthFilter, EthFilterTest } from "./ethfilter.ts";

/** The text of property `p` of `packet`, or undefined when the packet has none. */
function propertyText(
  p: EthFilterTest["property"],
  packet: DecodedPacket,
): string | undefined {
  switch (p) {
    case "proto":
      return String(packet.protocol);
    case "src_ip":
      return packet.srcIp;
    case "dest_ip":
      return packet.dstIp;
    case "src_port":
      return String(packet.srcPort);
    case "dest_port":
      return String(packet.dstPort);
    case "ttl":
      return String(packet.ttl);
    case "tos":
      return String(packet.tos);
    case "len":
      return String(packet.length);
    case "id":
      return packet.id === undefined ? undefined : String(packet.id);
    case "winsize":
      return packet.window === undefined ? undefined : String(packet.window);
  }
}

/**
 * Whether `packet` passes `filter` (all properties; rules in the module comment). Never throws.
 */
export function matchEthFilter(
  filter: CompiledEthFilter,
  packet: DecodedPacket,
): boolean {
  const mask = filter.flagsMask;
  if (mask !== undefined && ((packet.tcpFlags ?? 0) & mask) === 0) return false;
  for (const t of filter.tests) {
    const text = propertyText(t.property, packet);
    if (text === undefined) return false;
    if (t.exact !== undefined ? !t.exact.has(text) : !t.regex.test(text)) {
      return false;
    }
  }
  return true;
}
