/**
 * libpcap's own counters (`pcap_stats`) of a live capture: what the kernel let through the BPF
 * filter, and what it had to drop because the ring was full. The other counters of this package
 * (`CaptureStats`) count what reached JavaScript.
 */

/** `pcap_stats` of one interface, since it was opened (64-bit totals, never wrapping). */
export interface PcapInterfaceStats {
  /**
   * Packets that passed the BPF filter, including the dropped ones (Linux: `tp_packets`). Only
   * packets this host received: the copies of packets it sent (every packet on `lo` has one) are
   * ignored in the kernel.
   */
  received: number;
  /** Packets that passed the filter but were lost because the kernel ring was full. */
  dropped: number;
  /** Packets the interface or its driver dropped (Linux: the device's rx drop counters). */
  ifDropped: number;
}

/** `pcap_stats` of a capture: the sums, and each interface's. */
export interface PcapStats extends PcapInterfaceStats {
  /** By interface name, in the order they were opened. Empty for a replay. */
  interfaces: Record<string, PcapInterfaceStats>;
}

/** Counters of a capture without libpcap (a replay): all zero. */
export function emptyPcapStats(): PcapStats {
  return { received: 0, dropped: 0, ifDropped: 0, interfaces: {} };
}

/** Sums per-interface counters into a `PcapStats`. */
export function sumPcapStats(
  interfaces: Record<string, PcapInterfaceStats>,
): PcapStats {
  const total = emptyPcapStats();
  for (const [name, s] of Object.entries(interfaces)) {
    total.received += s.received;
    total.dropped += s.dropped;
    total.ifDropped += s.ifDropped;
    total.interfaces[name] = { ...s };
  }
  return total;
}
