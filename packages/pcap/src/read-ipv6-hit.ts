/**
 * The allocation-free lane for IPv6 (issue #20): `readIpv4Hit`'s twin for an Ethernet frame
 * carrying an IPv6 TCP or UDP packet, read as numbers: the addresses as four 32-bit words each,
 * no object and no address text. Extension headers are skipped as `decodeFrame` skips them
 * (hop-by-hop, routing, destination options, AH, a first fragment's header; at most
 * `MAX_IPV6_EXTENSIONS` + 1), so a flood of SYNs behind an extension header, which the BPF
 * filter passes at any port, takes the lane too. It answers only for frames that `decodeFrame`
 * decodes into the same fields (a property test holds this); anything else (VLAN tags, a later
 * fragment, a chain too long or cut short, sources `decodeFrame` may reject as martian, every
 * frame it rejects) is left to `decodeFrame`, which names the reason. Pure; never reads past
 * `start + caplen`. The address rules (`FRAME_NOT_FOR_US`, our own address as a source) are the
 * frame counter's (`countIpv6`), on the words read here.
 */

/** Where `readIpv6Hit` writes: the source address's four words (big-endian, as signed ints), … */
export const HIT6_SRC = 0;
/** … the destination address's four words, … */
export const HIT6_DST = 4;
/** … the ports, the protocol (6 or 17), the TCP flags (0 for UDP), … */
export const HIT6_SRC_PORT = 8;
export const HIT6_DST_PORT = 9;
export const HIT6_PROTOCOL = 10;
export const HIT6_FLAGS = 11;
/** … and the TCP sequence number (as a signed int: `>>> 0` it; 0 for UDP). */
export const HIT6_SEQ = 12;
/** Ints `readIpv6Hit` needs in `out`. */
export const HIT6_FIELDS = 13;

// decodeFrame's bound on the chain: a protocol still an extension header after this many + 1 is
// FRAME_UNSUPPORTED_PROTOCOL there.
const MAX_IPV6_EXTENSIONS = 8;

function word(b: Uint8Array, i: number): number {
  return (b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!;
}

/**
 * Reads the IPv6 TCP/UDP packet in the Ethernet frame `b[start, start + caplen)` into `out`
 * (`HIT6_*`) and returns true, or returns false (nothing meaningful written) when the frame is
 * anything else or anything `decodeFrame` would reject: then decode it with `decodeFrame`.
 */
export function readIpv6Hit(
  b: Uint8Array,
  start: number,
  caplen: number,
  out: Int32Array,
): boolean {
  const end = start + caplen;
  const ip = start + 14;
  // EtherType IPv6 without VLAN tags, a whole IPv6 header, version 6, a payload length (0 is
  // a jumbogram at best: decodeFrame rejects it).
  if (end > b.length || ip + 40 > end) return false;
  if (b[start + 12] !== 0x86 || b[start + 13] !== 0xdd) return false;
  if (b[ip]! >> 4 !== 6 || (b[ip + 4]! | b[ip + 5]!) === 0) return false;
  const s0 = word(b, ip + 8);
  const s1 = word(b, ip + 12);
  // decodeFrame's martians are multicast (ff00::/8) and sources in ::/64 (unspecified,
  // IPv4-mapped, ::1 towards another destination): left to it, whatever the rest.
  if (s0 >>> 24 === 0xff || (s0 === 0 && s1 === 0)) return false;
  // Extension headers, walked as decodeFrame walks them (same bound, same lengths).
  let l4 = ip + 40;
  let protocol = b[ip + 6]!;
  for (let n = 0; n <= MAX_IPV6_EXTENSIONS; n++) {
    if (
      protocol === 0 ||
      protocol === 43 ||
      protocol === 60 ||
      protocol === 51
    ) {
      // Hop-by-hop, routing, destination options: (len + 1) × 8 bytes; AH: (len + 2) × 4.
      if (l4 + 2 > end) return false;
      const at = l4;
      l4 += protocol === 51 ? (b[at + 1]! + 2) * 4 : (b[at + 1]! + 1) * 8;
      protocol = b[at]!;
    } else if (protocol === 44) {
      // A fragment header: only a first fragment (offset 0) has ports; a later one is
      // FRAME_FRAGMENT there.
      if (l4 + 8 > end || (b[l4 + 2]! | (b[l4 + 3]! & 0xf8)) !== 0)
        return false;
      protocol = b[l4]!;
      l4 += 8;
    } else {
      break;
    }
  }
  if (protocol === 6) {
    if (l4 + 20 > end || b[l4 + 12]! >> 4 < 5) return false;
    out[HIT6_FLAGS] = b[l4 + 13]!;
    out[HIT6_SEQ] = word(b, l4 + 4);
  } else if (protocol === 17) {
    if (l4 + 8 > end) return false;
    out[HIT6_FLAGS] = 0;
    out[HIT6_SEQ] = 0;
  } else {
    return false; // an extension header, or neither TCP nor UDP
  }
  out[HIT6_SRC] = s0;
  out[HIT6_SRC + 1] = s1;
  out[HIT6_SRC + 2] = word(b, ip + 16);
  out[HIT6_SRC + 3] = word(b, ip + 20);
  out[HIT6_DST] = word(b, ip + 24);
  out[HIT6_DST + 1] = word(b, ip + 28);
  out[HIT6_DST + 2] = word(b, ip + 32);
  out[HIT6_DST + 3] = word(b, ip + 36);
  out[HIT6_SRC_PORT] = (b[l4]! << 8) | b[l4 + 1]!;
  out[HIT6_DST_PORT] = (b[l4 + 2]! << 8) | b[l4 + 3]!;
  out[HIT6_PROTOCOL] = protocol;
  return true;
}
