/**
 * The allocation-free lane of live capture (issue #20): the fields a knock hit needs from an
 * Ethernet frame carrying a plain IPv4 TCP or UDP packet, read as numbers, with no object and no
 * address text. It answers only for frames that `decodeFrame` decodes into the same fields (a
 * property test holds this); anything else (VLAN tags, IPv6, other link types, every frame
 * `decodeFrame` rejects) is left to `decodeFrame`, which names the reason. Pure; never reads
 * past `start + caplen`. The rules that need this host's addresses (`FRAME_NOT_FOR_US`, our own
 * address as a source) are the frame counter's (`countIpv4`), on the numbers read here.
 */

/** Where `readIpv4Hit` writes: the source address (as a signed int: `>>> 0` it), the ports, … */
export const HIT_SRC = 0;
export const HIT_DST_PORT = 1;
/** … the source port (TCP and UDP alike), the protocol (6 or 17) and the TCP flags (0 for UDP), … */
export const HIT_SRC_PORT = 2;
export const HIT_PROTOCOL = 3;
export const HIT_FLAGS = 4;
/** … the destination address (signed, as the source) and the TCP sequence number (`>>> 0`; 0 for UDP). */
export const HIT_DST = 5;
export const HIT_SEQ = 6;
/** Ints `readIpv4Hit` needs in `out`. */
export const HIT_FIELDS = 7;

/**
 * Reads the IPv4 TCP/UDP packet in the Ethernet frame `b[start, start + caplen)` into `out`
 * (`HIT_*`) and returns true, or returns false (nothing meaningful written) when the frame is
 * anything else or anything `decodeFrame` would reject: then decode it with `decodeFrame`.
 */
export function readIpv4Hit(
  b: Uint8Array,
  start: number,
  caplen: number,
  out: Int32Array,
): boolean {
  const end = start + caplen;
  const ip = start + 14;
  // EtherType IPv4 without VLAN tags, and a whole minimal IPv4 header.
  if (end > b.length || ip + 20 > end) return false;
  if (b[start + 12] !== 0x08 || b[start + 13] !== 0x00) return false;
  const vihl = b[ip]!;
  const headerLength = (vihl & 0x0f) * 4;
  const length = (b[ip + 2]! << 8) | b[ip + 3]!;
  if (vihl >> 4 !== 4 || headerLength < 20 || length < headerLength)
    return false;
  // decodeFrame's martians: 0/8, 224/4 and 240/4, and 127/8 towards a destination outside it.
  const s0 = b[ip + 12]!;
  if (s0 === 0 || s0 >= 224 || (s0 === 127 && b[ip + 16] !== 127)) return false;
  if ((((b[ip + 6]! << 8) | b[ip + 7]!) & 0x1fff) !== 0) return false; // a fragment
  const l4 = ip + headerLength;
  const protocol = b[ip + 9]!;
  if (protocol === 6) {
    if (l4 + 20 > end || b[l4 + 12]! >> 4 < 5) return false;
    out[HIT_FLAGS] = b[l4 + 13]!;
    out[HIT_SEQ] =
      (b[l4 + 4]! << 24) | (b[l4 + 5]! << 16) | (b[l4 + 6]! << 8) | b[l4 + 7]!;
  } else if (protocol === 17) {
    if (l4 + 8 > end) return false;
    out[HIT_FLAGS] = 0;
    out[HIT_SEQ] = 0;
  } else {
    return false;
  }
  out[HIT_SRC] =
    (s0 << 24) | (b[ip + 13]! << 16) | (b[ip + 14]! << 8) | b[ip + 15]!;
  out[HIT_DST] =
    (b[ip + 16]! << 24) |
    (b[ip + 17]! << 16) |
    (b[ip + 18]! << 8) |
    b[ip + 19]!;
  out[HIT_SRC_PORT] = (b[l4]! << 8) | b[l4 + 1]!;
  out[HIT_DST_PORT] = (b[l4 + 2]! << 8) | b[l4 + 3]!;
  out[HIT_PROTOCOL] = protocol;
  return true;
}
