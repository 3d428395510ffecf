/**
 * The live half of network mode (spec: daemon.md §1): libpcap captures (through `cap`) on one or
 * more interfaces with a BPF filter, merged into one stream of decoded packets. `cap` calls back
 * once per packet on the main loop with the bytes in one reused buffer, so each frame is decoded
 * at once and only the small decoded packet is queued; the queue is bounded (the newest packets
 * are dropped and counted when the consumer lags). `cap` has no `pcap_stats`: drops inside the
 * kernel cannot be counted here.
 */
import type { Logger } from "@portknock/config";
import { noopLogger } from "@portknock/config";
import type { Clock } from "@portknock/logsource";
import { createBoundedQueue } from "./bounded-queue.ts";
import type { CapHandle } from "./cap-binding.ts";
import { abandonHandle, loadCap } from "./cap-binding.ts";
import type { DecodedPacket } from "./decode-frame.ts";
import { PcapError } from "./errors.ts";
import type { CaptureStats, FrameRejectHandler } from "./frame-counter.ts";
import { createCaptureStats, createFrameCounter } from "./frame-counter.ts";
import type { LinkType } from "./link-type.ts";
import { linkTypeFromCap } from "./link-type.ts";

/** Options of `openCapture`. */
export interface OpenCaptureOptions<T = DecodedPacket> {
  /** Interface names (`lo`, `eth0`), or `any` (Linux: every interface, cooked frames). */
  interfaces: readonly string[];
  /** libpcap filter expression (`buildBpfFilter`); `""` captures everything. */
  filter: string;
  /** Bytes of each frame kept (`snapshotsize`). Default 1500; 64–262144. */
  snapshotSize?: number;
  /**
   * libpcap's kernel ring per interface, in bytes (all of it resident). Default 16 MiB. `cap`
   * forces a 65535-byte snap length and immediate mode, so libpcap uses TPACKET_V2 with one
   * 128 KiB slot per packet: the ring holds `bufferBytes / 128 KiB` packets (16 MiB: 128) while
   * JavaScript is busy; more arriving meanwhile are lost in the kernel, uncounted.
   */
  bufferBytes?: number;
  /** Decoded packets waiting for the consumer before new ones are dropped. Default 10,000. */
  queueSize?: number;
  /** Closes the capture; the iteration ends after the packets already queued. */
  signal?: AbortSignal;
  /** Packet times and the rejection-log rate limit. Default `Date.now`. */
  clock?: Clock;
  logger?: Logger;
  /** Called for every rejected frame (after counting). */
  onReject?: FrameRejectHandler;
  /**
   * Runs on each decoded packet inside the libpcap callback, before queueing: what to queue, or
   * undefined to drop the packet there (no queue slot, no promise). Default: the packet itself.
   * If it throws, the capture closes and the iteration rejects with that error.
   */
  map?: (packet: DecodedPacket) => T | undefined;
}

/** Decoded packets (or what `map` made of them) from interfaces or a file; iterate once. */
export interface Capture<T = DecodedPacket> extends AsyncIterable<T> {
  /** Live counters (summed over interfaces). */
  readonly stats: CaptureStats;
  /** The link type of each interface (or of the file). */
  readonly linkTypes: ReadonlyMap<string, LinkType>;
  /** Stops capturing (idempotent); the iteration ends after the packets already queued. */
  close(): Promise<void>;
}

const systemClock: Clock = { now: () => Date.now() };

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
 * Opens a capture on every interface of `options.interfaces` with `options.filter` (one `cap`
 * handle each; packets are merged in arrival order). Packets are numbered per interface, every
 * callback counting: origins are `pcap IFACE #N`. Throws `PcapError` `PCAP_UNAVAILABLE` (no
 * `cap`) or `PCAP_OPEN_FAILED` (libpcap refused the interface or the filter, missing privilege,
 * or a link type `decodeFrame` cannot read), with every handle already opened closed again;
 * `TypeError`/`RangeError` for bad options.
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
    options.bufferBytes ?? 16 << 20,
    65_536,
    1 << 30,
  );
  const queueSize = checkInt(
    "queueSize",
    options.queueSize ?? 10_000,
    1,
    10_000_000,
  );
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? noopLogger;
  const stats = createCaptureStats();
  const linkTypes = new Map<string, LinkType>();
  const handles: CapHandle[] = [];
  let closed = false;

  const closeHandles = (): void => {
    for (const h of handles.splice(0)) {
      h.removeAllListeners("packet");
      h.close();
    }
  };
  const queue = createBoundedQueue<T>(queueSize, () => {
    void capture.close();
  });
  const map =
    options.map ?? ((packet: DecodedPacket): T => packet as unknown as T);

  const cap = loadCap();
  for (const iface of options.interfaces) {
    const handle = cap.createHandle();
    const buffer = Buffer.alloc(snapshotSize);
    let linkName: string;
    try {
      linkName = handle.open(iface, options.filter, bufferBytes, buffer);
    } catch (error) {
      abandonHandle(handle);
      closeHandles();
      throw new PcapError(
        "PCAP_OPEN_FAILED",
        `cannot capture on ${JSON.stringify(iface)} with filter ${JSON.stringify(options.filter).slice(0, 200)}: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    }
    handles.push(handle);
    const linkType = linkTypeFromCap(linkName);
    if (linkType === undefined) {
      closeHandles();
      throw new PcapError(
        "PCAP_OPEN_FAILED",
        `cannot decode the frames of ${JSON.stringify(iface)}: link type ${JSON.stringify(linkName)} is not supported (Ethernet, Linux cooked, raw IP and BSD loopback are)`,
      );
    }
    linkTypes.set(iface, linkType);
    const counter = createFrameCounter({
      stats,
      linkType,
      originPrefix: `pcap ${iface}`,
      iface,
      where: iface,
      logger,
      clock,
      onReject: options.onReject,
    });
    handle.on("packet", (length: number, truncated: boolean) => {
      const packet = counter.take(
        buffer.subarray(0, length),
        clock.now(),
        truncated,
      );
      if (packet === undefined || closed) return;
      let item: T | undefined;
      try {
        item = map(packet);
      } catch (error) {
        // Never let an exception escape into cap's native callback.
        queue.fail(error instanceof Error ? error : new Error(String(error)));
        void capture.close();
        return;
      }
      if (item !== undefined && !queue.push(item))
        stats.dropped = queue.dropped;
    });
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
