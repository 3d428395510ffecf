/**
 * One interface of a live capture: the addon's libpcap handle, and the reading of its batches.
 * The addon calls back once per batch of packets (not once per packet) with the records in a
 * buffer it reuses; each frame is decoded there and then, and only what the caller keeps of the
 * decoded packet outlives the call.
 */
import type { Clock } from "@portknock/core";
import type { DecodedPacket } from "./decode-frame.ts";
import { PcapError } from "./errors.ts";
import type { FrameCounter } from "./frame-counter.ts";
import type { Ipv4HitBatch, Ipv4HitSink } from "./ipv4-hit-batch.ts";
import { createIpv4HitBatch } from "./ipv4-hit-batch.ts";
import type { LinkType } from "./link-type.ts";
import { linkTypeFromNumber } from "./link-type.ts";
import type { NativeCapture, NativeModule } from "./native-binding.ts";
import type { PcapInterfaceStats } from "./pcap-stats.ts";
import {
  HIT_DST,
  HIT_DST_PORT,
  HIT_FIELDS,
  HIT_FLAGS,
  HIT_PROTOCOL,
  HIT_SEQ,
  HIT_SRC,
  HIT_SRC_PORT,
  readIpv4Hit,
} from "./read-ipv4-hit.ts";
import {
  HIT6_DST_PORT,
  HIT6_FIELDS,
  HIT6_FLAGS,
  HIT6_PROTOCOL,
  HIT6_SEQ,
  HIT6_SRC,
  HIT6_SRC_PORT,
  readIpv6Hit,
} from "./read-ipv6-hit.ts";

/** What `openInterface` needs. */
export interface OpenInterfaceOptions {
  native: NativeModule;
  iface: string;
  filter: string;
  snapshotSize: number;
  bufferBytes: number;
  promiscuous: boolean;
  immediate: boolean;
  bufferTimeoutMs: number;
  batchBytes: number;
  batchPackets: number;
  /** Packet times: `clock.now()` once per batch; undefined: libpcap's timestamp of each packet. */
  clock: Clock | undefined;
  /** The counter (decoding, numbering, rejections) for frames of this link type. */
  makeCounter: (linkType: LinkType) => FrameCounter;
  /** Each decoded packet, in order. Returns false to stop reading the batch (capture closed). */
  onPacket: (packet: DecodedPacket) => boolean;
  /**
   * Ethernet frames of plain IPv4 and IPv6 TCP/UDP packets are read without objects
   * (`readIpv4Hit`, `readIpv6Hit`) and their hits handed here in columns, in order with
   * `onPacket`'s (issue #20).
   */
  ipv4Hits?: Ipv4HitSink;
  /** Reading failed, or `onPacket`/a rejection handler threw: delivery has stopped. */
  onError: (error: Error) => void;
}

/** An open interface. */
export interface LiveInterface {
  readonly linkType: LinkType;
  /** pcap_activate's warning, if any. */
  readonly warning: string | undefined;
  /** libpcap's counters (the final ones after `close`). */
  stats(): PcapInterfaceStats;
  /** Stops delivery at once (idempotent). */
  close(): void;
}

/**
 * Opens `options.iface` with the addon. Throws `PcapError` `PCAP_OPEN_FAILED` with libpcap's
 * message (no such device, no permission, a filter it cannot compile) or for a link type
 * `decodeFrame` cannot read; nothing stays open then.
 */
export function openInterface(options: OpenInterfaceOptions): LiveInterface {
  const { iface, clock, onPacket, onError } = options;
  let handle: NativeCapture;
  // Known once the handle is open (it depends on the link type).
  let counter: FrameCounter | undefined = undefined;
  let words = new Uint32Array(0);
  let bytes = new Uint8Array(0);
  const header = options.native.recordHeaderBytes;
  let stopped = false;
  const sink = options.ipv4Hits;
  let batch: Ipv4HitBatch | undefined;
  const fields = new Int32Array(HIT_FIELDS);
  const fields6 = new Int32Array(HIT6_FIELDS);
  // The time of the frame being read, for `countIpv4` (an array: a double argument is boxed).
  const now = new Float64Array(1);

  const onBatch = (count: number, bytesUsed: number, error?: string): void => {
    if (stopped || counter === undefined) return;
    if (count < 0) {
      stopped = true;
      onError(
        new PcapError(
          "PCAP_READ_FAILED",
          `capture on ${JSON.stringify(iface)} failed: ${error ?? "unknown error"}`,
        ),
      );
      return;
    }
    const batchTimeMs = clock?.now();
    let offset = 0;
    try {
      for (let i = 0; i < count && offset < bytesUsed; i++) {
        const w = offset >>> 2;
        const caplen = words[w + 2] ?? 0;
        const timeMs =
          batchTimeMs ?? (words[w] ?? 0) * 1000 + (words[w + 1] ?? 0) / 1000;
        const start = offset + header;
        offset = start + ((caplen + 3) & ~3);
        const truncated = caplen < (words[w + 3] ?? 0);
        if (batch !== undefined && readIpv4Hit(bytes, start, caplen, fields)) {
          // decodeFrame's rules were readIpv4Hit's; the address rules (not for us, our own
          // address as the source) are the counter's, as for a decoded packet (issue #16).
          now[0] = timeMs;
          const frame = counter.countIpv4(
            bytes,
            start,
            caplen,
            now,
            truncated,
            fields[HIT_SRC]!,
            fields[HIT_DST]!,
          );
          if (frame === 0) continue;
          const protocol = fields[HIT_PROTOCOL]!;
          if (sink!.isHit(protocol, fields[HIT_DST_PORT]!, fields[HIT_FLAGS]!))
            batch.add(
              fields[HIT_SRC]!,
              fields[HIT_DST_PORT]!,
              protocol === 6 ? fields[HIT_SRC_PORT]! : -1,
              fields[HIT_SEQ]!, // signed: a uint32 past 2^31 would be boxed
              now,
              frame,
              start,
              caplen,
            );
          continue;
        }
        if (batch !== undefined && readIpv6Hit(bytes, start, caplen, fields6)) {
          // The same for an IPv6 packet (extension headers skipped): its addresses as words (#20).
          now[0] = timeMs;
          const frame = counter.countIpv6(
            bytes,
            start,
            caplen,
            now,
            truncated,
            fields6,
          );
          if (frame === 0) continue;
          const protocol = fields6[HIT6_PROTOCOL]!;
          if (
            sink!.isHit(protocol, fields6[HIT6_DST_PORT]!, fields6[HIT6_FLAGS]!)
          )
            batch.addV6(
              fields6,
              HIT6_SRC,
              fields6[HIT6_DST_PORT]!,
              protocol === 6 ? fields6[HIT6_SRC_PORT]! : -1,
              fields6[HIT6_SEQ]!,
              now,
              frame,
              start,
              caplen,
            );
          continue;
        }
        const packet = counter.take(
          bytes.subarray(start, start + caplen),
          timeMs,
          truncated,
        );
        if (packet === undefined) continue;
        batch?.flush(); // the hits before it first
        if (stopped || !onPacket(packet)) return;
      }
      batch?.flush();
    } catch (e) {
      // Never let an exception escape into the addon's callback (it would be uncaught).
      stopped = true;
      handle.close();
      onError(e instanceof Error ? e : new Error(String(e)));
    }
  };

  try {
    handle = new options.native.Capture(
      iface,
      options.filter,
      {
        snaplen: options.snapshotSize,
        bufferBytes: options.bufferBytes,
        promiscuous: options.promiscuous,
        immediate: options.immediate,
        timeoutMs: options.bufferTimeoutMs,
        batchBytes: options.batchBytes,
        batchPackets: options.batchPackets,
        inbound: true,
      },
      onBatch,
    );
  } catch (error) {
    throw new PcapError(
      "PCAP_OPEN_FAILED",
      `cannot capture on ${JSON.stringify(iface)} with filter ${JSON.stringify(options.filter).slice(0, 200)}: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
  const linkType = linkTypeFromNumber(handle.linkType);
  if (linkType === undefined) {
    handle.close();
    throw new PcapError(
      "PCAP_OPEN_FAILED",
      `cannot decode the frames of ${JSON.stringify(iface)}: link type ${handle.linkName || "unknown"} (DLT ${handle.linkType}) is not supported (Ethernet, Linux cooked, raw IP and BSD loopback are)`,
    );
  }
  counter = options.makeCounter(linkType);
  words = new Uint32Array(handle.batch);
  bytes = new Uint8Array(handle.batch);
  if (sink !== undefined && linkType === "ethernet")
    batch = createIpv4HitBatch(options.batchPackets, bytes, counter, sink);
  return {
    linkType,
    warning: handle.warning,
    stats(): PcapInterfaceStats {
      const s = handle.stats();
      return {
        received: s.received,
        dropped: s.dropped,
        ifDropped: s.ifDropped,
      };
    },
    close(): void {
      stopped = true;
      handle.close();
    },
  };
}
