/**
 * Kernel SYN retransmits count once (spec: daemon.md §1): a TCP packet equal in (source address,
 * source port, destination port, sequence number) to one seen less than `windowMs` earlier is a
 * duplicate. The spec names source, source port and sequence number; the destination port is
 * added so that a raw-socket client reusing one port and sequence number for every SYN of a knock
 * is not collapsed. UDP packets (no sequence number) are never duplicates: a client may
 * legitimately send the same port twice from one socket. Pure; time from the injected clock.
 *
 * Memory and time: a fixed open-addressing table in typed arrays, allocated once (`capacity`
 * entries, 20 bytes each): no allocation per packet and no rehashing pause on the capture path (a
 * pause longer than the kernel ring can cover loses packets). An entry older than `windowMs` is
 * free; when all 8 slots a key may use hold live entries (a flood of distinct SYNs), the oldest is
 * overwritten, so a retransmit can then pass as a second hit, never the reverse. The source
 * address is kept as a 32-bit hash: two SYNs from different sources with the same ports and
 * sequence number within the window collide with probability 2⁻³².
 */
import type { Clock } from "@portknock/core";
import type { DecodedPacket } from "./decode-frame.ts";

/** Options of `createSynDedupe`. */
export interface SynDedupeOptions {
  /** How long an identical SYN counts as a retransmit, in ms. Default 3000. */
  windowMs?: number;
  clock: Clock;
  /** Table entries (rounded up to a power of two). Default 131,072 (2.6 MB). */
  capacity?: number;
}

/** A stateful duplicate test. */
export interface SynDedupe {
  /**
   * Whether `packet` repeats one seen less than `windowMs` ago; remembers it either way (so a
   * chain of retransmits each less than `windowMs` apart counts once). Never throws.
   */
  isDuplicate(
    packet: Pick<DecodedPacket, "srcIp" | "srcPort" | "dstPort" | "seq">,
  ): boolean;
  /** Entries younger than `windowMs` (counted on demand: for tests and counters). */
  readonly size: number;
}

const PROBES = 8;

/** FNV-1a over the UTF-16 code units of `text`. */
function hashText(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  }
  return h >>> 0;
}

/** Creates a SYN dedupe filter. Throws `RangeError` for a non-positive window or capacity. */
export function createSynDedupe(options: SynDedupeOptions): SynDedupe {
  const windowMs = options.windowMs ?? 3000;
  const { clock } = options;
  if (!(windowMs > 0)) {
    throw new RangeError(
      `windowMs must be a positive number of ms, got ${windowMs}`,
    );
  }
  const wanted = options.capacity ?? 131_072;
  if (!Number.isInteger(wanted) || wanted < PROBES || wanted > 1 << 26) {
    throw new RangeError(
      `capacity must be an integer from ${PROBES} to ${1 << 26}, got ${wanted}`,
    );
  }
  let capacity = PROBES;
  while (capacity < wanted) capacity *= 2;
  const mask = capacity - 1;
  const ips = new Uint32Array(capacity);
  const ports = new Uint32Array(capacity);
  const seqs = new Uint32Array(capacity);
  // -Infinity marks a free slot; times are epoch ms.
  const times = new Float64Array(capacity).fill(-Infinity);

  return {
    isDuplicate(packet): boolean {
      const seq = packet.seq;
      if (seq === undefined) return false;
      const now = clock.now();
      const ip = hashText(packet.srcIp);
      const pp = ((packet.srcPort << 16) | packet.dstPort) >>> 0;
      let h = Math.imul(ip ^ Math.imul(pp, 0x9e3779b1), 0x85ebca6b);
      h = Math.imul(h ^ seq ^ (h >>> 13), 0xc2b2ae35);
      h = (h ^ (h >>> 16)) & mask;
      let victim = h;
      let victimTime = Infinity;
      for (let i = 0; i < PROBES; i++) {
        const s = (h + i) & mask;
        const t = times[s] as number;
        if (
          ips[s] === ip &&
          ports[s] === pp &&
          seqs[s] === seq &&
          t > -Infinity
        ) {
          times[s] = now;
          return now >= t && now - t < windowMs;
        }
        // A free slot, or an entry out of the window (or from a clock that went back), is reusable.
        const age = now - t;
        const reusable = age >= windowMs || age < 0 ? -Infinity : t;
        if (reusable < victimTime) {
          victim = s;
          victimTime = reusable;
        }
      }
      ips[victim] = ip;
      ports[victim] = pp;
      seqs[victim] = seq;
      times[victim] = now;
      return false;
    },
    get size(): number {
      const now = clock.now();
      let n = 0;
      for (let s = 0; s < capacity; s++) {
        const age = now - (times[s] as number);
        if (age >= 0 && age < windowMs) n++;
      }
      return n;
    },
  };
}
