/**
 * Log-file mode (client.md): one line per port in `fileformat`, so a daemon in file mode can be
 * driven without a network. The default is a netfilter LOG line, as the kernel writes it through
 * syslog, that the daemon's built-in `iptables` logformat parses.
 */

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
