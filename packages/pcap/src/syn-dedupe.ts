/**
 * Kernel SYN retransmits count once (spec: daemon.md §1): a TCP packet equal in (source address,
 * source port, destination port, sequence number) to one seen less than `windowMs` earlier is a
 * duplicate. The spec names source, source port and sequence number; the destination port is
 * added so that a raw-socket client reusing one port and sequence number for every SYN of a knock
 * is not collapsed. UDP packets (no sequence number) are never duplicates: a client may
 * legitimately send the same port twice from one socket. Pure; time from the injected clock.
 *
 * Memory: two generations of a map; a generation is retired when it is `windowMs` old, or early
 * when it holds `maxEntries` (a flood can then let a retransmit through as a second hit, never
 * the reverse). So at most `2 × maxEntries` entries, whatever the traffic.
 */
import type { Clock } from "@portknock/logsource";
import type { DecodedPacket } from "./decode-frame.ts";

/** Options of `createSynDedupe`. */
export interface SynDedupeOptions {
  /** How long an identical SYN counts as a retransmit, in ms. Default 3000. */
  windowMs?: number;
  clock: Clock;
  /** Entries per generation before it is retired early. Default 100,000. */
  maxEntries?: number;
}

/** A stateful duplicate test. */
export interface SynDedupe {
  /**
   * Whether `packet` repeats one seen less than `windowMs` ago; remembers it either way (so a
   * chain of retransmits each less than `windowMs` apart counts once).
   */
  isDuplicate(
    packet: Pick<DecodedPacket, "srcIp" | "srcPort" | "dstPort" | "seq">,
  ): boolean;
  /** Entries held. */
  readonly size: number;
}

/** Creates a SYN dedupe filter. Throws `RangeError` for a non-positive window or size. */
export function createSynDedupe(options: SynDedupeOptions): SynDedupe {
  const windowMs = options.windowMs ?? 3000;
  const maxEntries = options.maxEntries ?? 100_000;
  const { clock } = options;
  if (!(windowMs > 0)) {
    throw new RangeError(
      `windowMs must be a positive number of ms, got ${windowMs}`,
    );
  }
  if (!Number.isInteger(maxEntries) || maxEntries < 1) {
    throw new RangeError(
      `maxEntries must be a positive integer, got ${maxEntries}`,
    );
  }
  let current = new Map<string, number>();
  let previous = new Map<string, number>();
  let currentStart = -Infinity;
  return {
    isDuplicate(packet): boolean {
      if (packet.seq === undefined) return false;
      const now = clock.now();
      const age = now - currentStart;
      if (age >= windowMs || age < 0 || current.size >= maxEntries) {
        previous =
          age >= 2 * windowMs || age < 0 ? new Map<string, number>() : current;
        current = new Map();
        currentStart = now;
      }
      const key = `${packet.srcIp} ${packet.srcPort} ${packet.dstPort} ${packet.seq}`;
      const last = current.get(key) ?? previous.get(key);
      current.set(key, now);
      return last !== undefined && now >= last && now - last < windowMs;
    },
    get size(): number {
      return current.size + previous.size;
    },
  };
}
