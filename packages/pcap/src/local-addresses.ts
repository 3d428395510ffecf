/**
 * This host's addresses, per interface, for the capture's "addressed to us" rule (issue #16): a
 * bridge port, a veth or a tap sees frames for other hosts even without promiscuous mode, and
 * those are no knocks. Read from `os.networkInterfaces()` (~0.2 ms a call, measured: too dear per
 * packet, cheap once a second), at the first packet, every `refreshMs` after, and at most once
 * per `missRefreshMs` when a destination is not found (an address just added counts within a
 * second). Times are the packets' (ms); a clock that goes back reads again. IPv4 addresses are
 * also kept as numbers, for the allocation-free lane (issue #20: `isLocalV4`, `isOwnV4`, the same
 * answers and the same reads as `isLocal` and `isOwn` on the address's text), and IPv6 addresses as
 * four 32-bit words (`checkV6`).
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
  /**
   * `isLocal` for an IPv4 address given as its number in a signed 32-bit int (`n | 0`, as
   * `readIpv4Hit` reads it: an int V8 passes without boxing); allocates nothing.
   */
  isLocalV4(iface: string | undefined, ip: number, nowMs: number): boolean;
  /** `isOwn` for an IPv4 address given as `isLocalV4` takes it; allocates nothing. */
  isOwnV4(ip: number, nowMs: number): boolean;
  /**
   * A live capture's address rules on an IPv4 packet from `src` to `dst` (as `isLocalV4` takes
   * them) captured on `iface` (issue #20's lane): `FRAME_MARTIAN_SOURCE` when `iface` is named,
   * not loopback, and `src` is our own; else `FRAME_NOT_FOR_US` when `dst` is not `iface`'s;
   * else undefined. The same questions in the same order as `isLoopback`, `isOwnV4`,
   * `isLocalV4` (so the same reads), in one call. The packet's time (ms) is `time[0]`: a
   * double passed as an argument is boxed by V8 (16 bytes per packet), one read from an array
   * is not.
   */
  checkV4(
    iface: string | undefined,
    src: number,
    dst: number,
    time: Float64Array,
  ): "FRAME_MARTIAN_SOURCE" | "FRAME_NOT_FOR_US" | undefined;
  /**
   * `checkV4` for an IPv6 packet (`readIpv6Hit`'s lane): its source's four 32-bit words
   * (big-endian, as signed ints) are `addr[0..3]`, its destination's `addr[4..7]`. The same
   * answers and the same reads as `isLoopback`, `isOwn` and `isLocal` on their texts; allocates
   * nothing.
   */
  checkV6(
    iface: string | undefined,
    addr: Int32Array,
    time: Float64Array,
  ): "FRAME_MARTIAN_SOURCE" | "FRAME_NOT_FOR_US" | undefined;
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
  /** The IPv4 addresses of `byIface` and `all` as signed ints (a few each: scanned). */
  v4ByIface: Map<string, Int32Array>;
  v4All: Int32Array;
  /** The IPv6 addresses, four words each (`checkV6`). */
  v6ByIface: Map<string, Int32Array>;
  v6All: Int32Array;
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
    v4All: new Int32Array(0),
    v6ByIface: new Map(),
    v6All: new Int32Array(0),
  };
  const all: number[] = [];
  const all6: number[] = [];
  for (const [name, infos] of Object.entries(read())) {
    const set = new Set<string>();
    const v4: number[] = [];
    const v6: number[] = [];
    for (const info of infos ?? []) {
      const ip = canonical(info.address);
      if (ip === undefined) continue;
      set.add(ip);
      table.all.add(ip);
      if (info.internal) table.loopback.add(name);
      const n = ipv4Int(ip);
      if (n !== undefined) {
        v4.push(n);
        all.push(n);
      } else {
        pushIpv6Words(ip, v6);
        pushIpv6Words(ip, all6);
      }
    }
    table.byIface.set(name, set);
    table.v4ByIface.set(name, Int32Array.from(v4));
    table.v6ByIface.set(name, Int32Array.from(v6));
  }
  table.v4All = Int32Array.from(all);
  table.v6All = Int32Array.from(all6);
  return table;
}

/** Appends the four words of canonical IPv6 text `ip` to `out`. */
function pushIpv6Words(ip: string, out: number[]): void {
  const bytes = parseIp(ip);
  if (bytes === undefined || bytes.length !== 16) return;
  for (let i = 0; i < 16; i += 4)
    out.push(
      (bytes[i]! << 24) |
        (bytes[i + 1]! << 16) |
        (bytes[i + 2]! << 8) |
        bytes[i + 3]!,
    );
}

/** Whether `list` (four words per address) holds the address at `addr[at..at + 3]`. */
function holds6(list: Int32Array, addr: Int32Array, at: number): boolean {
  const w0 = addr[at]!;
  for (let i = 0; i < list.length; i += 4)
    if (
      list[i] === w0 &&
      list[i + 1] === addr[at + 1] &&
      list[i + 2] === addr[at + 2] &&
      list[i + 3] === addr[at + 3]
    )
      return true;
  return false;
}

/** A canonical IPv4 text's number as a signed int (`isLocalV4`), or undefined for IPv6 text. */
function ipv4Int(ip: string): number | undefined {
  const bytes = parseIp(ip);
  if (bytes === undefined || bytes.length !== 4) return undefined;
  return (bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!;
}

const isLoopbackV4 = (ip: string): boolean => ip.startsWith("127.");

function holds(list: Int32Array, ip: number): boolean {
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
  // checkV4's last interface's list and loopback flag, for the table they were read from.
  let cached: Table | undefined;
  let cachedIface: string | undefined;
  let cachedList: Int32Array | undefined;
  let cachedList6: Int32Array | undefined;
  let cachedLoopback = false;
  const select = (t: Table, iface: string | undefined): void => {
    if (t === cached && iface === cachedIface) return;
    const named = iface !== undefined && iface !== "any";
    cachedList = named ? t.v4ByIface.get(iface) : t.v4All;
    cachedList6 = named ? t.v6ByIface.get(iface) : t.v6All;
    cachedLoopback = named && t.loopback.has(iface);
    cached = t;
    cachedIface = iface;
  };
  // hasV4 (for `iface` named, or not) through the cache.
  const hasIfaceV4 = (t: Table, iface: string, ip: number): boolean => {
    select(t, iface);
    if (cachedList === undefined) return false;
    if (holds(cachedList, ip)) return true;
    return ip >>> 24 === 127 && cachedLoopback;
  };
  const hasAnyV4 = (t: Table, ip: number): boolean =>
    holds(t.v4All, ip) || ip >>> 24 === 127;
  const checkV4 = (
    iface: string | undefined,
    src: number,
    dst: number,
    time: Float64Array,
  ): "FRAME_MARTIAN_SOURCE" | "FRAME_NOT_FOR_US" | undefined => {
    const nowMs = time[0]!;
    // fresh(), inline (no double passed on). At one time it reads at most once: this stands
    // for each question's call.
    if (table === undefined || nowMs - readAt >= refreshMs || nowMs < readAt) {
      table = readTable(read);
      readAt = nowMs;
    }
    let t = table;
    const named = iface !== undefined && iface !== "any";
    if (named) {
      select(t, iface);
      if (!cachedLoopback) {
        let own = hasAnyV4(t, src); // isOwnV4
        if (!own && nowMs - readAt >= missRefreshMs) {
          t = table = readTable(read);
          readAt = nowMs;
          own = hasAnyV4(t, src);
        }
        if (own) return "FRAME_MARTIAN_SOURCE";
      }
    }
    // isLocalV4
    let local = named ? hasIfaceV4(t, iface, dst) : hasAnyV4(t, dst);
    if (!local && nowMs - readAt >= missRefreshMs) {
      t = table = readTable(read);
      readAt = nowMs;
      local = named ? hasIfaceV4(t, iface, dst) : hasAnyV4(t, dst);
    }
    return local ? undefined : "FRAME_NOT_FOR_US";
  };
  // checkV4 on words: `has` of IPv6 text is the set's answer alone (no loopback prefix).
  const hasIfaceV6 = (t: Table, iface: string, addr: Int32Array): boolean => {
    select(t, iface);
    return cachedList6 !== undefined && holds6(cachedList6, addr, 4);
  };
  const checkV6 = (
    iface: string | undefined,
    addr: Int32Array,
    time: Float64Array,
  ): "FRAME_MARTIAN_SOURCE" | "FRAME_NOT_FOR_US" | undefined => {
    const nowMs = time[0]!;
    if (table === undefined || nowMs - readAt >= refreshMs || nowMs < readAt) {
      table = readTable(read);
      readAt = nowMs;
    }
    let t = table;
    const named = iface !== undefined && iface !== "any";
    if (named) {
      select(t, iface);
      if (!cachedLoopback) {
        let own = holds6(t.v6All, addr, 0); // isOwn
        if (!own && nowMs - readAt >= missRefreshMs) {
          t = table = readTable(read);
          readAt = nowMs;
          own = holds6(t.v6All, addr, 0);
        }
        if (own) return "FRAME_MARTIAN_SOURCE";
      }
    }
    // isLocal
    let local = named ? hasIfaceV6(t, iface, addr) : holds6(t.v6All, addr, 4);
    if (!local && nowMs - readAt >= missRefreshMs) {
      t = table = readTable(read);
      readAt = nowMs;
      local = named ? hasIfaceV6(t, iface, addr) : holds6(t.v6All, addr, 4);
    }
    return local ? undefined : "FRAME_NOT_FOR_US";
  };
  return {
    isLocal: lookup,
    isOwn: (ip, nowMs) => lookup(undefined, ip, nowMs),
    isLocalV4: lookupV4,
    isOwnV4: (ip, nowMs) => lookupV4(undefined, ip, nowMs),
    checkV4,
    checkV6,
    isLoopback: (iface, nowMs) =>
      iface !== undefined && fresh(nowMs).loopback.has(iface),
  };
}
