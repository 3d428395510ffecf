/**
 * The columns of the allocation-free lane (issue #20): the IPv4 and IPv6 hits of one capture
 * batch, read by `readIpv4Hit` and `readIpv6Hit`, kept as numbers and handed on as one `HitColumns` before the batch buffer is
 * reused. A hit becomes a `KnockHit` only when the consumer asks for it (`hit(i)`: an accepted
 * knock, a logged rejection, `-debug`), by decoding its frame again, so it is the same hit the
 * object lane would have made.
 */
import type { HitColumns, KnockHit } from "@portknock/core";
import { InternalError } from "@portknock/core";
import type { DecodedPacket } from "./decode-frame.ts";
import type { FrameCounter } from "./frame-counter.ts";

/** Where a live capture hands the hits it reads with `readIpv4Hit`. */
export interface Ipv4HitSink {
  /**
   * Whether a packet with these fields is a hit (protocol 6 or 17, TCP flags 0 for UDP); the
   * sink counts it either way.
   */
  isHit(protocol: number, dstPort: number, tcpFlags: number): boolean;
  /** The `KnockHit` of a decoded packet, for `hit(i)`. */
  toHit(packet: DecodedPacket): KnockHit;
  /**
   * A batch of hits, in capture order, synchronously: the columns and the frames behind
   * `hit(i)` are valid only during the call.
   */
  onColumns(columns: HitColumns): void;
}

/** The hits of the batch being read. */
export interface Ipv4HitBatch {
  /**
   * Adds a hit: source as an int (`>>> 0` gives the address), ports (source port -1 for UDP),
   * TCP sequence number as an int (`>>> 0` gives it; ignored for UDP), time (ms, in `time[0]`:
   * not boxed per call), frame number.
   */
  add(
    src: number,
    dstPort: number,
    srcPort: number,
    seq: number,
    time: Float64Array,
    frame: number,
    start: number,
    caplen: number,
  ): void;
  /**
   * `add` for an IPv6 source: its four words are `addr[at]` to `addr[at + 3]` (`readIpv6Hit`'s
   * `HIT6_SRC`).
   */
  addV6(
    addr: Int32Array,
    at: number,
    dstPort: number,
    srcPort: number,
    seq: number,
    time: Float64Array,
    frame: number,
    start: number,
    caplen: number,
  ): void;
  /** Hands the hits added since the last flush to the sink, if any. */
  flush(): void;
}

/**
 * Creates the batch for up to `capacity` hits per flush, whose frames are read from `bytes` and
 * decoded again by `counter` when asked for.
 */
export function createIpv4HitBatch(
  capacity: number,
  bytes: Uint8Array,
  counter: FrameCounter,
  sink: Ipv4HitSink,
): Ipv4HitBatch {
  const v4 = new Float64Array(capacity);
  const v6 = new Int32Array(4 * capacity);
  let withV6 = false; // a hit of this batch is IPv6: hand `v6` on
  const dstPort = new Int32Array(capacity);
  const srcPort = new Int32Array(capacity);
  const seqs = new Float64Array(capacity);
  const timesMs = new Float64Array(capacity);
  const frames = new Float64Array(capacity);
  const starts = new Int32Array(capacity);
  const caplens = new Int32Array(capacity);
  let length = 0;
  const hit = (i: number): KnockHit => {
    const start = starts[i]!;
    const packet = counter.decodeAgain(
      bytes.subarray(start, start + caplens[i]!),
      timesMs[i]!,
      frames[i]!,
    );
    if (packet === undefined) {
      throw new InternalError(
        `frame #${frames[i]} was read as a hit but does not decode`,
      );
    }
    return sink.toHit(packet);
  };
  return {
    add(src, dst, sport, seq, time, frame, start, caplen): void {
      if (length === capacity) this.flush();
      v4[length] = src >>> 0;
      dstPort[length] = dst;
      srcPort[length] = sport;
      seqs[length] = sport < 0 ? -1 : seq >>> 0;
      timesMs[length] = time[0]!;
      frames[length] = frame;
      starts[length] = start;
      caplens[length] = caplen;
      length++;
    },
    addV6(addr, at, dst, sport, seq, time, frame, start, caplen): void {
      if (length === capacity) this.flush();
      v4[length] = -2;
      v6[4 * length] = addr[at]!;
      v6[4 * length + 1] = addr[at + 1]!;
      v6[4 * length + 2] = addr[at + 2]!;
      v6[4 * length + 3] = addr[at + 3]!;
      withV6 = true;
      dstPort[length] = dst;
      srcPort[length] = sport;
      seqs[length] = sport < 0 ? -1 : seq >>> 0;
      timesMs[length] = time[0]!;
      frames[length] = frame;
      starts[length] = start;
      caplens[length] = caplen;
      length++;
    },
    flush(): void {
      if (length === 0) return;
      const columns: HitColumns = {
        length,
        v4,
        ...(withV6 && { v6 }),
        dstPort,
        srcPort,
        seq: seqs,
        timeMs: timesMs[0]!,
        timesMs,
        hit,
      };
      length = 0;
      withV6 = false;
      sink.onColumns(columns);
    },
  };
}
