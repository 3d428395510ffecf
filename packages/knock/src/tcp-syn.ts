/**
 * A bare TCP SYN segment (20-byte header, no options) with its checksum over the IPv4 or IPv6
 * pseudo-header (RFC 793, RFC 8200 §8.1), for `method = raw`: the kernel builds the IP header and
 * routes the packet, we write only the TCP header. Pure.
 */
import { isIP } from "node:net";

/** What goes in the segment. */
export interface SynFields {
  srcIp: string;
  dstIp: string;
  srcPort: number;
  dstPort: number;
  /** Initial sequence number (32 bits). */
  seq: number;
  /** Advertised window. Default 64240, Linux's usual SYN window. */
  window?: number;
}

/** Parses an IPv4 or IPv6 address into its 4 or 16 bytes. Throws `TypeError` otherwise. */
export function addressBytes(ip: string): Uint8Array {
  const family = isIP(ip);
  if (family === 4) return new Uint8Array(ip.split(".").map(Number));
  if (family !== 6)
    throw new TypeError(`not an IP address: ${JSON.stringify(ip)}`);
  let text = ip;
  const v4tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  let tail: number[] = [];
  if (v4tail) {
    const b = v4tail[1]!.split(".").map(Number);
    tail = [(b[0]! << 8) | b[1]!, (b[2]! << 8) | b[3]!];
    text = text.slice(0, -v4tail[1]!.length) + "0:0";
  }
  const [head, rest] = text.split("::") as [string, string | undefined];
  const parse = (s: string): number[] =>
    s === "" ? [] : s.split(":").map((h) => parseInt(h, 16));
  const left = parse(head);
  const right = rest === undefined ? [] : parse(rest);
  const groups =
    rest === undefined
      ? left
      : [
          ...left,
          ...new Array<number>(8 - left.length - right.length).fill(0),
          ...right,
        ];
  if (tail.length) groups.splice(6, 2, ...tail);
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 0xff;
  });
  return out;
}

/** The Internet checksum (one's complement of the one's-complement sum of 16-bit words). */
export function internetChecksum(...parts: Uint8Array[]): number {
  let sum = 0;
  for (const p of parts) {
    for (let i = 0; i < p.length; i += 2) sum += (p[i]! << 8) | (p[i + 1] ?? 0);
  }
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** The pseudo-header TCP's checksum covers, for a segment of `length` bytes. */
export function pseudoHeader(
  src: Uint8Array,
  dst: Uint8Array,
  length: number,
): Uint8Array {
  if (src.length === 4) {
    const h = new Uint8Array(12);
    h.set(src, 0);
    h.set(dst, 4);
    h[9] = 6; // protocol TCP
    h[10] = length >> 8;
    h[11] = length & 0xff;
    return h;
  }
  const h = new Uint8Array(40);
  h.set(src, 0);
  h.set(dst, 16);
  h[34] = length >> 8;
  h[35] = length & 0xff;
  h[39] = 6; // next header TCP
  return h;
}

/** Builds the 20-byte SYN segment with a correct checksum. */
export function buildSyn(f: SynFields): Uint8Array {
  const seg = new Uint8Array(20);
  const v = new DataView(seg.buffer);
  v.setUint16(0, f.srcPort);
  v.setUint16(2, f.dstPort);
  v.setUint32(4, f.seq >>> 0);
  v.setUint32(8, 0); // no ACK number in a SYN
  seg[12] = 5 << 4; // data offset: 5 words, no options
  seg[13] = 0x02; // SYN
  v.setUint16(14, f.window ?? 64240);
  const src = addressBytes(f.srcIp);
  const dst = addressBytes(f.dstIp);
  if (src.length !== dst.length) {
    throw new TypeError(
      `source ${f.srcIp} and destination ${f.dstIp} are not the same family`,
    );
  }
  v.setUint16(16, internetChecksum(pseudoHeader(src, dst, seg.length), seg));
  return seg;
}
