/**
 * Mapping wire bytes onto span ports and back (spec: knock-format.md §4). Bits are read most
 * significant first, in chunks of `bitsPerPort`; the last, short chunk is padded with zero bits on
 * the right (`padding = right`) or read as a plain number (`padding = left`).
 */
import type { PortSpan } from "./port-span.ts";

/** How the last short chunk of bits is read. */
export type BitPadding = "right" | "left";

/** Number of ports for `byteLength` wire bytes: ⌈8L / b⌉. */
export function portCount(byteLength: number, bitsPerPort: number): number {
  return Math.ceil((8 * byteLength) / bitsPerPort);
}

/** Maps wire bytes to span ports. */
export function bytesToPorts(
  bytes: Uint8Array,
  span: PortSpan,
  padding: BitPadding,
): number[] {
  const b = span.bitsPerPort;
  const mask = (1 << b) - 1;
  const out: number[] = [];
  let acc = 0;
  let bits = 0;
  for (const byte of bytes) {
    acc = (acc << 8) | byte;
    bits += 8;
    while (bits >= b) {
      bits -= b;
      out.push(span.ports[(acc >>> bits) & mask]!);
      acc &= (1 << bits) - 1;
    }
  }
  if (bits > 0) {
    out.push(span.ports[padding === "left" ? acc : acc << (b - bits)]!);
  }
  return out;
}

/**
 * Maps `ports[start … start+count)` back to `byteLength` bytes written into `out` (at 0).
 * Returns 0 on success or the reason it is not a knock: a port outside the span, or padding bits
 * that an encoder would not have produced (so no two port sequences decode to the same bytes).
 * The caller has checked `count === portCount(byteLength, b)`. Allocates nothing.
 */
export function portsToBytesInto(
  ports: ArrayLike<number>,
  start: number,
  count: number,
  span: PortSpan,
  padding: BitPadding,
  byteLength: number,
  out: Uint8Array,
): 0 | "KNOCK_PORT_OUTSIDE_SPAN" | "KNOCK_BAD_BIT_PADDING" {
  const b = span.bitsPerPort;
  const index = span.indexOf;
  const lastBits = 8 * byteLength - (count - 1) * b;
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (let i = 0; i < count; i++) {
    const port = ports[start + i]!;
    // `?? -1`: a non-integer (1024.5) is no index of a typed array, so it is not in the span.
    const v = port >= 0 && port <= 65535 ? (index[port] ?? -1) : -1;
    if (v < 0) return "KNOCK_PORT_OUTSIDE_SPAN";
    if (i === count - 1 && lastBits < b) {
      if (padding === "left") {
        if (v >>> lastBits !== 0) return "KNOCK_BAD_BIT_PADDING";
        acc = (acc << lastBits) | v;
      } else {
        if ((v & ((1 << (b - lastBits)) - 1)) !== 0) {
          return "KNOCK_BAD_BIT_PADDING";
        }
        acc = (acc << lastBits) | (v >>> (b - lastBits));
      }
      bits += lastBits;
    } else {
      acc = (acc << b) | v;
      bits += b;
    }
    while (bits >= 8) {
      bits -= 8;
      out[o++] = acc >>> bits;
      acc &= (1 << bits) - 1;
    }
  }
  return 0;
}
