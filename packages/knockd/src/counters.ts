/**
 * The daemon's counters (daemon.md §8), assembled in one place: what the source read and rejected,
 * what the detector did with the hits, what the engine ran. `-replay` prints them, SIGUSR1 and
 * the stop log them. Counters of retired instances (SIGHUP) and reopened sources are kept, so the
 * numbers grow for the life of the process. `/metrics` (`metrics.ts`) serves the same numbers.
 */
import type { LogSourceStats } from "@portknock/logsource";
import type {
  PacketHitSource,
  PacketSourceStats,
  PcapStats,
} from "@portknock/pcap";
import type { DaemonCore, CoreCounters } from "./daemon-core.ts";

/** What a source read: lines or packets seen, and those rejected, by code. */
export interface SourceCounts {
  seen: number;
  rejections: Record<string, number>;
  /** Network mode: decoded packets that were no knock candidates, or that the ethfilter refused. */
  packets?: { outsideSpan: number; filtered: number };
}

/** The counters of a source that has not opened yet. */
export function emptySourceCounts(network: boolean): SourceCounts {
  return {
    seen: 0,
    rejections: {},
    ...(network && { packets: { outsideSpan: 0, filtered: 0 } }),
  };
}

/**
 * The daemon's counters. Network mode names packets as packets (issue #16): `packetsSeen`,
 * `packetsOutsideSpan`, `packetsFiltered` instead of `linesSeen`.
 */
export type DaemonCounters = Omit<CoreCounters, "refusals"> & {
  /** File mode: log lines read. */
  linesSeen?: number;
  /** Network mode: packets (frames) captured or replayed. */
  packetsSeen?: number;
  /** Network mode: decoded packets that are no knock candidates (protocol, port or TCP flags). */
  packetsOutsideSpan?: number;
  /** Network mode: knock candidates the `<ethfilter>` refused. */
  packetsFiltered?: number;
  /** Rejected lines or packets, and refused sealed knocks, by code. */
  rejections: Record<string, number>;
};

/** The counts of a log or packet source. */
export function sourceCounts(
  stats: LogSourceStats | PacketSourceStats,
): SourceCounts {
  if ("lines" in stats) {
    return { seen: stats.lines, rejections: nonZero(stats.rejections) };
  }
  return {
    seen: stats.capture.seen,
    rejections: nonZero(stats.capture.rejections),
    packets: { outsideSpan: stats.notInSpan, filtered: stats.filteredOut },
  };
}

/** The numbers of `b` added into a copy of `a`, nested objects included. */
export function addCounts<T extends object>(a: T, b: T): T {
  const out = { ...a } as Record<string, unknown>;
  for (const [k, v] of Object.entries(b)) {
    const prev = out[k];
    if (typeof v === "number") {
      out[k] = (typeof prev === "number" ? prev : 0) + v;
    } else if (v != null && typeof v === "object") {
      out[k] = addCounts(
        prev != null && typeof prev === "object" ? prev : {},
        v as object,
      );
    }
  }
  return out as T;
}

/** Tracks the counters of one daemon process across reloads and reopened sources. */
export interface CounterBook {
  /** The counters now, with the current core and source. */
  snapshot(core: DaemonCore, source: SourceCounts): DaemonCounters;
  /** Keeps the counts of a core that SIGHUP retires. */
  retireCore(core: DaemonCore): void;
  /** Keeps the counts of a source that is closed (to be reopened), its capture's included. */
  retireSource(source: SourceCounts, capture?: CaptureCounters): void;
  /**
   * Network mode's capture counters: those of closed captures plus `current`'s; undefined when
   * there has never been a capture.
   */
  capture(current: CaptureCounters | undefined): CaptureCounters | undefined;
}

/** Creates an empty book. */
export function createCounterBook(): CounterBook {
  let cores: CoreCounters | undefined;
  let sources: SourceCounts = { seen: 0, rejections: {} };
  let captures: CaptureCounters | undefined;
  return {
    snapshot(core, source): DaemonCounters {
      const c = cores ? addCounts(cores, core.counters()) : core.counters();
      const s = addCounts(sources, source);
      const { refusals, ...rest } = c;
      return {
        ...(s.packets
          ? {
              packetsSeen: s.seen,
              packetsOutsideSpan: s.packets.outsideSpan,
              packetsFiltered: s.packets.filtered,
            }
          : { linesSeen: s.seen }),
        ...rest,
        rejections: { ...s.rejections, ...nonZero(refusals) },
      };
    },
    retireCore(core): void {
      cores = cores ? addCounts(cores, core.counters()) : core.counters();
    },
    retireSource(source, capture): void {
      sources = addCounts(sources, source);
      if (capture) captures = captures ? addCounts(captures, capture) : capture;
    },
    capture(current): CaptureCounters | undefined {
      if (captures && current) return addCounts(captures, current);
      return current ?? captures;
    },
  };
}

/** Network mode: frames seen, frames lost before JavaScript, and libpcap's own counters. */
export interface CaptureCounters {
  seen: number;
  /** Frames dropped because JavaScript lagged behind the capture. */
  droppedInQueue: number;
  pcap: PcapStats;
}

/** The counters of a live capture (final values once it is closed). */
export function captureCounts(capture: PacketHitSource): CaptureCounters {
  return {
    seen: capture.stats.capture.seen,
    droppedInQueue: capture.stats.capture.dropped,
    pcap: capture.pcapStats(),
  };
}

function nonZero(
  counts: Readonly<Record<string, number | undefined>>,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(counts)) if (v) out[k] = v;
  return out;
}
