/**
 * `@portknock/pcap`, loaded only when a configuration runs in network mode: a file-mode daemon
 * (and its `-replay`) never loads the capture package and its native addon (13 ms at start-up).
 */
import { InternalError } from "@portknock/core";
import type * as PcapPackage from "@portknock/pcap";

type Pcap = typeof PcapPackage;

let pcap: Pcap | undefined;

/** Loads the package (once). */
export async function loadPcap(): Promise<Pcap> {
  return (pcap ??= await import("@portknock/pcap"));
}

/**
 * The package, once `loadPcap` has resolved: `loadDaemon` awaits it for every network-mode
 * configuration, and network-mode code runs after that. Before it, a bug: `InternalError`.
 */
export function pcapModule(): Pcap {
  if (pcap === undefined) {
    throw new InternalError("@portknock/pcap is used before loadPcap()");
  }
  return pcap;
}
