/**
 * CIDR blocks for `inside()` (spec: daemon.md §4–5). Pure. Addresses are parsed by
 * `@portknock/core`'s strict rules (no leading zeros in a dotted quad, no IPv6 zone).
 */
import { parseIp } from "@portknock/core";

/** A parsed address: 4 or 16 bytes. */
export type IpBytes = Uint8Array;

/** A parsed CIDR block. */
export interface Cidr {
  bytes: IpBytes;
  prefix: number;
}

/** Parses `address/prefix` (prefix 0–32 or 0–128); a bare address is a full-length prefix. */
export function parseCidr(text: string): Cidr | undefined {
  const slash = text.indexOf("/");
  const address = slash < 0 ? text : text.slice(0, slash);
  const bytes = parseIp(address);
  if (bytes == null) return undefined;
  const max = bytes.length * 8;
  if (slash < 0) return { bytes, prefix: max };
  const prefixText = text.slice(slash + 1);
  if (!/^(?:0|[1-9]\d{0,2})$/.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  return prefix <= max ? { bytes, prefix } : undefined;
}

/** An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) as its IPv4 bytes; others unchanged. */
function unmap(bytes: IpBytes): IpBytes {
  if (bytes.length !== 16) return bytes;
  for (let i = 0; i < 10; i++) if (bytes[i] !== 0) return bytes;
  if (bytes[10] !== 0xff || bytes[11] !== 0xff) return bytes;
  return bytes.slice(12);
}

/**
 * Whether `ip` lies in `cidr`. Addresses of different families never match, except that an
 * IPv4-mapped IPv6 address (`::ffff:10.1.2.3`) is treated as the IPv4 address.
 */
export function isInside(ip: IpBytes, cidr: Cidr): boolean {
  const a = unmap(ip);
  let block = cidr;
  if (cidr.bytes.length === 16 && a.length === 4) {
    const mapped = unmap(cidr.bytes);
    if (mapped.length !== 4 || cidr.prefix < 96) return false;
    block = { bytes: mapped, prefix: cidr.prefix - 96 };
  }
  if (a.length !== block.bytes.length) return false;
  let bits = block.prefix;
  for (let i = 0; i < a.length && bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if (((a[i] ?? 0) & mask) !== ((block.bytes[i] ?? 0) & mask)) return false;
  }
  return true;
}
