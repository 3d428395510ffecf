/**
 * This host's addresses, per interface, for the capture's "addressed to us" rule (issue #16): a
 * bridge port, a veth or a tap sees frames for other hosts even without promiscuous mode, and
 * those are no knocks. Read from `os.networkInterfaces()` (~0.2 ms a call, measured: too dear per
 * packet, cheap once a second), at the first packet, every `refreshMs` after, and at most once
 * per `missRefreshMs` when a destination is not found (an address just added counts within a
 * second). Times are the packets' (ms); a clock that goes back reads again. IPv4 addresses are
 * also kept as numbers, for the allocation-free lane (issue #20: `isLocalV4`, `isOwnV4`, the same
 * answers and the same reads as `isLocal` and `isOwn` on the address's text).
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
  /** `isLocal` for an IPv4 address given as its number (0 to 2^32 - 1); allocates nothing. */
  isLocalV4(iface: string | undefined, ip: number, nowMs: number): boolean;
  /** `isOwn` for an IPv4 address given as its number (0 to 2^32 - 1); allocates nothing. */
  isOwnV4(ip: number, nowMs: number): boolean;
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
  /** The IPv4 addresses of `byIface` and `all` as numbers (a few each: scanned). */
  v4ByIface: Map<string, Uint32Array>;
  v4All: Uint32Array;
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
    v4ByIface: new Map(),
    v4All: new Uint32Array(0),
  };
  const all: number[] = [];
  for (const [name, infos] of Object.entries(read())) {
    const set = new Set<string>();
    const v4: number[] = [];
    for (const info of infos ?? []) {
      const ip = canonical(info.address);
      if (ip === undefined) continue;
      set.add(ip);
      table.all.add(ip);
      if (info.internal) table.loopback.add(name);
      const n = ipv4Number(ip);
      if (n >= 0) {
        v4.push(n);
        all.push(n);
      }
    }
    table.byIface.set(name, set);
    table.v4ByIface.set(name, Uint32Array.from(v4));
  }
  table.v4All = Uint32Array.from(all);
  return table;
}

/** A canonical IPv4 text's number, or -1 for IPv6 text. */
function ipv4Number(ip: string): number {
  const bytes = parseIp(ip);
  if (bytes === undefined || bytes.length !== 4) return -1;
  return (
    ((bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!) >>> 0
  );
}

const isLoopbackV4 = (ip: string): boolean => ip.startsWith("127.");

function holds(list: Uint32Array, ip: number): boolean {
  for (let i = 0; i < list.length; i++) if (list[i] === ip) return true;
  return false;
}

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
  // `has` on the number of an IPv4 address (`ip >>> 24 === 127`: `isLoopbackV4`).
  const hasV4 = (t: Table, iface: string | undefined, ip: number): boolean => {
    const list =
      iface === undefined || iface === "any" ? t.v4All : t.v4ByIface.get(iface);
    if (list === undefined) return false;
    if (holds(list, ip)) return true;
    return (
      ip >>> 24 === 127 &&
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
  // `lookup` on a number: the same reads at the same times.
  const lookupV4 = (
    iface: string | undefined,
    ip: number,
    nowMs: number,
  ): boolean => {
    if (hasV4(fresh(nowMs), iface, ip)) return true;
    if (nowMs - readAt < missRefreshMs) return false;
    table = readTable(read);
    readAt = nowMs;
    return hasV4(table, iface, ip);
  };
  return {
    isLocal: lookup,
    isOwn: (ip, nowMs) => lookup(undefined, ip, nowMs),
    isLocalV4: lookupV4,
    isOwnV4: (ip, nowMs) => lookupV4(undefined, ip, nowMs),
    isLoopback: (iface, nowMs) =>
      iface !== undefined && fresh(nowMs).loopback.has(iface),
  };
}
