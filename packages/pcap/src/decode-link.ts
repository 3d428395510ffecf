/**
 * The link layer of `decodeFrame`: where the IP header starts in a frame of each link type, and
 * whether it is IPv4 or IPv6. Pure; never reads past the frame.
 */
import type { FrameRejectCode } from "./errors.ts";
import type { LinkType } from "./link-type.ts";

/** EtherTypes of IPv4 and IPv6. */
export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_IPV6 = 0x86dd;
const SLL_OUTGOING = 4;
const MAX_VLAN_TAGS = 2;

/** Where the IP header starts and what it is, or a rejection. */
export type LinkResult =
  | { ok: true; offset: number; etherType: number; vlan: number | undefined }
  | { ok: false; code: FrameRejectCode };

/** Big-endian 16-bit value at `i` (0 past the end). */
export function be16(b: Uint8Array, i: number): number {
  return ((b[i] ?? 0) << 8) | (b[i + 1] ?? 0);
}

/** Big-endian unsigned 32-bit value at `i` (0 past the end). */
export function be32(b: Uint8Array, i: number): number {
  return (
    ((b[i] ?? 0) * 0x1000000 +
      (((b[i + 1] ?? 0) << 16) | ((b[i + 2] ?? 0) << 8) | (b[i + 3] ?? 0))) >>>
    0
  );
}

/** The truncation rejection (shared: no allocation). */
export const TRUNCATED: { ok: false; code: FrameRejectCode } = {
  ok: false,
  code: "FRAME_TRUNCATED",
};

/** Skips 802.1Q / 802.1ad tags after an EtherType at `offset - 2`. */
function skipVlanTags(
  b: Uint8Array,
  offset: number,
  etherType: number,
): LinkResult {
  let vlan: number | undefined;
  for (let tags = 0; tags < MAX_VLAN_TAGS; tags++) {
    if (etherType !== 0x8100 && etherType !== 0x88a8 && etherType !== 0x9100)
      break;
    if (b.length < offset + 4) return TRUNCATED;
    vlan ??= be16(b, offset) & 0x0fff;
    etherType = be16(b, offset + 2);
    offset += 4;
  }
  return { ok: true, offset, etherType, vlan };
}

/** BSD address family → EtherType (AF_INET 2; AF_INET6 is 10, 24, 28 or 30 by system). */
function familyEtherType(family: number): number {
  if (family === 2) return ETHERTYPE_IPV4;
  if (family === 10 || family === 24 || family === 28 || family === 30)
    return ETHERTYPE_IPV6;
  return -1;
}

/**
 * Where the IP header starts in `b` and its EtherType (-1 when the link header names no IP
 * version), or why the frame cannot be read (`FRAME_TRUNCATED`, `FRAME_OUTGOING`,
 * `FRAME_UNSUPPORTED_LINK`).
 */
export function decodeLink(b: Uint8Array, linkType: LinkType): LinkResult {
  switch (linkType) {
    case "ethernet":
      if (b.length < 14) return TRUNCATED;
      return skipVlanTags(b, 14, be16(b, 12));
    case "linux-sll":
      if (b.length < 16) return TRUNCATED;
      if (be16(b, 0) === SLL_OUTGOING)
        return { ok: false, code: "FRAME_OUTGOING" };
      return skipVlanTags(b, 16, be16(b, 14));
    case "linux-sll2":
      if (b.length < 20) return TRUNCATED;
      if (b[10] === SLL_OUTGOING) return { ok: false, code: "FRAME_OUTGOING" };
      return skipVlanTags(b, 20, be16(b, 0));
    case "raw": {
      if (b.length < 1) return TRUNCATED;
      const version = (b[0] ?? 0) >> 4;
      const etherType =
        version === 4 ? ETHERTYPE_IPV4 : version === 6 ? ETHERTYPE_IPV6 : -1;
      return { ok: true, offset: 0, etherType, vlan: undefined };
    }
    case "null":
    case "loop": {
      if (b.length < 4) return TRUNCATED;
      const bigEndian = be32(b, 0);
      // DLT_NULL is in the capturing host's byte order: a small number is one of the two.
      const family =
        linkType === "loop" || bigEndian < 256
          ? bigEndian
          : (b[0] ?? 0) | ((b[1] ?? 0) << 8);
      return {
        ok: true,
        offset: 4,
        etherType: familyEtherType(family),
        vlan: undefined,
      };
    }
    default:
      return { ok: false, code: "FRAME_UNSUPPORTED_LINK" };
  }
}
