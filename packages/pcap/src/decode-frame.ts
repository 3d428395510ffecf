/**
 * The pure half of network mode (spec: daemon.md §1; STYLE.md §6): one captured frame → the
 * fields of its IP and TCP/UDP headers, or the reason it is not such a packet. Never throws and
 * never reads past the frame, whatever the bytes (fast-check checked). Checksums are not
 * verified: on `lo` and with offloading they are often partial, and a knock is judged by its
 * ports, not its payload.
 */
import type { FrameRejectCode } from "./errors.ts";
import { formatIpv4, formatIpv6 } from "@portknock/core";
import type { LinkType } from "./link-type.ts";
import {
  ETHERTYPE_IPV4,
  ETHERTYPE_IPV6,
  TRUNCATED,
  be16,
  be32,
  decodeLink,
} from "./decode-link.ts";

const MAX_IPV6_EXTENSIONS = 8;

/** Where a frame came from and when: copied into the decoded packet. */
export interface FrameMeta {
  /** Capture time, epoch ms. */
  timeMs: number;
  /** Where the packet came from for every log line about it: `pcap lo #5521`. */
  origin: string;
  /** Capturing interface, when known (live captures). */
  iface?: string;
}

/**
 * A TCP or UDP packet's header fields. Their names in an `<ethfilter>` (NetPacket's) are in
 * brackets.
 */
export interface DecodedPacket {
  timeMs: number;
  origin: string;
  iface: string | undefined;
  linkType: LinkType;
  /** The outermost 802.1Q VLAN id, when the frame is tagged. */
  vlan: number | undefined;
  family: 4 | 6;
  /** Source address: dotted quad or RFC 5952 text. [`src_ip`] */
  srcIp: string;
  /** Destination address, same forms. [`dest_ip`] */
  dstIp: string;
  /** IP protocol number of the transport header (after IPv6 extension headers). [`proto`] */
  protocol: 6 | 17;
  /** IPv4 TTL or IPv6 hop limit. [`ttl`] */
  ttl: number;
  /** IPv4 type of service byte or IPv6 traffic class. [`tos`] */
  tos: number;
  /** IP length in bytes as the header says: IPv4 total length, IPv6 40 + payload length. [`len`] */
  length: number;
  /** IPv4 identification; IPv6: the fragment header's identification, if any. [`id`] */
  id: number | undefined;
  /** [`src_port`] */
  srcPort: number;
  /** [`dest_port`] */
  dstPort: number;
  /** TCP flags byte (FIN 0x01 … CWR 0x80); undefined for UDP. [`flags`] */
  tcpFlags: number | undefined;
  /** TCP sequence number (unsigned 32-bit); undefined for UDP. */
  seq: number | undefined;
  /** TCP window; undefined for UDP. [`winsize`] */
  window: number | undefined;
}

/** `decodeFrame`'s result: the packet, or why the frame is not one (with its source if known). */
export type DecodeFrameResult =
  | { ok: true; packet: DecodedPacket }
  | { ok: false; code: FrameRejectCode; srcIp?: string };

/**
 * Decodes a captured frame of link type `linkType` down to its TCP or UDP header (spec: daemon.md
 * §1). IPv4 options are skipped; non-first fragments are rejected (`FRAME_FRAGMENT`: they carry
 * no ports); IPv6 hop-by-hop, routing, destination-options, fragment and AH extension headers are
 * skipped (at most 8). Cooked (SLL) frames this host sent are rejected (`FRAME_OUTGOING`), and so
 * are packets whose source no knocker can have (`FRAME_MARTIAN_SOURCE`: unspecified, multicast,
 * reserved, broadcast, IPv4-mapped, or loopback towards a non-loopback destination).
 * Anything else is a `FrameRejectCode`, never an exception.
 */
export function decodeFrame(
  bytes: Uint8Array,
  linkType: LinkType,
  meta: FrameMeta,
): DecodeFrameResult {
  const link = decodeLink(bytes, linkType);
  if (!link.ok) return link;
  const { offset, etherType } = link;
  if (etherType === ETHERTYPE_IPV4)
    return decodeIpv4(bytes, offset, link, linkType, meta);
  if (etherType === ETHERTYPE_IPV6)
    return decodeIpv6(bytes, offset, link, linkType, meta);
  return { ok: false, code: "FRAME_NOT_IP" };
}

interface IpFields {
  family: 4 | 6;
  srcIp: string;
  dstIp: string;
  protocol: number;
  ttl: number;
  tos: number;
  length: number;
  id: number | undefined;
}

/**
 * Whether an IPv4 packet's source can be no knocker's: 0.0.0.0/8, multicast (224/4), reserved and
 * broadcast (240/4), or loopback (127/8) towards a destination that is not loopback (a real
 * loopback packet has both ends there; one arriving from outside is spoofed).
 */
function martianV4(b: Uint8Array, off: number): boolean {
  const s = b[off + 12] ?? 0;
  if (s === 0 || s >= 224) return true;
  return s === 127 && (b[off + 16] ?? 0) !== 127;
}

function isV6Loopback(b: Uint8Array, at: number): boolean {
  for (let i = 0; i < 15; i++) if ((b[at + i] ?? 0) !== 0) return false;
  return (b[at + 15] ?? 0) === 1;
}

/**
 * Whether an IPv6 packet's source can be no knocker's: unspecified (`::`), multicast (ff00::/8),
 * IPv4-mapped (`::ffff:0:0/96`, never on the wire), or `::1` towards another destination.
 */
function martianV6(b: Uint8Array, off: number): boolean {
  const at = off + 8;
  if ((b[at] ?? 0) === 0xff) return true;
  let zeros = 0;
  while (zeros < 16 && (b[at + zeros] ?? 0) === 0) zeros++;
  if (zeros === 16) return true; // ::
  if (zeros === 10 && b[at + 10] === 0xff && b[at + 11] === 0xff) return true;
  return isV6Loopback(b, at) && !isV6Loopback(b, off + 24);
}

function decodeIpv4(
  b: Uint8Array,
  off: number,
  link: { vlan: number | undefined },
  linkType: LinkType,
  meta: FrameMeta,
): DecodeFrameResult {
  if (b.length < off + 20) return TRUNCATED;
  const vihl = b[off] ?? 0;
  const headerLength = (vihl & 0x0f) * 4;
  const length = be16(b, off + 2);
  const srcIp = formatIpv4(b, off + 12);
  if (vihl >> 4 !== 4 || headerLength < 20 || length < headerLength) {
    return { ok: false, code: "FRAME_BAD_IP_HEADER", srcIp };
  }
  if (martianV4(b, off))
    return { ok: false, code: "FRAME_MARTIAN_SOURCE", srcIp };
  if ((be16(b, off + 6) & 0x1fff) !== 0) {
    return { ok: false, code: "FRAME_FRAGMENT", srcIp };
  }
  if (b.length < off + headerLength)
    return { ok: false, code: "FRAME_TRUNCATED", srcIp };
  const ip: IpFields = {
    family: 4,
    srcIp,
    dstIp: formatIpv4(b, off + 16),
    protocol: b[off + 9] ?? 0,
    ttl: b[off + 8] ?? 0,
    tos: b[off + 1] ?? 0,
    length,
    id: be16(b, off + 4),
  };
  return decodeTransport(b, off + headerLength, ip, link.vlan, linkType, meta);
}

function decodeIpv6(
  b: Uint8Array,
  off: number,
  link: { vlan: number | undefined },
  linkType: LinkType,
  meta: FrameMeta,
): DecodeFrameResult {
  if (b.length < off + 40) return TRUNCATED;
  const first = b[off] ?? 0;
  const srcIp = formatIpv6(b, off + 8);
  // A payload length of 0 is a jumbogram at best; no SYN or knock datagram is one.
  if (first >> 4 !== 6 || be16(b, off + 4) === 0)
    return { ok: false, code: "FRAME_BAD_IP_HEADER", srcIp };
  if (martianV6(b, off))
    return { ok: false, code: "FRAME_MARTIAN_SOURCE", srcIp };
  let next = b[off + 6] ?? 0;
  let l4 = off + 40;
  let id: number | undefined;
  for (let n = 0; n <= MAX_IPV6_EXTENSIONS; n++) {
    const type = next;
    if (type === 0 || type === 43 || type === 60 || type === 51) {
      // Hop-by-hop, routing, destination options: (len + 1) × 8 bytes; AH: (len + 2) × 4.
      if (b.length < l4 + 2)
        return { ok: false, code: "FRAME_TRUNCATED", srcIp };
      const len = b[l4 + 1] ?? 0;
      next = b[l4] ?? 0;
      l4 += type === 51 ? (len + 2) * 4 : (len + 1) * 8;
    } else if (type === 44) {
      if (b.length < l4 + 8)
        return { ok: false, code: "FRAME_TRUNCATED", srcIp };
      if ((be16(b, l4 + 2) & 0xfff8) !== 0) {
        return { ok: false, code: "FRAME_FRAGMENT", srcIp };
      }
      id = be32(b, l4 + 4);
      next = b[l4] ?? 0;
      l4 += 8;
    } else {
      break;
    }
  }
  const ip: IpFields = {
    family: 6,
    srcIp,
    dstIp: formatIpv6(b, off + 24),
    protocol: next,
    ttl: b[off + 7] ?? 0,
    tos: ((first & 0x0f) << 4) | ((b[off + 1] ?? 0) >> 4),
    length: 40 + be16(b, off + 4),
    id,
  };
  return decodeTransport(b, l4, ip, link.vlan, linkType, meta);
}

function decodeTransport(
  b: Uint8Array,
  l4: number,
  ip: IpFields,
  vlan: number | undefined,
  linkType: LinkType,
  meta: FrameMeta,
): DecodeFrameResult {
  const { protocol, srcIp } = ip;
  let tcpFlags: number | undefined;
  let seq: number | undefined;
  let window: number | undefined;
  if (protocol === 6) {
    if (b.length < l4 + 20)
      return { ok: false, code: "FRAME_TRUNCATED", srcIp };
    if ((b[l4 + 12] ?? 0) >> 4 < 5) {
      return { ok: false, code: "FRAME_BAD_TCP_HEADER", srcIp };
    }
    seq = be32(b, l4 + 4);
    tcpFlags = b[l4 + 13] ?? 0;
    window = be16(b, l4 + 14);
  } else if (protocol === 17) {
    if (b.length < l4 + 8) return { ok: false, code: "FRAME_TRUNCATED", srcIp };
  } else {
    return { ok: false, code: "FRAME_UNSUPPORTED_PROTOCOL", srcIp };
  }
  return {
    ok: true,
    packet: {
      timeMs: meta.timeMs,
      origin: meta.origin,
      iface: meta.iface,
      linkType,
      vlan,
      family: ip.family,
      srcIp,
      dstIp: ip.dstIp,
      protocol,
      ttl: ip.ttl,
      tos: ip.tos,
      length: ip.length,
      id: ip.id,
      srcPort: be16(b, l4),
      dstPort: be16(b, l4 + 2),
      tcpFlags,
      seq,
      window,
    },
  };
}
