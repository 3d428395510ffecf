/**
 * Hand-built frames for tests: Ethernet (with VLAN tags), Linux cooked v1/v2, raw IP, BSD
 * loopback; IPv4 (options, fragments), IPv6 (extension headers); TCP and UDP; and classic pcap
 * files. Checksums are left zero (nothing here verifies them).
 */
import { isIPv4 } from "node:net";

export const SYN = 0x02;
export const ACK = 0x10;

/** The 4 or 16 bytes of an address text. */
export function ipBytes(text: string): Uint8Array {
  if (isIPv4(text)) return Uint8Array.from(text.split(".").map(Number));
  let head = text;
  let tail = "";
  const gap = text.indexOf("::");
  if (gap >= 0) {
    head = text.slice(0, gap);
    tail = text.slice(gap + 2);
  }
  const words = (s: string): number[] => {
    if (s === "") return [];
    const parts = s.split(":");
    const last = parts[parts.length - 1] ?? "";
    if (last.includes(".")) {
      const [a = 0, b = 0, c = 0, d = 0] = last.split(".").map(Number);
      return [
        ...parts.slice(0, -1).map((p) => parseInt(p, 16)),
        (a << 8) | b,
        (c << 8) | d,
      ];
    }
    return parts.map((p) => parseInt(p, 16));
  };
  const h = words(head);
  const t = words(tail);
  const all =
    gap >= 0
      ? [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t]
      : h;
  const out = new Uint8Array(16);
  all.forEach((w, i) => {
    out[2 * i] = w >> 8;
    out[2 * i + 1] = w & 0xff;
  });
  return out;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

function put16(b: Uint8Array, i: number, v: number): void {
  b[i] = (v >> 8) & 0xff;
  b[i + 1] = v & 0xff;
}

function put32(b: Uint8Array, i: number, v: number): void {
  put16(b, i, Math.floor(v / 65536) & 0xffff);
  put16(b, i + 2, v & 0xffff);
}

export interface TcpSpec {
  srcPort: number;
  dstPort: number;
  seq?: number;
  flags?: number;
  window?: number;
  /** Data offset in 32-bit words. Default 5. */
  dataOffset?: number;
}

export function tcp(spec: TcpSpec): Uint8Array {
  const b = new Uint8Array(20);
  put16(b, 0, spec.srcPort);
  put16(b, 2, spec.dstPort);
  put32(b, 4, spec.seq ?? 1);
  b[12] = (spec.dataOffset ?? 5) << 4;
  b[13] = spec.flags ?? SYN;
  put16(b, 14, spec.window ?? 64240);
  return b;
}

export function udp(
  srcPort: number,
  dstPort: number,
  payload = new Uint8Array(1),
): Uint8Array {
  const b = new Uint8Array(8);
  put16(b, 0, srcPort);
  put16(b, 2, dstPort);
  put16(b, 4, 8 + payload.length);
  return concat(b, payload);
}

export interface Ipv4Spec {
  src: string;
  dst: string;
  protocol: number;
  payload: Uint8Array;
  ttl?: number;
  tos?: number;
  id?: number;
  /** Fragment offset in 8-byte units. */
  fragmentOffset?: number;
  moreFragments?: boolean;
  /** IP options (a multiple of 4 bytes). */
  options?: Uint8Array;
  /** Override the version nibble. */
  version?: number;
}

export function ipv4(spec: Ipv4Spec): Uint8Array {
  const options = spec.options ?? new Uint8Array(0);
  const h = new Uint8Array(20 + options.length);
  h[0] = ((spec.version ?? 4) << 4) | (h.length / 4);
  h[1] = spec.tos ?? 0;
  put16(h, 2, h.length + spec.payload.length);
  put16(h, 4, spec.id ?? 0);
  put16(
    h,
    6,
    ((spec.moreFragments ?? false) ? 0x2000 : 0) | (spec.fragmentOffset ?? 0),
  );
  h[8] = spec.ttl ?? 64;
  h[9] = spec.protocol;
  h.set(ipBytes(spec.src), 12);
  h.set(ipBytes(spec.dst), 16);
  h.set(options, 20);
  return concat(h, spec.payload);
}

export interface Extension {
  /** Header type: 0 hop-by-hop, 43 routing, 60 destination options, 44 fragment, 51 AH. */
  type: number;
  /** Fragment header only. */
  fragmentOffset?: number;
  id?: number;
}

export interface Ipv6Spec {
  src: string;
  dst: string;
  protocol: number;
  payload: Uint8Array;
  hopLimit?: number;
  trafficClass?: number;
  extensions?: Extension[];
}

function extensionBytes(ext: Extension, next: number): Uint8Array {
  if (ext.type === 44) {
    const b = new Uint8Array(8);
    b[0] = next;
    put16(b, 2, (ext.fragmentOffset ?? 0) << 3);
    put32(b, 4, ext.id ?? 0);
    return b;
  }
  if (ext.type === 51) {
    const b = new Uint8Array(12); // AH: (len + 2) × 4 = 12 → len 1
    b[0] = next;
    b[1] = 1;
    return b;
  }
  const b = new Uint8Array(8); // (len + 1) × 8 = 8 → len 0; PadN inside
  b[0] = next;
  b[1] = 0;
  b[2] = 1;
  b[3] = 4;
  return b;
}

export function ipv6(spec: Ipv6Spec): Uint8Array {
  const exts = spec.extensions ?? [];
  const extParts = exts.map((e, i) =>
    extensionBytes(e, exts[i + 1]?.type ?? spec.protocol),
  );
  const body = concat(...extParts, spec.payload);
  const h = new Uint8Array(40);
  const tc = spec.trafficClass ?? 0;
  h[0] = 0x60 | (tc >> 4);
  h[1] = (tc & 0x0f) << 4;
  put16(h, 4, body.length);
  h[6] = exts[0]?.type ?? spec.protocol;
  h[7] = spec.hopLimit ?? 64;
  h.set(ipBytes(spec.src), 8);
  h.set(ipBytes(spec.dst), 24);
  return concat(h, body);
}

export function etherTypeOf(ip: Uint8Array): number {
  return (ip[0] ?? 0) >> 4 === 6 ? 0x86dd : 0x0800;
}

/** Ethernet II (all-zero MACs, as on `lo`), with optional VLAN tags (outermost first). */
export function ethernet(
  ip: Uint8Array,
  vlans: readonly number[] = [],
  etherType = etherTypeOf(ip),
): Uint8Array {
  const h = new Uint8Array(14 + 4 * vlans.length);
  let off = 12;
  vlans.forEach((id, i) => {
    put16(h, off, i === 0 && vlans.length > 1 ? 0x88a8 : 0x8100);
    put16(h, off + 2, id);
    off += 4;
  });
  put16(h, off, etherType);
  return concat(h, ip);
}

/** Linux cooked v1: packet type 0 (to us) or 4 (outgoing). */
export function sll(ip: Uint8Array, packetType = 0): Uint8Array {
  const h = new Uint8Array(16);
  put16(h, 0, packetType);
  put16(h, 2, 772); // ARPHRD_LOOPBACK
  put16(h, 4, 6);
  put16(h, 14, etherTypeOf(ip));
  return concat(h, ip);
}

/** Linux cooked v2. */
export function sll2(ip: Uint8Array, packetType = 0): Uint8Array {
  const h = new Uint8Array(20);
  put16(h, 0, etherTypeOf(ip));
  put32(h, 4, 1);
  put16(h, 8, 772);
  h[10] = packetType;
  h[11] = 6;
  return concat(h, ip);
}

/** BSD loopback: 4-byte address family, little- or big-endian. */
export function bsdLoopback(
  ip: Uint8Array,
  family: number,
  littleEndian: boolean,
): Uint8Array {
  const h = new Uint8Array(4);
  if (littleEndian) h[0] = family;
  else h[3] = family;
  return concat(h, ip);
}

export interface SynSpec {
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
  seq?: number;
  flags?: number;
}

/** An Ethernet frame with a TCP packet (SYN by default) over IPv4 or IPv6. */
export function tcpFrame(s: SynSpec): Uint8Array {
  const t = tcp({
    srcPort: s.srcPort,
    dstPort: s.dstPort,
    seq: s.seq,
    flags: s.flags,
  });
  const ip = isIPv4(s.src)
    ? ipv4({ src: s.src, dst: s.dst, protocol: 6, payload: t })
    : ipv6({ src: s.src, dst: s.dst, protocol: 6, payload: t });
  return ethernet(ip);
}

export interface PcapFileSpec {
  linkType: number;
  records: readonly {
    timeMs: number;
    frame: Uint8Array;
    originalLength?: number;
  }[];
  nanoseconds?: boolean;
  bigEndian?: boolean;
  snapLength?: number;
}

/** A classic pcap file. */
export function pcapFile(spec: PcapFileSpec): Uint8Array {
  const le = spec.bigEndian !== true;
  const parts: Uint8Array[] = [];
  const head = new DataView(new ArrayBuffer(24));
  head.setUint32(0, spec.nanoseconds === true ? 0xa1b23c4d : 0xa1b2c3d4, le);
  head.setUint16(4, 2, le);
  head.setUint16(6, 4, le);
  head.setUint32(16, spec.snapLength ?? 65535, le);
  head.setUint32(20, spec.linkType, le);
  parts.push(new Uint8Array(head.buffer));
  for (const r of spec.records) {
    const h = new DataView(new ArrayBuffer(16));
    const seconds = Math.floor(r.timeMs / 1000);
    const ms = r.timeMs - seconds * 1000;
    h.setUint32(0, seconds, le);
    h.setUint32(
      4,
      Math.round(spec.nanoseconds === true ? ms * 1e6 : ms * 1e3),
      le,
    );
    h.setUint32(8, r.frame.length, le);
    h.setUint32(12, r.originalLength ?? r.frame.length, le);
    parts.push(new Uint8Array(h.buffer), r.frame);
  }
  return concat(...parts);
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("hex");
}
