/**
 * The live half of network mode (spec: daemon.md §1): libpcap captures (through this package's
 * own addon) on one or more interfaces with a BPF filter, merged into one stream of decoded
 * packets. The addon delivers packets in batches, one JavaScript call per batch; each frame is
 * decoded at once and only the small decoded packet is queued. The queue is bounded (the newest
 * packets are dropped and counted when the consumer lags); packets the kernel ring had no room
 * for are counted by libpcap (`pcapStats()`).
 */
import type { Logger } from "@portknock/core";
import { noopLogger } from "@portknock/core";
import type { Clock } from "@portknock/core";
import { systemClock } from "@portknock/core";
import { createBoundedQueue } from "./bounded-queue.ts";
import type { DecodedPacket } from "./decode-frame.ts";
import type { CaptureStats, FrameRejectHandler } from "./frame-counter.ts";
import { createCaptureStats, createFrameCounter } from "./frame-counter.ts";
import type { Ipv4HitSink } from "./ipv4-hit-batch.ts";
import { createLocalAddresses } from "./local-addresses.ts";
import type { LinkType } from "./link-type.ts";
import type { LiveInterface } from "./live-interface.ts";
import { openInterface } from "./live-interface.ts";
import { loadNative } from "./native-binding.ts";
import type { PcapInterfaceStats, PcapStats } from "./pcap-stats.ts";
import { sumPcapStats } from "./pcap-stats.ts";

/** Options of `openCapture`. */
export interface OpenCaptureOptions<T = DecodedPacket> {
  /** Interface names (`lo`, `eth0`), or `any` (Linux: every interface, cooked frames). */
  interfaces: readonly string[];
  /** libpcap filter expression (`buildBpfFilter`); `""` captures everything. */
  filter: string;
  /**
   * Bytes of each frame kept (`snapshotsize`): libpcap's snap length. Default 1500; 64–262144.
   * Longer frames are cut (and counted in `stats.truncated`); decoding needs only the headers.
   */
  snapshotSize?: number;
  /**
   * libpcap's kernel ring per interface, in bytes (allocated at open and resident). Default
   * 12 MiB (16 before #20: 4 MiB of resident memory less, and no packet lost in the flood bench,
   * detector docs/floods.md). With the default timeout batching, Linux packs frames into it
   * (TPACKET_V3): a 54-byte SYN takes ~128 bytes, so 12 MiB holds ~98,000 of them (0.49 s of a
   * 200,000 SYN/s flood) while JavaScript is busy. In
   * immediate mode each frame takes a fixed slot of about `snapshotSize` + 80 bytes (TPACKET_V2).
   * Packets arriving when it is full are lost in the kernel and counted in `pcapStats().dropped`.
   */
  bufferBytes?: number;
  /** Put the interfaces into promiscuous mode (frames for other hosts). Default false. */
  promiscuous?: boolean;
  /**
   * libpcap's immediate mode: each packet wakes the process at once (lowest latency, the most
   * wake-ups, and a fixed ring slot per packet). Default false: packets are delivered in
   * batches, at the latest `bufferTimeoutMs` after they arrived.
   */
  immediate?: boolean;
  /** Without immediate mode: the longest a packet waits for its batch, in ms. Default 10; 1–1000. */
  bufferTimeoutMs?: number;
  /** Decoded packets waiting for the consumer before new ones are dropped. Default 10,000. */
  queueSize?: number;
  /** Closes the capture; the iteration ends after the packets already queued. */
  signal?: AbortSignal;
  /**
   * Packet times (read once per batch) and the rejection-log rate limit. Default: each packet's
   * libpcap timestamp (the kernel's receive time) and `Date.now`.
   */
  clock?: Clock;
  logger?: Logger;
  /** Called for every rejected frame (after counting). */
  onReject?: FrameRejectHandler;
  /**
   * `local` (default): a packet is delivered only when addressed to one of its interface's
   * addresses (any interface's on `any`), else it is `FRAME_NOT_FOR_US`; on an interface that is
   * not loopback, one from this host's own address is `FRAME_MARTIAN_SOURCE` (issue #16).
   * `any`: every destination (the caller filters, e.g. an `<ethfilter>` with `dest_ip`).
   */
  destinations?: "local" | "any";
  /**
   * Runs on each decoded packet inside the addon's batch callback, before queueing: what to queue, or
   * undefined to drop the packet there (no queue slot, no promise). Default: the packet itself.
   * If it throws, the capture closes and the iteration rejects with that error.
   */
  map?: (packet: DecodedPacket) => T | undefined;
  /**
   * The allocation-free lane (issue #20): Ethernet frames of plain IPv4 or IPv6 TCP/UDP packets are
   * read as numbers, without a `DecodedPacket`, and their hits (as `isHit` says) handed to the
   * sink in columns, synchronously, in order with the packets `map` sees. Other frames (IPv6 extension headers,
   * VLAN tags, other link types, rejected ones) take the usual way.
   */
  ipv4Hits?: Ipv4HitSink;
}

/** Decoded packets (or what `map` made of them) from interfaces or a file; iterate once. */
export interface Capture<T = DecodedPacket> extends AsyncIterable<T> {
  /** Live counters (summed over interfaces) of what reached JavaScript. */
  readonly stats: CaptureStats;
  /**
   * libpcap's own counters (`pcap_stats`) per interface and summed: packets the kernel filter
   * passed and those the kernel ring had to drop. Readable after `close()` (the final values);
   * all zero for a replay.
   */
  pcapStats(): PcapStats;
  /** The link type of each interface (or of the file). */
  readonly linkTypes: ReadonlyMap<string, LinkType>;
  /** Stops capturing (idempotent); the iteration ends after the packets already queued. */
  close(): Promise<void>;
}

// The batch the addon fills per interface and per JavaScript call: at most 4,096 packets (a
// 54-byte SYN takes 72 bytes in it) or 1 MiB (~650 frames of 1500 bytes).
const BATCH_BYTES = 1 << 20;
const BATCH_PACKETS = 4096;

function checkInt(
  name: string,
  value: number,
  min: number,
  max: number,
): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(
      `${name} must be an integer from ${min} to ${max}, got ${value}`,
    );
  }
  return value;
}

function checkInterfaces(interfaces: readonly string[]): void {
  if (!Array.isArray(interfaces) || interfaces.length === 0) {
    throw new TypeError(
      "interfaces must be a non-empty array of interface names",
    );
  }
  const seen = new Set<string>();
  for (const name of interfaces) {
    if (typeof name !== "string" || name === "" || seen.has(name)) {
      throw new TypeError(
        `interfaces must be distinct non-empty names, got ${JSON.stringify(interfaces).slice(0, 80)}`,
      );
    }
    seen.add(name);
  }
}

/**
 * Opens a capture on every interface of `options.interfaces` with `options.filter` (one libpcap
 * handle each; packets are merged in arrival order). Packets are numbered per interface, every
 * frame libpcap delivers counting: origins are `pcap IFACE #N`. Throws `PcapError`
 * `PCAP_UNAVAILABLE` (the addon is not built) or `PCAP_OPEN_FAILED` (libpcap refused the
 * interface or the filter, missing privilege, or a link type `decodeFrame` cannot read), with
 * every handle already opened closed again; `TypeError`/`RangeError` for bad options. A read
 * error later rejects the iteration with `PCAP_READ_FAILED`.
 */
export function openCapture<T = DecodedPacket>(
  options: OpenCaptureOptions<T>,
): Capture<T> {
  checkInterfaces(options.interfaces);
  if (typeof options.filter !== "string") {
    throw new TypeError(
      `filter must be a string, got ${typeof options.filter}`,
    );
  }
  const snapshotSize = checkInt(
    "snapshotSize",
    options.snapshotSize ?? 1500,
    64,
    262_144,
  );
  const bufferBytes = checkInt(
    "bufferBytes",
    options.bufferBytes ?? 12 << 20,
    65_536,
    1 << 30,
  );
  const queueSize = checkInt(
    "queueSize",
    options.queueSize ?? 10_000,
    1,
    10_000_000,
  );
  const bufferTimeoutMs = checkInt(
    "bufferTimeoutMs",
    options.bufferTimeoutMs ?? 10,
    1,
    1000,
  );
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? noopLogger;
  const stats = createCaptureStats();
  const linkTypes = new Map<string, LinkType>();
  const handles = new Map<string, LiveInterface>();
  const finalStats: Record<string, PcapInterfaceStats> = {};
  let closed = false;

  const closeHandles = (): void => {
    for (const [iface, h] of handles) {
      h.close();
      finalStats[iface] = h.stats();
    }
    handles.clear();
  };
  const queue = createBoundedQueue<T>(queueSize, () => {
    void capture.close();
  });
  const map =
    options.map ?? ((packet: DecodedPacket): T => packet as unknown as T);
  const onPacket = (packet: DecodedPacket): boolean => {
    if (closed) return false;
    const item = map(packet); // a throw is caught by the interface: onError
    if (item !== undefined && !queue.push(item)) stats.dropped = queue.dropped;
    return !closed;
  };
  const onError = (error: Error): void => {
    queue.fail(error);
    void capture.close();
  };

  const destinations = options.destinations ?? "local";
  if (destinations !== "local" && destinations !== "any") {
    throw new TypeError(
      `destinations must be "local" or "any", got ${JSON.stringify(destinations)}`,
    );
  }
  const local = destinations === "local" ? createLocalAddresses() : undefined;
  const native = loadNative();
  for (const iface of options.interfaces) {
    let opened: LiveInterface;
    try {
      opened = openInterface({
        native,
        iface,
        filter: options.filter,
        snapshotSize,
        bufferBytes,
        promiscuous: options.promiscuous ?? false,
        immediate: options.immediate ?? false,
        bufferTimeoutMs,
        batchBytes: BATCH_BYTES,
        // A batch is decoded in one call, before the consumer can run: at most half the queue,
        // so that a consumer that keeps up between batches never loses a packet to the queue.
        batchPackets: Math.max(1, Math.min(BATCH_PACKETS, queueSize >> 1)),
        clock: options.clock,
        makeCounter: (linkType) =>
          createFrameCounter({
            stats,
            linkType,
            originPrefix: `pcap ${iface}`,
            iface,
            where: iface,
            logger,
            clock,
            onReject: options.onReject,
            ...(local !== undefined && { local }),
          }),
        onPacket,
        onError,
        ...(options.ipv4Hits !== undefined && { ipv4Hits: options.ipv4Hits }),
      });
    } catch (error) {
      closeHandles();
      throw error;
    }
    handles.set(iface, opened);
    linkTypes.set(iface, opened.linkType);
    if (opened.warning !== undefined) {
      logger.warn(
        { event: "source.warning", source: `pcap ${iface}` },
        `libpcap: ${opened.warning}`,
      );
    }
  }
  logger.debug(
    {
      event: "source.opened",
      interfaces: [...linkTypes.keys()],
      linkTypes: [...linkTypes.values()],
    },
    "capture opened",
  );

  const onAbort = (): void => {
    void capture.close();
  };
  const capture: Capture<T> = {
    stats,
    linkTypes,
    pcapStats(): PcapStats {
      const current: Record<string, PcapInterfaceStats> = { ...finalStats };
      for (const [iface, h] of handles) current[iface] = h.stats();
      return sumPcapStats(current);
    },
    [Symbol.asyncIterator]: (): AsyncIterator<T> => queue,
    close(): Promise<void> {
      if (closed) return Promise.resolve();
      closed = true;
      options.signal?.removeEventListener("abort", onAbort);
      closeHandles();
      queue.end();
      return Promise.resolve();
    },
  };
  if (options.signal?.aborted === true) onAbort();
  else options.signal?.addEventListener("abort", onAbort, { once: true });
  return capture;
}
