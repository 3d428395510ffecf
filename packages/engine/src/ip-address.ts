/**
 * Strict IP address and CIDR parsing for value validation and `inside()` (spec: daemon.md §4–5).
 * Pure: no `node:net`. Dotted quads must have exactly four decimal parts without leading zeros
 * (`010.0.0.1` is refused: `inet_aton` would read it as octal). IPv6 is RFC 4291 text without a
 * zone (`%eth0`), optionally ending in a dotted quad.
 */

/** A parsed address: 4 or 16 bytes. */
export type IpBytes = Uint8Array;

/** A parsed CIDR block. */
export interface Cidr {
  bytes: IpBytes;
  prefix: number;
}

const OCTET = /^(?:0|[1-9]\d{0,2})$/;
const HEXTET = /^[0-9a-fA-F]{1,4}$/;
const MAX_IP_TEXT = 45; // longest IPv6 text with an embedded dotted quad

/** Parses a dotted quad; undefined when it is not exactly one. */
export function parseIpv4(text: string): IpBytes | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  const bytes = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const part = parts[i] ?? "";
    if (!OCTET.test(part)) return undefined;
    const n = Number(part);
    if (n > 255) return undefined;
    bytes[i] = n;
  }
  return bytes;
}

/** Parses IPv6 text (with `::` and an optional trailing dotted quad); undefined otherwise. */
export function parseIpv6(text: string): IpBytes | undefined {
  if (text.length > MAX_IP_TEXT || !/^[0-9a-fA-F:.]+$/.test(text)) {
    return undefined;
  }
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const head = splitHextets(halves[0] ?? "");
  const tail = halves.length === 2 ? splitHextets(halves[1] ?? "") : [];
  if (head == null || tail == null) return undefined;
  if (halves.length === 2 && tail.length === 0 && text.includes(".")) {
    return undefined; // a dotted quad may only end the address
  }
  const groups = [...head, ...tail];
  // Only the very last group may be a dotted quad (two hextets).
  let words: number[] = [];
  for (let i = 0; i < groups.length; i++) {
    const g = groups[i] ?? "";
    if (g.includes(".")) {
      if (i !== groups.length - 1) return undefined;
      const v4 = parseIpv4(g);
      if (v4 == null) return undefined;
      words.push(((v4[0] ?? 0) << 8) | (v4[1] ?? 0));
      words.push(((v4[2] ?? 0) << 8) | (v4[3] ?? 0));
    } else {
      if (!HEXTET.test(g)) return undefined;
      words.push(parseInt(g, 16));
    }
  }
  const headWords = words.length - countWords(tail);
  if (halves.length === 2) {
    if (words.length > 7) return undefined;
    const zeros = new Array<number>(8 - words.length).fill(0);
    words = [...words.slice(0, headWords), ...zeros, ...words.slice(headWords)];
  } else if (words.length !== 8) {
    return undefined;
  }
  const bytes = new Uint8Array(16);
  words.forEach((w, i) => {
    bytes[2 * i] = w >> 8;
    bytes[2 * i + 1] = w & 0xff;
  });
  return bytes;
}

function splitHextets(part: string): string[] | undefined {
  if (part === "") return [];
  const groups = part.split(":");
  return groups.some((g) => g === "") ? undefined : groups;
}

function countWords(groups: readonly string[]): number {
  return groups.reduce((n, g) => n + (g.includes(".") ? 2 : 1), 0);
}

/** Parses an IPv4 or IPv6 address; undefined when it is neither (see module rules). */
export function parseIp(text: string): IpBytes | undefined {
  return text.includes(":") ? parseIpv6(text) : parseIpv4(text);
}

/** Whether `text` is a valid IPv4 or IPv6 address by the strict rules of this module. */
export function isIpAddress(text: string): boolean {
  return parseIp(text) !== undefined;
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
