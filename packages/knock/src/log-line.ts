/**
 * Log-file mode (client.md): one line per port in `fileformat`, so a daemon in file mode can be
 * driven without a network. The default is a netfilter LOG line, as the kernel writes it through
 * syslog, that the daemon's built-in `iptables` logformat parses. Pure but for the random source
 * port, which `renderKnockLog` lets the caller choose.
 */
import { randomInt } from "node:crypto";
import { isIP } from "node:net";
import type { Diagnostic } from "@portknock/core";
import type { KnockCode } from "./codes.ts";

/** The placeholders of `fileformat`. */
export interface LogLineValues {
  date: string;
  host: string;
  ipclient: string;
  ipserver: string;
  port: number;
  protocol: "tcp" | "udp";
  interface: string;
  sport: number;
}

/** The default `fileformat` for TCP: a kernel LOG line with the `portknock ` prefix. */
export const DEFAULT_TCP_FORMAT =
  "{date} {host} kernel: portknock IN={interface} OUT= MAC= SRC={ipclient} DST={ipserver} LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=0 DF PROTO=TCP SPT={sport} DPT={port} WINDOW=64240 RES=0x00 SYN URGP=0";

/** The default `fileformat` for TCP over IPv6 (the kernel's IPv6 LOG fields). */
export const DEFAULT_TCP6_FORMAT =
  "{date} {host} kernel: portknock IN={interface} OUT= MAC= SRC={ipclient} DST={ipserver} LEN=80 TC=0 HOPLIMIT=64 FLOWLBL=0 PROTO=TCP SPT={sport} DPT={port} WINDOW=64800 RES=0x00 SYN URGP=0";

/** The default `fileformat` for UDP over IPv6. */
export const DEFAULT_UDP6_FORMAT =
  "{date} {host} kernel: portknock IN={interface} OUT= MAC= SRC={ipclient} DST={ipserver} LEN=48 TC=0 HOPLIMIT=64 FLOWLBL=0 PROTO=UDP SPT={sport} DPT={port} LEN=8";

/** The default `fileformat` for UDP. */
export const DEFAULT_UDP_FORMAT =
  "{date} {host} kernel: portknock IN={interface} OUT= MAC= SRC={ipclient} DST={ipserver} LEN=28 TOS=0x00 PREC=0x00 TTL=64 ID=0 PROTO=UDP SPT={sport} DPT={port} LEN=8";

const MONTHS = [
  "Jan",
  "Feb",
  "Mar",
  "Apr",
  "May",
  "Jun",
  "Jul",
  "Aug",
  "Sep",
  "Oct",
  "Nov",
  "Dec",
];

/** A syslog (RFC 3164) timestamp in local time: `Nov 25 08:23:27`. */
export function syslogDate(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number): string => String(n).padStart(2, "0");
  return `${MONTHS[d.getMonth()]} ${String(d.getDate()).padStart(2, " ")} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** Placeholder names a `fileformat` may use. */
export const PLACEHOLDERS: readonly string[] = [
  "date",
  "host",
  "ipclient",
  "ipserver",
  "port",
  "protocol",
  "interface",
  "sport",
];

/** Names of `{…}` placeholders in `format` that are not known, for a clear error. */
export function unknownPlaceholders(format: string): string[] {
  return [...format.matchAll(/\{([^{}]*)\}/g)]
    .map((m) => m[1]!)
    .filter((n) => !PLACEHOLDERS.includes(n));
}

/** Fills a `fileformat` template. */
export function formatLogLine(format: string, v: LogLineValues): string {
  return format.replace(/\{(\w+)\}/g, (whole, name: string) => {
    const value = (v as unknown as Record<string, string | number>)[name];
    return value === undefined ? whole : String(value);
  });
}

/** The default `fileformat` for a protocol and address family. */
export function defaultFileFormat(
  protocol: "tcp" | "udp",
  family: 4 | 6,
): string {
  if (family === 6)
    return protocol === "udp" ? DEFAULT_UDP6_FORMAT : DEFAULT_TCP6_FORMAT;
  return protocol === "udp" ? DEFAULT_UDP_FORMAT : DEFAULT_TCP_FORMAT;
}

/** What `renderKnockLog` needs besides the ports. */
export interface KnockLogOptions {
  /** The address the logged packets come from: the knock's CLIENT, or the local address. */
  ipclient: string;
  /** The remote's address, when it is an address (a host name is never resolved here). */
  remote?: { address: string; family: 4 | 6 } | undefined;
  protocol: "tcp" | "udp";
  /** A `fileformat` template; default `defaultFileFormat(protocol, family of ipclient)`. */
  fileformat?: string | undefined;
  /** The clock, epoch milliseconds, for `{date}` (local time). */
  nowMs: number;
  /** `{host}`: the name of the logging host. */
  host: string;
  /** `{interface}`; default `lo`. */
  iface?: string | undefined;
  /** `{sport}` of each line; default a random port in 32768–60999. */
  sourcePort?: (() => number) | undefined;
}

/** Result of `renderKnockLog`: the lines, or why the format is refused. */
export type KnockLogResult =
  | { ok: true; lines: string[] }
  | { ok: false; diagnostic: Diagnostic<KnockCode> };

/**
 * Renders a knock as log lines, one per port in order, as the firewall would log the packets.
 * The layout (IPv4 or IPv6 LOG fields) follows the family of `ipclient`; `{ipserver}` is the
 * remote when it has that family, else the loopback address of the family (client.md "Log-file
 * mode"). An unknown `{placeholder}` is an `ARGV_BAD_VALUE` naming `-fileformat`. Never throws.
 */
export function renderKnockLog(
  ports: readonly number[],
  o: KnockLogOptions,
): KnockLogResult {
  const family = isIP(o.ipclient) === 6 ? 6 : 4;
  const loopback = family === 6 ? "::1" : "127.0.0.1";
  const ipserver = o.remote?.family === family ? o.remote.address : loopback;
  const format = o.fileformat ?? defaultFileFormat(o.protocol, family);
  const unknown = unknownPlaceholders(format);
  if (unknown.length > 0) {
    return {
      ok: false,
      diagnostic: {
        code: "ARGV_BAD_VALUE",
        severity: "error",
        message: `fileformat: unknown placeholder {${unknown[0]}}; known: {date} {host} {ipclient} {ipserver} {port} {protocol} {interface} {sport}`,
        where: { kind: "argv", flag: "-fileformat" },
      },
    };
  }
  const date = syslogDate(o.nowMs);
  const sourcePort = o.sourcePort ?? ((): number => randomInt(32768, 61000));
  const lines = ports.map((port) =>
    formatLogLine(format, {
      date,
      host: o.host,
      ipclient: o.ipclient,
      ipserver,
      port,
      protocol: o.protocol,
      interface: o.iface ?? "lo",
      sport: sourcePort(),
    }),
  );
  return { ok: true, lines };
}
