/**
 * Network mode's hit source (spec: daemon.md §1, §8): BPF filter → live capture (or pcap file
 * replay) → decode → span rule → ethfilter → `KnockHit`s (kernel retransmits are dropped by the
 * detector, by the same rule as in file mode). Bad frames are
 * counted and logged (rate-limited), never thrown.
 */
import type { Logger } from "@portknock/core";
import { noopLogger } from "@portknock/core";
import type { Clock, HitColumns, KnockHit } from "@portknock/core";
import type { PortRange } from "./bpf-filter.ts";
import { buildBpfFilter } from "./bpf-filter.ts";
import type { DecodedPacket } from "./decode-frame.ts";
import type { CompiledEthFilter } from "./ethfilter.ts";
import { matchEthFilter } from "./match-ethfilter.ts";
import type { CaptureStats, FrameRejectHandler } from "./frame-counter.ts";
import { createCaptureStats } from "./frame-counter.ts";
import type { Ipv4HitSink } from "./ipv4-hit-batch.ts";
import type { Capture } from "./open-capture.ts";
import { openCapture } from "./open-capture.ts";
import type { PcapStats } from "./pcap-stats.ts";
import { replayPcap } from "./replay-pcap.ts";
import { createSpanMatcher, createSpanTest } from "./span-match.ts";

/** Where the packets come from: exactly one of these. */
export type PacketInput =
  /** Live capture on these interfaces (`interface`; `any` for all). */
  | { interfaces: readonly string[] }
  /** Replay a classic pcap file from start to end (`knockd -replay FILE`). */
  | { file: string };

/** Options of `createPacketHitSource`. */
export type PacketHitSourceOptions = PacketInput & {
  /** The port span's contiguous ranges. */
  ranges: readonly PortRange[];
  /** Knocks are TCP SYNs (SYN set, ACK clear) or UDP datagrams. */
  protocol: "tcp" | "udp";
  /** The `useethfilter` block, compiled (`compileEthFilter`). */
  ethfilter?: CompiledEthFilter;
  /** Live: bytes kept per frame (`snapshotsize`, libpcap's snap length). Default 1500. */
  snapshotSize?: number;
  /** Live: libpcap's kernel ring per interface, in bytes (see `OpenCaptureOptions`). Default 12 MiB. */
  bufferBytes?: number;
  /** Live: promiscuous mode. Default false. */
  promiscuous?: boolean;
  /** Live: libpcap's immediate mode instead of batches (see `OpenCaptureOptions`). Default false. */
  immediate?: boolean;
  /** Live: the longest a packet waits for its batch, in ms. Default 10. */
  bufferTimeoutMs?: number;
  /** Live: decoded packets queued before new ones are dropped. Default 10,000. */
  queueSize?: number;
  /**
   * Live: which destinations are knocks (see `OpenCaptureOptions`). Default `local`, or `any`
   * when the ethfilter tests `dest_ip` (it says which destinations are ours).
   */
  destinations?: "local" | "any";
  /** Live: most span ranges written into the BPF expression (see `buildBpfFilter`). */
  maxBpfRanges?: number;
  /** Stops the source; the iteration ends. */
  signal?: AbortSignal;
  /**
   * Live: hit times and the log rate limit. Default: hit times are libpcap's
   * packet timestamps, the rest `Date.now`. Replays use the file's times.
   */
  clock?: Clock;
  logger?: Logger;
  onReject?: FrameRejectHandler;
  /**
   * Each hit, synchronously, where it is decoded (in the capture's batch callback when live)
   * instead of being queued for the iterator, which then yields nothing and only ends (or
   * rejects with a read error). Saves a queue slot, a promise and a turn of the event loop per
   * hit, and lets each hit die young (issue #20: V8 promotes what a batch keeps queued). If it
   * throws, the source closes and the iteration rejects with that error.
   */
  onHit?: (hit: KnockHit) => void;
  /**
   * Live, with `onHit` and without `ethfilter` or `onDecision`: the hits of Ethernet frames
   * carrying plain IPv4 or IPv6 TCP/UDP packets are read as numbers (no decoded packet, no address text,
   * no `KnockHit`) and handed here in columns (sequence numbers included), one call per capture
   * batch, in order with `onHit`'s; `hit(i)` builds one when asked, during the call. The same
   * rules decide as for the other frames (the address rules, the span) and the same counters
   * count. The other hits go to `onHit`. A throw is handled as `onHit`'s.
   */
  onColumns?: (columns: HitColumns) => void;
  /**
   * Called for every decoded packet with what became of it (`knockd -debug` prints each, issue
   * #16): `outside-span` (not a knock candidate: protocol, port or TCP flags), `filtered` (the
   * ethfilter refused it) or `hit`. Rejected frames go to `onReject` instead.
   */
  onDecision?: (decision: PacketDecision, packet: DecodedPacket) => void;
};

/** What became of a decoded packet (`PacketHitSourceOptions.onDecision`). */
export type PacketDecision = "outside-span" | "filtered" | "hit";

/** Counters of a packet hit source (daemon.md §8). */
export interface PacketSourceStats {
  /** Frames seen, decoded, rejected by reason, dropped by the queue. */
  capture: CaptureStats;
  /** Decoded packets that are not knock candidates (protocol, port or flags). */
  notInSpan: number;
  /** Candidates the ethfilter refused. */
  filteredOut: number;
  /** Hits yielded. */
  hits: number;
}

/** A hit source: iterate it once; `close` stops it (idempotent). */
export interface PacketHitSource extends AsyncIterable<KnockHit> {
  readonly stats: PacketSourceStats;
  /**
   * libpcap's counters (`pcap_stats`), summed and per interface: `received` (passed the kernel
   * filter), `dropped` (the kernel ring was full: lost before JavaScript saw them), `ifDropped`
   * (the interface dropped them). The final values after `close()`; all zero for a replay.
   */
  pcapStats(): PcapStats;
  /** The libpcap filter expression used (live), or that a live capture would use (replay). */
  readonly bpfFilter: string;
  close(): Promise<void>;
}

/** The `KnockHit` of a decoded packet. */
export function packetToHit(packet: DecodedPacket): KnockHit {
  const hit: KnockHit = {
    srcIp: packet.srcIp,
    dstPort: packet.dstPort,
    protocol: packet.protocol === 6 ? "tcp" : "udp",
    dstIp: packet.dstIp,
    timeMs: packet.timeMs,
    origin: packet.origin,
  };
  // A hit with a source port can be a kernel retransmit (the detector's rule); a UDP datagram
  // never is: a client may send the same port twice from one socket.
  if (packet.protocol === 6) {
    hit.srcPort = packet.srcPort;
    if (packet.seq !== undefined) hit.seq = packet.seq;
  }
  if (packet.iface !== undefined) hit.iface = packet.iface;
  return hit;
}

/**
 * Wires filter, capture or replay, decoding, the span rule and the ethfilter into
 * knock hits. A live capture opens at once: throws `PcapError` (`PCAP_UNAVAILABLE`,
 * `PCAP_OPEN_FAILED`) as `openCapture` does; a replay's file errors reject the first `next()`.
 * Throws `RangeError` for bad ranges or options.
 */
export function createPacketHitSource(
  options: PacketHitSourceOptions,
): PacketHitSource {
  const logger = options.logger ?? noopLogger;
  const { ethfilter, protocol, onHit } = options;
  const bpfFilter = buildBpfFilter({
    ranges: options.ranges,
    protocol,
    ethfilter,
    maxRanges: options.maxBpfRanges,
  });
  const isCandidate = createSpanMatcher(options.ranges, protocol);
  const live = "interfaces" in options;
  const stats: PacketSourceStats = {
    capture: createCaptureStats(),
    notInSpan: 0,
    filteredOut: 0,
    hits: 0,
  };
  // Runs synchronously on every decoded packet (in the libpcap callback when live): only hits
  // are queued, so noise costs no queue slot and no promise.
  const { onDecision } = options;
  const toHit = (packet: DecodedPacket): KnockHit | undefined => {
    if (!isCandidate(packet)) {
      stats.notInSpan++;
      onDecision?.("outside-span", packet);
    } else if (ethfilter !== undefined && !matchEthFilter(ethfilter, packet)) {
      stats.filteredOut++;
      onDecision?.("filtered", packet);
    } else {
      stats.hits++;
      onDecision?.("hit", packet);
      if (onHit === undefined) return packetToHit(packet);
      onHit(packetToHit(packet));
    }
    return undefined;
  };
  const isHit = createSpanTest(options.ranges, protocol);
  const onColumns = options.onColumns;
  const ipv4Hits: Ipv4HitSink | undefined =
    onColumns !== undefined &&
    onHit !== undefined &&
    ethfilter === undefined &&
    onDecision === undefined
      ? {
          isHit(p: number, dstPort: number, tcpFlags: number): boolean {
            if (!isHit(p, dstPort, tcpFlags)) {
              stats.notInSpan++;
              return false;
            }
            stats.hits++;
            return true;
          },
          toHit: packetToHit,
          onColumns,
        }
      : undefined;
  const capture: Capture<KnockHit> = live
    ? openCapture({
        interfaces: options.interfaces,
        filter: bpfFilter,
        snapshotSize: options.snapshotSize,
        bufferBytes: options.bufferBytes,
        promiscuous: options.promiscuous,
        immediate: options.immediate,
        bufferTimeoutMs: options.bufferTimeoutMs,
        queueSize: options.queueSize,
        signal: options.signal,
        clock: options.clock,
        logger,
        onReject: options.onReject,
        destinations:
          options.destinations ??
          (ethfilter?.tests.some((t) => t.property === "dest_ip") === true
            ? "any"
            : "local"),
        map: toHit,
        ...(ipv4Hits !== undefined && { ipv4Hits }),
      })
    : replayPcap(options.file, {
        signal: options.signal,
        logger,
        onReject: options.onReject,
        map: toHit,
      });
  stats.capture = capture.stats;

  return {
    stats,
    bpfFilter,
    pcapStats: (): PcapStats => capture.pcapStats(),
    [Symbol.asyncIterator]: (): AsyncIterator<KnockHit> =>
      capture[Symbol.asyncIterator](),
    async close(): Promise<void> {
      await capture.close();
    },
  };
}
