/**
 * Converters from config text to typed values (spec: config.md). Each returns `undefined` (or a
 * reason) for text it does not accept; the caller reports the diagnostic.
 */
import { isIpv4, normalizeIp } from "@portknock/core";
import type { ListenAddress } from "./types.ts";

const TRUE_WORDS = new Set(["yes", "on", "true", "1"]);
const FALSE_WORDS = new Set(["no", "off", "false", "0"]);

/**
 * Read a boolean: `yes/on/true/1` or `no/off/false/0`, case-insensitive (Config::General's
 * AutoTrue words). Anything else is `undefined`.
 */
export function parseBoolean(text: string): boolean | undefined {
  const word = text.toLowerCase();
  if (TRUE_WORDS.has(word)) return true;
  if (FALSE_WORDS.has(word)) return false;
  return undefined;
}

/** Read a non-negative decimal integer (`+` and leading zeros allowed); else `undefined`. */
export function parseInteger(text: string): number | undefined {
  if (!/^\+?\d{1,15}$/.test(text)) return undefined;
  return Number(text);
}

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

/**
 * Read a duration in milliseconds: a bare non-negative number (fractions allowed) in `defaultUnit`,
 * or a number followed by `s`, `m` or `h` (`30s`, `5m`, `1.5h`); a key measured in milliseconds
 * (`defaultUnit` `ms`, e.g. `<cluster>`'s `budget`) also takes `ms` (`50ms`). Anything else is
 * `undefined`.
 */
export function parseDuration(
  text: string,
  defaultUnit: "ms" | "s" | "m",
): number | undefined {
  const m =
    defaultUnit === "ms"
      ? /^(\d{1,12}(?:\.\d*)?|\.\d+)\s*(ms|s|m|h)?$/i.exec(text)
      : /^(\d{1,12}(?:\.\d*)?|\.\d+)\s*(s|m|h)?$/i.exec(text);
  if (!m) return undefined;
  const unit = (m[2]?.toLowerCase() ?? defaultUnit) as keyof typeof UNIT_MS;
  return Math.round(Number(m[1]) * UNIT_MS[unit]);
}

/** Find `text` among `choices` case-insensitively, returning the canonical spelling. */
export function matchChoice<T extends string>(
  text: string,
  choices: readonly T[],
): T | undefined {
  const lower = text.toLowerCase();
  return choices.find((c) => c.toLowerCase() === lower);
}

/** What `parseListenAddress` gives: the address, or why the text is not one. */
export type ParseListenResult =
  { ok: true; address: ListenAddress } | { ok: false; reason: string };

/**
 * Read where a server listens (`metrics`): `PORT` (on 127.0.0.1), `IPv4:PORT`, `[IPv6]:PORT` or
 * `localhost:PORT` (127.0.0.1, never a name lookup). The port is decimal 1–65535 without leading
 * zeros; the address an IP literal (IPv6 without a zone), normalised (`[0:0::1]` is `[::1]`).
 * Anything else gives the reason, for the diagnostic. Pure.
 */
export function parseListenAddress(text: string): ParseListenResult {
  const bad = (reason: string): ParseListenResult => ({ ok: false, reason });
  const m = /^(?:(?:\[([^\]]*)\]|([^:[\]]*)):)?([^:]*)$/.exec(text);
  if (m == null) {
    return !text.startsWith("[") && /^[0-9a-f:.]+$/i.test(text)
      ? bad("an IPv6 address goes in brackets: [::1]:9464")
      : bad("expected PORT, IPv4:PORT or [IPv6]:PORT");
  }
  const [, v6, v4, portText = ""] = m;
  if (!/^[1-9]\d{0,4}$/.test(portText) || Number(portText) > 65535) {
    return bad("the port must be a number from 1 to 65535");
  }
  const port = Number(portText);
  let host: string;
  if (v6 != null) {
    const n = v6.includes(":") ? normalizeIp(v6) : undefined;
    if (n == null) {
      return bad("[…] must hold an IPv6 address without a zone, like [::1]");
    }
    host = n;
  } else if (v4 == null || v4.toLowerCase() === "localhost") {
    host = "127.0.0.1";
  } else if (isIpv4(v4)) {
    host = v4;
  } else {
    return bad(
      "the address must be an IP address (IPv4, or IPv6 in brackets) or localhost: no name lookups",
    );
  }
  const hostText = host.includes(":") ? `[${host}]` : host;
  return { ok: true, address: { host, port, text: `${hostText}:${port}` } };
}
