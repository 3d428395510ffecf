/**
 * This host's addresses, per interface, for the capture's "addressed to us" rule (issue #16): a
 * bridge port, a veth or a tap sees frames for other hosts even without promiscuous mode, and
 * those are no knocks. Read from `os.networkInterfaces()` (~0.2 ms a call, measured: too dear per
 * packet, cheap once a second), at the first packet, every `refreshMs` after, and at most once
 * per `missRefreshMs` when a destination is not found (an address just added counts within a
 * second). Times are the packets' (ms); a clock that goes back reads again.
 */
import type { NetworkInterfaceInfo } from "node:os";
import { networkInterfaces } from "node:os";
import { formatIpv4, formatIpv6, parseIp } from "@portknock/core";

/** The host's addresses, refreshed as packets come. */
export interface LocalAddresses {
  /**
   * Whether `ip` (canonical text) is one of `iface`'s addresses, or any interface's when `iface`
   * is undefined or `any`. A loopback interface owns its whole 127.0.0.0/8.
   */
  isLocal(iface: string | undefined, ip: string, nowMs: number): boolean;
  /** Whether `ip` is an address of any interface of this host (127.0.0.0/8 and ::1 included). */
  isOwn(ip: string, nowMs: number): boolean;
  /** Whether `iface` is a loopback interface (false for `any` and unknown names). */
  isLoopback(iface: string | undefined, nowMs: number): boolean;
}

/** Options of `createLocalAddresses`. */
export interface LocalAddressesOptions {
  /** Read again after this long (ms). Default 60,000. */
  refreshMs?: number;
  /** Read again on a miss at most this often (ms). Default 1,000. */
  missRefreshMs?: number;
  /** The table's source. Default `os.networkInterfaces` (of this process's network namespace). */
  read?: () => NodeJS.Dict<NetworkInterfaceInfo[]>;
}

interface Table {
  byIface: Map<string, Set<string>>;
  all: Set<string>;
  loopback: Set<string>;
}

function canonical(text: string): string | undefined {
  const bytes = parseIp(text.replace(/%.*$/, ""));
  if (bytes === undefined) return undefined;
  return bytes.length === 4 ? formatIpv4(bytes) : formatIpv6(bytes);
}

function readTable(read: () => NodeJS.Dict<NetworkInterfaceInfo[]>): Table {
  const table: Table = {
    byIface: new Map(),
    all: new Set(),
    loopback: new Set(),
  };
  for (const [name, infos] of Object.entries(read())) {
    const set = new Set<string>();
    for (const info of infos ?? []) {
      const ip = canonical(info.address);
      if (ip === undefined) continue;
      set.add(ip);
      table.all.add(ip);
      if (info.internal) table.loopback.add(name);
    }
    table.byIface.set(name, set);
  }
  return table;
}

const isLoopbackV4 = (ip: string): boolean => ip.startsWith("127.");

/** Creates the table; nothing is read until the first question. */
export function createLocalAddresses(
  options: LocalAddressesOptions = {},
): LocalAddresses {
  const refreshMs = options.refreshMs ?? 60_000;
  const missRefreshMs = options.missRefreshMs ?? 1000;
  const read = options.read ?? networkInterfaces;
  let table: Table | undefined;
  let readAt = -Infinity;
  const fresh = (nowMs: number): Table => {
    if (table === undefined || nowMs - readAt >= refreshMs || nowMs < readAt) {
      table = readTable(read);
      readAt = nowMs;
    }
    return table;
  };
  const has = (t: Table, iface: string | undefined, ip: string): boolean => {
    const set =
      iface === undefined || iface === "any" ? t.all : t.byIface.get(iface);
    if (set === undefined) return false;
    if (set.has(ip)) return true;
    return (
      isLoopbackV4(ip) &&
      (iface === undefined || iface === "any" || t.loopback.has(iface))
    );
  };
  const lookup = (
    iface: string | undefined,
    ip: string,
    nowMs: number,
  ): boolean => {
    if (has(fresh(nowMs), iface, ip)) return true;
    if (nowMs - readAt < missRefreshMs) return false;
    table = readTable(read);
    readAt = nowMs;
    return has(table, iface, ip);
  };
  return {
    isLocal: lookup,
    isOwn: (ip, nowMs) => lookup(undefined, ip, nowMs),
    isLoopback: (iface, nowMs) =>
      iface !== undefined && fresh(nowMs).loopback.has(iface),
  };
}
