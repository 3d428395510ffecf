/**
 * Link-layer header types: the names this package uses, and the numbers of pcap files
 * (LINKTYPE_*, tcpdump.org/linktypes.html) and of live captures (libpcap's DLT_*).
 */

/** A link type `decodeFrame` understands. */
export type LinkType =
  /** Ethernet II, with up to two 802.1Q/802.1ad VLAN tags (`lo` on Linux: all-zero MACs). */
  | "ethernet"
  /** Linux cooked capture v1 (16-byte header): the `any` device. */
  | "linux-sll"
  /** Linux cooked capture v2 (20-byte header). */
  | "linux-sll2"
  /** Raw IP, no link header (tun, WireGuard): version from the first nibble. */
  | "raw"
  /** BSD loopback: a 4-byte address family in the byte order of the capturing host. */
  | "null"
  /** OpenBSD loopback: a 4-byte address family in network byte order. */
  | "loop";

/** Every `LinkType`. */
export const LINK_TYPES: readonly LinkType[] = [
  "ethernet",
  "linux-sll",
  "linux-sll2",
  "raw",
  "null",
  "loop",
];

/**
 * The link type of a pcap file's `network` field or a libpcap DLT number, or undefined when this
 * package does not decode it. Raw IP has several numbers: LINKTYPE_RAW 101, DLT_RAW 12 (Linux,
 * most BSDs) and 14 (OpenBSD), LINKTYPE_IPV4 228 and LINKTYPE_IPV6 229.
 */
export function linkTypeFromNumber(value: number): LinkType | undefined {
  switch (value) {
    case 0:
      return "null";
    case 1:
      return "ethernet";
    case 12:
    case 14:
    case 101:
    case 228:
    case 229:
      return "raw";
    case 108:
      return "loop";
    case 113:
      return "linux-sll";
    case 276:
      return "linux-sll2";
    default:
      return undefined;
  }
}
