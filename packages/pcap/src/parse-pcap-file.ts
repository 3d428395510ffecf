/**
 * The classic pcap file format (tcpdump.org/manpages/pcap-savefile.5.html; IETF draft
 * "PCAP Capture File Format"): a 24-byte global header, then records of a 16-byte header and the
 * frame. Microsecond (0xa1b2c3d4) and nanosecond (0xa1b23c4d) magics, either byte order. pcapng
 * is recognised and refused with a hint. Pure.
 */
import type { LinkType } from "./link-type.ts";
import { linkTypeFromNumber } from "./link-type.ts";

/** What the global header says. */
export interface PcapFileHeader {
  littleEndian: boolean;
  /** Record timestamps count nanoseconds (else microseconds). */
  nanoseconds: boolean;
  versionMajor: number;
  versionMinor: number;
  /** The snap length the file was written with. */
  snapLength: number;
  /** The header's link type number (LINKTYPE_*), FCS bits removed. */
  linkTypeNumber: number;
  /** The link type, when `decodeFrame` reads it. */
  linkType: LinkType | undefined;
}

/** Why bytes are not a pcap file this reader takes. */
export type PcapHeaderResult =
  { ok: true; header: PcapFileHeader } | { ok: false; reason: string };

/** One record's header. */
export interface PcapRecordHeader {
  /** Capture time, epoch ms (with a fraction). */
  timeMs: number;
  /** Bytes of the frame stored in the file. */
  capturedLength: number;
  /** Bytes the frame had on the wire. */
  originalLength: number;
}

/** Bytes of the global header and of a record header. */
export const PCAP_HEADER_BYTES = 24;
export const PCAP_RECORD_HEADER_BYTES = 16;
/** Longest frame a record may hold (libpcap's MAXIMUM_SNAPLEN): more means a corrupt file. */
export const PCAP_MAX_RECORD_BYTES = 262_144;

function u32(b: Uint8Array, i: number, littleEndian: boolean): number {
  const b0 = b[i] ?? 0;
  const b1 = b[i + 1] ?? 0;
  const b2 = b[i + 2] ?? 0;
  const b3 = b[i + 3] ?? 0;
  return littleEndian
    ? (b0 | (b1 << 8) | (b2 << 16) | (b3 << 24)) >>> 0
    : ((b0 << 24) | (b1 << 16) | (b2 << 8) | b3) >>> 0;
}

function u16(b: Uint8Array, i: number, littleEndian: boolean): number {
  const b0 = b[i] ?? 0;
  const b1 = b[i + 1] ?? 0;
  return littleEndian ? b0 | (b1 << 8) : (b0 << 8) | b1;
}

/** Reads the global header at the start of `bytes`. Never throws. */
export function parsePcapHeader(bytes: Uint8Array): PcapHeaderResult {
  if (bytes.length < PCAP_HEADER_BYTES) {
    return {
      ok: false,
      reason: `file is ${bytes.length} bytes, shorter than a pcap header (24)`,
    };
  }
  const le = u32(bytes, 0, true);
  const be = u32(bytes, 0, false);
  if (be === 0x0a0d0d0a) {
    return {
      ok: false,
      reason:
        "this is a pcapng file; convert it to classic pcap first (`tcpdump -r in.pcapng -w out.pcap` or `editcap -F pcap in.pcapng out.pcap`)",
    };
  }
  let littleEndian: boolean;
  let nanoseconds: boolean;
  if (le === 0xa1b2c3d4 || le === 0xa1b23c4d) {
    littleEndian = true;
    nanoseconds = le === 0xa1b23c4d;
  } else if (be === 0xa1b2c3d4 || be === 0xa1b23c4d) {
    littleEndian = false;
    nanoseconds = be === 0xa1b23c4d;
  } else {
    return {
      ok: false,
      reason: `not a pcap file: magic number 0x${be.toString(16).padStart(8, "0")}`,
    };
  }
  const versionMajor = u16(bytes, 4, littleEndian);
  const versionMinor = u16(bytes, 6, littleEndian);
  if (versionMajor !== 2) {
    return {
      ok: false,
      reason: `unsupported pcap version ${versionMajor}.${versionMinor} (2.x is)`,
    };
  }
  const linkTypeNumber = u32(bytes, 20, littleEndian) & 0xffff;
  return {
    ok: true,
    header: {
      littleEndian,
      nanoseconds,
      versionMajor,
      versionMinor,
      snapLength: u32(bytes, 16, littleEndian),
      linkTypeNumber,
      linkType: linkTypeFromNumber(linkTypeNumber),
    },
  };
}

/**
 * Reads the record header at `offset` (the caller checks that 16 bytes are there). Never throws;
 * `capturedLength` above `PCAP_MAX_RECORD_BYTES` means the file is corrupt.
 */
export function parsePcapRecordHeader(
  bytes: Uint8Array,
  offset: number,
  header: PcapFileHeader,
): PcapRecordHeader {
  const { littleEndian } = header;
  const seconds = u32(bytes, offset, littleEndian);
  const fraction = u32(bytes, offset + 4, littleEndian);
  return {
    timeMs: seconds * 1000 + fraction / (header.nanoseconds ? 1e6 : 1e3),
    capturedLength: u32(bytes, offset + 8, littleEndian),
    originalLength: u32(bytes, offset + 12, littleEndian),
  };
}

/** One record of an in-memory file: its header and a view of its frame. */
export interface PcapRecord extends PcapRecordHeader {
  frame: Uint8Array;
}

/**
 * Every record of a whole pcap file held in memory (tests, small files; `replayPcap` streams).
 * A last record cut short ends the iteration; a corrupt record length ends it too, with
 * `onCorrupt(offset)` called. Never throws.
 */
export function* readPcapRecords(
  bytes: Uint8Array,
  header: PcapFileHeader,
  onCorrupt?: (offset: number) => void,
): Generator<PcapRecord, void, undefined> {
  let offset = PCAP_HEADER_BYTES;
  while (offset + PCAP_RECORD_HEADER_BYTES <= bytes.length) {
    const r = parsePcapRecordHeader(bytes, offset, header);
    if (r.capturedLength > PCAP_MAX_RECORD_BYTES) {
      onCorrupt?.(offset);
      return;
    }
    const start = offset + PCAP_RECORD_HEADER_BYTES;
    const end = start + r.capturedLength;
    if (end > bytes.length) return;
    yield { ...r, frame: bytes.subarray(start, end) };
    offset = end;
  }
}
