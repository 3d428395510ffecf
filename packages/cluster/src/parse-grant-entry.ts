/**
 * The pure half of the grant bus (issue #19): a cluster grant as the fields of one entry of the
 * `P:grants` stream, both ways. Reading is strict, because anyone who can write to Redis can add
 * an entry: a malformed one is refused with a reason (the bus counts, logs and acks it), never
 * applied.
 */
import type { GrantRequest } from "@portknock/engine";
import { normalizeIp } from "@portknock/core";
import { isGrantableAddress } from "@portknock/engine";

/** A cluster grant: the request (its `lifetimeMs` is recomputed by each reader) and its end. */
export interface ClusterGrant {
  /** The name of the gateway that published it. */
  from: string;
  address: string;
  family: 4 | 6;
  protocol: "tcp" | "udp";
  /** 0–65535. */
  port: number;
  /** When the grant ends, epoch ms. */
  expiresAtMs: number;
}

/** What reading an entry gave: the grant, or why it is refused. */
export type ParseGrantEntryResult =
  { ok: true; grant: ClusterGrant } | { ok: false; reason: string };

const NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const FIELDS = [
  "from",
  "address",
  "family",
  "protocol",
  "port",
  "expires",
] as const;

/** The stream fields of `grant` (`XADD … from F address A family 4 …`), in a fixed order. */
export function grantEntryFields(grant: ClusterGrant): string[] {
  return [
    "from",
    grant.from,
    "address",
    grant.address,
    "family",
    String(grant.family),
    "protocol",
    grant.protocol,
    "port",
    String(grant.port),
    "expires",
    String(grant.expiresAtMs),
  ];
}

/**
 * Reads the flat field list of a stream entry (`[name, value, …]`, as Redis returns it). Strict:
 * every field present once as a string; `from` a gateway name; `address` a strict IPv4 or IPv6
 * address (core's rules; `::ffff:a.b.c.d` reads as `a.b.c.d`) that packets come from (not
 * unspecified, multicast or broadcast); `family` `4` or `6` and the address's; `protocol` `tcp`
 * or `udp`; `port` 0–65535 in decimal; `expires` epoch ms in decimal. Unknown fields are ignored
 * (a later version may add some). Never throws.
 */
export function parseGrantEntry(fields: unknown): ParseGrantEntryResult {
  if (!Array.isArray(fields) || fields.length % 2 !== 0) {
    return { ok: false, reason: "not a list of field/value pairs" };
  }
  const values = new Map<string, string>();
  for (let i = 0; i < fields.length; i += 2) {
    const name: unknown = fields[i];
    const value: unknown = fields[i + 1];
    if (typeof name !== "string" || typeof value !== "string") {
      return { ok: false, reason: "a field or value is not a string" };
    }
    if (values.has(name)) {
      return { ok: false, reason: `field ${name} appears twice` };
    }
    values.set(name, value);
  }
  for (const f of FIELDS) {
    if (!values.has(f)) return { ok: false, reason: `no ${f} field` };
  }
  const get = (f: (typeof FIELDS)[number]): string => values.get(f) ?? "";
  const from = get("from");
  if (!NAME.test(from)) {
    return { ok: false, reason: "from is not a gateway name" };
  }
  let address = normalizeIp(get("address"));
  if (address === undefined) {
    return {
      ok: false,
      reason: "address is not a strict IPv4 or IPv6 address",
    };
  }
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(address);
  if (mapped?.[1] !== undefined) address = mapped[1];
  const family = address.includes(":") ? 6 : 4;
  if (!isGrantableAddress(address, family)) {
    return {
      ok: false,
      reason:
        "address is one no packet comes from (unspecified, multicast or broadcast)",
    };
  }
  if (get("family") !== String(family)) {
    return { ok: false, reason: `family is not ${family} (the address's)` };
  }
  const protocol = get("protocol");
  if (protocol !== "tcp" && protocol !== "udp") {
    return { ok: false, reason: "protocol is not tcp or udp" };
  }
  const portText = get("port");
  const port = Number(portText);
  if (!/^\d{1,5}$/.test(portText) || port > 65535) {
    return { ok: false, reason: "port is not 0-65535" };
  }
  const expiresText = get("expires");
  const expiresAtMs = Number(expiresText);
  if (!/^\d{1,16}$/.test(expiresText) || !Number.isSafeInteger(expiresAtMs)) {
    return { ok: false, reason: "expires is not epoch ms" };
  }
  return {
    ok: true,
    grant: { from, address, family, protocol, port, expiresAtMs },
  };
}

/**
 * The engine's request for `grant` at `nowMs` (lifetime = what is left, at least 1 ms). Its scope
 * is `local`: a grant received from the stream is applied here and never published again.
 */
export function grantRequestAt(
  grant: ClusterGrant,
  nowMs: number,
): GrantRequest {
  return {
    address: grant.address,
    family: grant.family,
    protocol: grant.protocol,
    port: grant.port,
    lifetimeMs: Math.max(1, Math.floor(grant.expiresAtMs - nowMs)),
    scope: "local",
  };
}
