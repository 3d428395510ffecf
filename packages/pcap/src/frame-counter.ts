/**
 * Counting and logging shared by live captures and file replays (spec: daemon.md §8): every frame
 * is counted; a frame that is not a TCP/UDP packet is a counted rejection, logged at most once
 * per reason per minute (with the number suppressed), never thrown.
 */
import type { Diagnostic, Logger } from "@portknock/core";
import type { Clock } from "@portknock/core";
import { createRateLimiter, formatIpv4, formatIpv6 } from "@portknock/core";
import type { DecodedPacket } from "./decode-frame.ts";
import { decodeFrame } from "./decode-frame.ts";
import type { FrameRejectCode } from "./errors.ts";
import { FRAME_REJECT_CODES } from "./errors.ts";
import type { LinkType } from "./link-type.ts";
import type { LocalAddresses } from "./local-addresses.ts";

/** Counters of a capture or replay. `seen = decoded + Σ rejections`. */
export interface CaptureStats {
  /** Frames delivered: one per libpcap callback, or one per file record. */
  seen: number;
  /** Frames decoded into TCP/UDP packets. */
  decoded: number;
  /** Frames longer than the snapshot size (decoded all the same when the headers fit). */
  truncated: number;
  /** Frames not decoded, by reason. */
  rejections: Record<FrameRejectCode, number>;
  /** Decoded packets dropped because the consumer lagged and the queue was full (live only). */
  dropped: number;
}

/**
 * Called for every rejected frame, after counting: its diagnostic, bytes (a view: copy it) and
 * origin (`pcap lo #N`).
 */
export type FrameRejectHandler = (
  diagnostic: Diagnostic<FrameRejectCode>,
  frame: Uint8Array,
  origin: string,
) => void;

/** New zeroed counters. */
export function createCaptureStats(): CaptureStats {
  const rejections = {} as Record<FrameRejectCode, number>;
  for (const code of FRAME_REJECT_CODES) rejections[code] = 0;
  return { seen: 0, decoded: 0, truncated: 0, rejections, dropped: 0 };
}

const REJECT_LOG_INTERVAL_MS = 60_000;
const LOGGED_BYTES = 64;

const MESSAGES: Record<FrameRejectCode, string> = {
  FRAME_TRUNCATED: "frame ends before the headers it needs",
  FRAME_UNSUPPORTED_LINK: "link type not supported",
  FRAME_NOT_IP: "frame carries neither IPv4 nor IPv6",
  FRAME_BAD_IP_HEADER: "malformed IP header",
  FRAME_FRAGMENT: "non-first IP fragment: no ports",
  FRAME_UNSUPPORTED_PROTOCOL: "neither TCP nor UDP",
  FRAME_BAD_TCP_HEADER: "TCP data offset below 5 words",
  FRAME_OUTGOING: "frame sent by this host",
  FRAME_MARTIAN_SOURCE:
    "a source no knocker can have (unspecified, multicast, broadcast, loopback from outside, this host's own address)",
  FRAME_NOT_FOR_US:
    "addressed to another host: not one of the interface's addresses",
};

/** Options of `createFrameCounter`. */
export interface FrameCounterOptions {
  stats: CaptureStats;
  linkType: LinkType;
  /** Origin prefix: `pcap lo` gives origins `pcap lo #N`. */
  originPrefix: string;
  /** The interface name (live), or undefined (file). */
  iface: string | undefined;
  /** Names the place in rejection diagnostics: the interface or the file. */
  where: string;
  logger: Logger;
  clock: Clock;
  onReject?: FrameRejectHandler;
  /**
   * Live: accept only packets addressed to one of `iface`'s addresses (else `FRAME_NOT_FOR_US`),
   * and, on an interface that is not loopback, none from this host's own addresses
   * (`FRAME_MARTIAN_SOURCE`). Undefined: every destination (a replay: whose addresses?).
   */
  local?: LocalAddresses;
}

/** Decodes and counts frames of one interface or file; the frame number is per counter. */
export interface FrameCounter {
  /** Counts frame number N+1; returns its packet, or undefined when rejected. */
  take(
    frame: Uint8Array,
    timeMs: number,
    truncated: boolean,
  ): DecodedPacket | undefined;
  /**
   * Counts frame number N+1, `b[start, start + caplen)`, as `take` does without decoding it: an
   * IPv4 packet `readIpv4Hit` read (`src`, `dst`: its addresses as it reads them, signed ints), so
   * only the address rules (`local`) are left to apply, numerically. Its time (ms) is `time[0]`
   * (see `LocalAddresses.checkV4`). Returns N+1, or 0 when they reject it (counted and reported
   * as `take` would). Allocates nothing unless it reports.
   */
  countIpv4(
    b: Uint8Array,
    start: number,
    caplen: number,
    time: Float64Array,
    truncated: boolean,
    src: number,
    dst: number,
  ): number;
  /**
   * `countIpv4` for an IPv6 packet `readIpv6Hit` read: its addresses' words are `addr[0..7]`
   * (source, destination: `LocalAddresses.checkV6`). Returns N+1, or 0 when the address rules
   * reject it (counted and reported as `take` would). Allocates nothing unless it reports.
   */
  countIpv6(
    b: Uint8Array,
    start: number,
    caplen: number,
    time: Float64Array,
    truncated: boolean,
    addr: Int32Array,
  ): number;
  /** Decodes frame number `n` (counted before) again, with its origin; counts nothing. */
  decodeAgain(
    frame: Uint8Array,
    timeMs: number,
    n: number,
  ): DecodedPacket | undefined;
}

/**
 * `pcap eth0 #N`: a frame's origin. The number is written with `toFixed(0)`, not `${n}`: V8 keeps
 * the decimal text of a number in its number-string cache (in old space), so a new frame number's
 * text per packet stayed reachable across the next scavenge and was promoted, ~24 bytes per packet
 * (issue #20: the ~12.8 KB promoted per scavenge under an IPv6 flood in the object lane);
 * `toFixed` bypasses the cache, and the text dies with its packet.
 */
function frameOrigin(prefix: string, n: number): string {
  return `${prefix} #${n.toFixed(0)}`;
}

function hex(bytes: Uint8Array): string {
  let s = "";
  const n = Math.min(bytes.length, LOGGED_BYTES);
  for (let i = 0; i < n; i++)
    s += (bytes[i] ?? 0).toString(16).padStart(2, "0");
  return bytes.length > n ? `${s}…` : s;
}

/** Creates a frame counter. */
export function createFrameCounter(options: FrameCounterOptions): FrameCounter {
  const { stats, linkType, originPrefix, iface, logger, clock, onReject } =
    options;
  const { local } = options;
  const limiter = createRateLimiter({
    clock,
    intervalMs: REJECT_LOG_INTERVAL_MS,
  });
  let frames = 0;
  const reject = (
    code: FrameRejectCode,
    srcIp: string | undefined,
    origin: string,
    frame: Uint8Array,
  ): void => {
    stats.rejections[code]++;
    report(code, srcIp, origin, frame, limiter.take(code));
  };
  // `skipped`: the limiter's answer (< 0: not logged).
  const report = (
    code: FrameRejectCode,
    srcIp: string | undefined,
    origin: string,
    frame: Uint8Array,
    skipped: number,
  ): void => {
    const message = MESSAGES[code];
    onReject?.(
      {
        code,
        severity: "warning",
        message,
        where: {
          kind: "packet",
          iface: options.where,
          srcIp: srcIp ?? "unknown",
        },
      },
      frame,
      origin,
    );
    if (skipped < 0) return;
    logger.warn(
      {
        event: "source.rejected",
        code,
        source: origin,
        ...(srcIp !== undefined && { ip: srcIp }),
        input: hex(frame),
        ...(skipped > 0 && { suppressed: skipped }),
      },
      message,
    );
  };
  return {
    take(frame, timeMs, truncated): DecodedPacket | undefined {
      stats.seen++;
      if (truncated) stats.truncated++;
      const origin = frameOrigin(originPrefix, ++frames);
      const r = decodeFrame(frame, linkType, { timeMs, origin, iface });
      if (r.ok) {
        const code = local && checkAddresses(local, r.packet, iface);
        if (code) {
          reject(code, r.packet.srcIp, origin, frame);
          return undefined;
        }
        stats.decoded++;
        return r.packet;
      }
      reject(r.code, r.srcIp, origin, frame);
      return undefined;
    },
    countIpv4(b, start, caplen, time, truncated, src, dst): number {
      stats.seen++;
      if (truncated) stats.truncated++;
      const n = ++frames;
      const code = local?.checkV4(iface, src, dst, time);
      if (code) {
        stats.rejections[code]++;
        const skipped = limiter.take(code);
        // Text only for a rejection someone hears of (onReject, or a log line the limiter lets by).
        if (onReject !== undefined || skipped >= 0) {
          const frame = b.subarray(start, start + caplen);
          report(
            code,
            formatIpv4(frame, 26),
            frameOrigin(originPrefix, n),
            frame,
            skipped,
          );
        }
        return 0;
      }
      stats.decoded++;
      return n;
    },
    countIpv6(b, start, caplen, time, truncated, addr): number {
      stats.seen++;
      if (truncated) stats.truncated++;
      const n = ++frames;
      const code = local?.checkV6(iface, addr, time);
      if (code) {
        stats.rejections[code]++;
        const skipped = limiter.take(code);
        if (onReject !== undefined || skipped >= 0) {
          const frame = b.subarray(start, start + caplen);
          report(
            code,
            formatIpv6(frame, 22),
            frameOrigin(originPrefix, n),
            frame,
            skipped,
          );
        }
        return 0;
      }
      stats.decoded++;
      return n;
    },
    decodeAgain(frame, timeMs, n): DecodedPacket | undefined {
      const origin = frameOrigin(originPrefix, n);
      const r = decodeFrame(frame, linkType, { timeMs, origin, iface });
      return r.ok ? r.packet : undefined;
    },
  };
}

/** The addressing rules of a live capture (`FrameCounterOptions.local`). */
function checkAddresses(
  local: LocalAddresses,
  packet: DecodedPacket,
  iface: string | undefined,
): FrameRejectCode | undefined {
  const t = packet.timeMs;
  // On `any`, a frame's interface is unknown: a packet between two of our addresses on lo is
  // normal, so the own-address rule needs a named interface that is not loopback.
  if (
    iface !== undefined &&
    iface !== "any" &&
    !local.isLoopback(iface, t) &&
    local.isOwn(packet.srcIp, t)
  ) {
    return "FRAME_MARTIAN_SOURCE";
  }
  return local.isLocal(iface, packet.dstIp, t) ? undefined : "FRAME_NOT_FOR_US";
}
