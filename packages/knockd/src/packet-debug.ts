/**
 * `knockd -debug` in network mode (issue #16): every decision about a captured packet, with its
 * reason, as a `debug` line — a rejected frame (`packet.rejected` with its `FRAME_*` code: not
 * for us, martian source, malformed, …), a packet that is no knock candidate
 * (`packet.outside-span`), one the ethfilter refused (`packet.filtered`), a hit (`packet.hit`;
 * the detector then logs its fate as `hit.*`). Bounded: at most `perSecond` lines a second; the
 * rest are counted and reported in one `packet.suppressed` line when the next second starts.
 */
import type { Clock, Diagnostic, Logger } from "@portknock/core";
import type {
  DecodedPacket,
  FrameRejectCode,
  PacketDecision,
} from "@portknock/pcap";

/** The hooks to give `createPacketHitSource` (`onReject`, `onDecision`). */
export interface PacketDebugLog {
  onReject(
    diagnostic: Diagnostic<FrameRejectCode>,
    frame: Uint8Array,
    origin: string,
  ): void;
  onDecision(decision: PacketDecision, packet: DecodedPacket): void;
}

const REASONS: Record<PacketDecision, string> = {
  hit: "a knock candidate: handed to the detector",
  "outside-span":
    "not a knock candidate (protocol, port outside the span, or TCP flags)",
  filtered: "refused by the ethfilter",
};

/** Creates the bounded debug log; `perSecond` default 100. */
export function createPacketDebugLog(options: {
  logger: Logger;
  clock: Clock;
  perSecond?: number;
}): PacketDebugLog {
  const { logger, clock } = options;
  const perSecond = options.perSecond ?? 100;
  let windowStart = -Infinity;
  let used = 0;
  let suppressed = 0;
  const admit = (): boolean => {
    const now = clock.now();
    if (now - windowStart >= 1000 || now < windowStart) {
      if (suppressed > 0) {
        logger.debug(
          { event: "packet.suppressed", suppressed },
          `${suppressed} more packet decisions not shown (at most ${perSecond} a second)`,
        );
      }
      windowStart = now;
      used = 0;
      suppressed = 0;
    }
    if (used < perSecond) {
      used++;
      return true;
    }
    suppressed++;
    return false;
  };
  return {
    onReject(diagnostic, _frame, origin): void {
      if (!admit()) return;
      logger.debug(
        {
          event: "packet.rejected",
          code: diagnostic.code,
          source: origin,
          ip:
            diagnostic.where.kind === "packet"
              ? diagnostic.where.srcIp
              : undefined,
        },
        diagnostic.message,
      );
    },
    onDecision(decision, packet): void {
      if (!admit()) return;
      logger.debug(
        {
          event: `packet.${decision}`,
          source: packet.origin,
          ip: packet.srcIp,
          dst: packet.dstIp,
          port: packet.dstPort,
          protocol: packet.protocol === 6 ? "tcp" : "udp",
        },
        REASONS[decision],
      );
    },
  };
}
