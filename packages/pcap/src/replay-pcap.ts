/**
 * Offline network mode (`knockd -replay FILE`, spec: daemon.md): the packets of a classic pcap
 * file, decoded and counted like a live capture, read in 1 MiB chunks (memory does not grow with
 * the file). There is no kernel filter offline: every frame of the file is decoded, and the
 * caller filters (`createPacketHitSource` applies the span and ethfilter in JavaScript).
 */
import { open } from "node:fs/promises";
import type { Logger } from "@portknock/core";
import { noopLogger } from "@portknock/core";
import type { DecodedPacket } from "./decode-frame.ts";
import { PcapError } from "./errors.ts";
import type { FrameRejectHandler } from "./frame-counter.ts";
import { createCaptureStats, createFrameCounter } from "./frame-counter.ts";
import type { LinkType } from "./link-type.ts";
import type { Capture } from "./open-capture.ts";
import type { PcapStats } from "./pcap-stats.ts";
import { emptyPcapStats } from "./pcap-stats.ts";
import type { PcapFileHeader } from "./parse-pcap-file.ts";
import {
  PCAP_HEADER_BYTES,
  PCAP_MAX_RECORD_BYTES,
  PCAP_RECORD_HEADER_BYTES,
  parsePcapHeader,
  parsePcapRecordHeader,
} from "./parse-pcap-file.ts";

/** Options of `replayPcap`. */
export interface ReplayPcapOptions<T = DecodedPacket> {
  /** Stops reading; the iteration ends. */
  signal?: AbortSignal;
  logger?: Logger;
  /** Called for every rejected frame (after counting). */
  onReject?: FrameRejectHandler;
  /** Bytes read at a time. Default 1 MiB. */
  chunkBytes?: number;
  /** As `OpenCaptureOptions.map`: what to yield for each packet, or undefined to skip it. */
  map?: (packet: DecodedPacket) => T | undefined;
}

const CHUNK_BYTES = 1 << 20;

/**
 * The packets of the classic pcap file `file` (µs or ns timestamps, either byte order; link types
 * as `decodeFrame`). Packet times are the file's timestamps; origins are `pcap FILE #N`, N the
 * record number. Reading starts on the first `next()`, which rejects with `PcapError`
 * `PCAP_READ_FAILED` (cannot read), `PCAP_FILE_UNSUPPORTED` (not classic pcap, pcapng, or a link
 * type `decodeFrame` cannot read) or, later, `PCAP_FILE_CORRUPT` (an impossible record length).
 * A last record cut short (a capture killed mid-write) ends the replay with a warning.
 */
export function replayPcap<T = DecodedPacket>(
  file: string,
  options: ReplayPcapOptions<T> = {},
): Capture<T> {
  const logger = options.logger ?? noopLogger;
  const chunkBytes = options.chunkBytes ?? CHUNK_BYTES;
  if (!Number.isInteger(chunkBytes) || chunkBytes < PCAP_HEADER_BYTES) {
    throw new RangeError(
      `chunkBytes must be an integer of at least 24, got ${chunkBytes}`,
    );
  }
  const stats = createCaptureStats();
  const linkTypes = new Map<string, LinkType>();
  let closed = false;
  let iterator: AsyncGenerator<T, void, undefined> | undefined;
  const map =
    options.map ?? ((packet: DecodedPacket): T => packet as unknown as T);

  async function* packets(): AsyncGenerator<T, void, undefined> {
    let handle;
    try {
      handle = await open(file, "r");
    } catch (error) {
      throw readFailed(file, error);
    }
    try {
      const reader = createChunkReader(handle, chunkBytes, file);
      const head = await reader.ensure(PCAP_HEADER_BYTES);
      const parsed = parsePcapHeader(
        head.bytes.subarray(head.offset, head.offset + head.available),
      );
      if (!parsed.ok) {
        throw new PcapError(
          "PCAP_FILE_UNSUPPORTED",
          `${file}: ${parsed.reason}`,
        );
      }
      const header = parsed.header;
      if (header.linkType === undefined) {
        throw new PcapError(
          "PCAP_FILE_UNSUPPORTED",
          `${file}: link type ${header.linkTypeNumber} is not supported (Ethernet 1, Linux cooked 113/276, raw IP 101/12/14/228/229, BSD loopback 0/108 are)`,
        );
      }
      linkTypes.set(file, header.linkType);
      reader.skip(PCAP_HEADER_BYTES);
      const counter = createFrameCounter({
        stats,
        linkType: header.linkType,
        originPrefix: `pcap ${file}`,
        iface: undefined,
        where: file,
        logger,
        clock: { now: () => 0 },
        onReject: options.onReject,
      });
      yield* records(reader, header, counter, file, logger);
    } finally {
      await handle.close();
    }
  }

  async function* records(
    reader: ChunkReader,
    header: PcapFileHeader,
    counter: ReturnType<typeof createFrameCounter>,
    name: string,
    log: Logger,
  ): AsyncGenerator<T, void, undefined> {
    let recordNo = 0;
    let fileOffset = PCAP_HEADER_BYTES; // of the record header being read
    for (;;) {
      if (closed || options.signal?.aborted === true) return;
      const rh = await reader.ensure(PCAP_RECORD_HEADER_BYTES);
      if (rh.available === 0) return;
      recordNo++;
      if (rh.available < PCAP_RECORD_HEADER_BYTES)
        return truncatedEnd(log, name, recordNo);
      const r = parsePcapRecordHeader(rh.bytes, rh.offset, header);
      if (r.capturedLength > PCAP_MAX_RECORD_BYTES) {
        throw new PcapError(
          "PCAP_FILE_CORRUPT",
          `${name}: record ${recordNo} at byte offset ${fileOffset} claims ${r.capturedLength} bytes (at most ${PCAP_MAX_RECORD_BYTES}): the file is corrupt`,
        );
      }
      const need = PCAP_RECORD_HEADER_BYTES + r.capturedLength;
      const rec = await reader.ensure(need);
      if (rec.available < need) return truncatedEnd(log, name, recordNo);
      const start = rec.offset + PCAP_RECORD_HEADER_BYTES;
      const packet = counter.take(
        rec.bytes.subarray(start, start + r.capturedLength),
        r.timeMs,
        r.originalLength > r.capturedLength,
      );
      reader.skip(need);
      fileOffset += need;
      if (packet === undefined) continue;
      const item = map(packet);
      if (item !== undefined) yield item;
    }
  }

  return {
    stats,
    linkTypes,
    // A file has no kernel ring: nothing is received or dropped by libpcap.
    pcapStats: (): PcapStats => emptyPcapStats(),
    [Symbol.asyncIterator]: (): AsyncIterator<T> => (iterator ??= packets()),
    async close(): Promise<void> {
      closed = true;
      await iterator?.return();
    },
  };
}

function truncatedEnd(logger: Logger, file: string, recordNo: number): void {
  logger.warn(
    { event: "source.truncated", source: `pcap ${file} #${recordNo}` },
    "the file ends inside a record (capture stopped mid-write); replay stops there",
  );
}

function readFailed(file: string, error: unknown): PcapError {
  return new PcapError(
    "PCAP_READ_FAILED",
    `cannot read ${JSON.stringify(file)}: ${error instanceof Error ? error.message : String(error)}`,
    { cause: error },
  );
}

/** A window onto the file: at least `n` bytes from `offset` after `ensure(n)` unless at the end. */
interface ChunkReader {
  ensure(
    n: number,
  ): Promise<{ bytes: Uint8Array; offset: number; available: number }>;
  skip(n: number): void;
}

interface FileHandleLike {
  read(
    buffer: Uint8Array,
    offset: number,
    length: number,
    position: number | null,
  ): Promise<{ bytesRead: number }>;
}

function createChunkReader(
  handle: FileHandleLike,
  chunkBytes: number,
  file: string,
): ChunkReader {
  let buf = new Uint8Array(chunkBytes);
  let start = 0;
  let end = 0;
  let eof = false;
  return {
    async ensure(n) {
      while (end - start < n && !eof) {
        if (buf.length - start < n) {
          // Move the unread tail to the front; grow for a record longer than the buffer.
          if (n > buf.length) {
            const bigger = new Uint8Array(n);
            bigger.set(buf.subarray(start, end), 0);
            buf = bigger;
          } else {
            buf.copyWithin(0, start, end);
          }
          end -= start;
          start = 0;
        }
        let bytesRead: number;
        try {
          ({ bytesRead } = await handle.read(buf, end, buf.length - end, null));
        } catch (error) {
          throw readFailed(file, error);
        }
        if (bytesRead === 0) eof = true;
        end += bytesRead;
      }
      return { bytes: buf, offset: start, available: Math.min(end - start, n) };
    },
    skip(n) {
      start += n;
    },
  };
}
