/**
 * The data every hit source produces (spec: daemon.md §1) and the interface they share: the log
 * source (`@portknock/logsource`) and the packet source (`@portknock/pcap`) both yield `KnockHit`s.
 */

/** A packet the firewall logged or the capture saw: one port of a possible knock. */
export interface KnockHit {
  /** Source address: dotted quad, or IPv6 in canonical compressed form (RFC 5952). */
  srcIp: string;
  /** Destination port, 0–65535. */
  dstPort: number;
  /** Lower-case protocol (`tcp`, `udp`), when known. */
  protocol?: string;
  /** Input interface, when known and non-empty. */
  iface?: string;
  /** Destination address (normalised like `srcIp`), when known. */
  dstIp?: string;
  /** Source port, when known. */
  srcPort?: number;
  /** TCP sequence number (0 to 2^32 - 1), when known (network mode). */
  seq?: number;
  /** When the hit was seen (epoch ms, from the injected clock). */
  timeMs: number;
  /** Where the hit came from, for every log line about it: `/var/log/firewall:1234`, `eth0`. */
  origin: string;
}

/**
 * A source of hits: iterate it once; it ends when its input ends or when `close` is called
 * (idempotent) or its `AbortSignal` fires. `stats` are live counters of the medium.
 */
export interface HitSource<
  Stats extends object = object,
> extends AsyncIterable<KnockHit> {
  /** Live counters: what was read, yielded and rejected (by code). */
  readonly stats: Stats;
  /** Stops reading and releases the medium; the iteration ends. */
  close(): Promise<void>;
}

/**
 * A batch of hits in columns, in order: most of them as numbers (an IPv4 or IPv6 source and two ports),
 * built as `KnockHit`s only when asked for. The fast lane of `-replay` (logsource's
 * `nextColumns`) gives them and the detector's `pushColumns` takes them.
 */
export interface HitColumns {
  /** Hits in this batch. */
  readonly length: number;
  /**
   * The source of hit i as an IPv4 number (0 to 2^32 - 1), with its ports in `dstPort` and
   * `srcPort`; -1 when hit i is only available as `hit(i)` (it may still be IPv4); -2 when its
   * source is IPv6, in `v6`.
   */
  readonly v4: Float64Array;
  /**
   * The IPv6 source of hit i when `v4[i]` is -2: its four 32-bit words (big-endian, each as a
   * signed int, `>>> 0` gives it) at `v6[4i]` to `v6[4i + 3]`. Absent when no hit of the batch
   * has one.
   */
  readonly v6?: Int32Array;
  readonly dstPort: Int32Array;
  readonly srcPort: Int32Array;
  /**
   * The TCP sequence number of hit i (0 to 2^32 - 1), -1 when unknown (as `KnockHit.seq`: the
   * detector's retransmit rule uses it); when absent, no hit of the batch has one.
   */
  readonly seq?: Float64Array;
  /** When the batch was read: the time of each of its hits, unless `timesMs` is given. */
  readonly timeMs: number;
  /** The time of hit i (epoch ms), when hits have times of their own (a live capture's). */
  readonly timesMs?: Float64Array;
  /** Hit i, built on first use. */
  hit(i: number): KnockHit;
}
