/**
 * Grants as data (issue #17): a source address may reach one protected (protocol, port) for a
 * lifetime. Checked here, before any command runs. Pure.
 */
import { normalizeIp, quoteValue } from "@portknock/core";
import { FirewallError } from "./errors.ts";

/** A transport protocol a grant or a protected port names. */
export type FirewallProtocol = "tcp" | "udp";

/**
 * Longest lifetime of a grant: 2,147,483 s (about 24.8 days), ipset's limit for a timeout
 * (`IPSET_MAX_TIMEOUT`), used for every backend so that a grant means the same everywhere.
 */
export const MAX_LIFETIME_MS: number = 2_147_483_000;

/** A grant: `address` may reach `protocol`/`port` for `lifetimeMs` from now. */
export interface Grant {
  /** Strict IPv4 or IPv6 text (core's rules; an IPv4-mapped `::ffff:a.b.c.d` means `a.b.c.d`). */
  address: string;
  protocol: FirewallProtocol;
  /** 0–65535; it must be a port of the installed base ruleset's `protect` list. */
  port: number;
  /** Whole ms, 1 to `MAX_LIFETIME_MS`. Default: the base ruleset's `defaultLifetimeMs`. */
  lifetimeMs?: number;
}

/** What names one grant: its address, protocol and port (for `revoke`). */
export type GrantKey = Omit<Grant, "lifetimeMs">;

/** A checked grant key: the address in normal form and its family. */
export interface CheckedKey {
  address: string;
  family: 4 | 6;
  protocol: FirewallProtocol;
  port: number;
}

/** A checked grant: a checked key with its lifetime. */
export interface CheckedGrant extends CheckedKey {
  lifetimeMs: number;
}

const MAPPED_V4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/;

/** The checked form of a grant key; throws `FirewallError` (`FIREWALL_BAD_*`) on bad input. */
export function checkKey(key: GrantKey): CheckedKey {
  if (key == null || typeof key !== "object") {
    throw new FirewallError(
      "FIREWALL_BAD_ADDRESS",
      `a grant must be an object with address, protocol and port, got ${describeValue(key)}`,
    );
  }
  const { address, protocol, port } = key;
  const text = typeof address === "string" ? address : "";
  const normal = normalizeIp(text);
  if (normal === undefined) {
    throw new FirewallError(
      "FIREWALL_BAD_ADDRESS",
      `address must be an IPv4 or IPv6 address, got ${describeValue(address)}`,
    );
  }
  // The kernel sees a v4-mapped peer of a dual-stack socket as an IPv4 packet.
  const mapped = MAPPED_V4.exec(normal)?.[1];
  const v4 = mapped ?? (normal.includes(":") ? undefined : normal);
  checkProtocol(protocol);
  checkPort(port, 0);
  return v4 !== undefined
    ? { address: v4, family: 4, protocol, port }
    : { address: normal, family: 6, protocol, port };
}

/**
 * The checked form of a grant, with `defaultLifetimeMs` for a missing lifetime; throws
 * `FirewallError` (`FIREWALL_BAD_*`) on bad input.
 */
export function checkGrant(
  grant: Grant,
  defaultLifetimeMs: number,
): CheckedGrant {
  const key = checkKey(grant);
  const lifetimeMs = grant.lifetimeMs ?? defaultLifetimeMs;
  checkLifetime(lifetimeMs, "lifetimeMs");
  return { ...key, lifetimeMs };
}

/** Throws `FIREWALL_BAD_PROTOCOL` unless `protocol` is `tcp` or `udp`. */
export function checkProtocol(
  protocol: unknown,
): asserts protocol is FirewallProtocol {
  if (protocol !== "tcp" && protocol !== "udp") {
    throw new FirewallError(
      "FIREWALL_BAD_PROTOCOL",
      `protocol must be "tcp" or "udp", got ${describeValue(protocol)}`,
    );
  }
}

/** Throws `FIREWALL_BAD_PORT` unless `port` is an integer from `min` to 65535. */
export function checkPort(
  port: unknown,
  min: 0 | 1,
  what = "port",
): asserts port is number {
  if (
    typeof port !== "number" ||
    !Number.isInteger(port) ||
    port < min ||
    port > 65535
  ) {
    throw new FirewallError(
      "FIREWALL_BAD_PORT",
      `${what} must be an integer ${min}–65535, got ${describeValue(port)}`,
    );
  }
}

/** Throws `FIREWALL_BAD_LIFETIME` unless `ms` is a whole number from 1 to `MAX_LIFETIME_MS`. */
export function checkLifetime(ms: unknown, what: string): asserts ms is number {
  if (
    typeof ms !== "number" ||
    !Number.isInteger(ms) ||
    ms < 1 ||
    ms > MAX_LIFETIME_MS
  ) {
    throw new FirewallError(
      "FIREWALL_BAD_LIFETIME",
      `${what} must be whole ms from 1 to ${MAX_LIFETIME_MS} (about 24.8 days), got ${describeValue(ms)}`,
    );
  }
}

/** A grant in place, as `list()` reads it back from the firewall. */
export interface GrantEntry {
  address: string;
  family: 4 | 6;
  protocol: FirewallProtocol;
  port: number;
  /**
   * Time left, in ms, to the second (the tools report whole seconds). 0 or less: expired but
   * not yet taken away (iptables without ipset, until `reconcile()` runs).
   */
  expiresInMs: number;
}

/**
 * A value from the caller, for a message: strings, numbers, booleans, null and undefined as text,
 * anything else by its type (`String()` of an object can throw: `{ toString: false }`).
 */
export function describeValue(v: unknown): string {
  if (typeof v === "string") return quoteValue(v);
  if (
    v == null ||
    typeof v === "number" ||
    typeof v === "boolean" ||
    typeof v === "bigint"
  )
    return String(v);
  return `a value of type ${Array.isArray(v) ? "array" : typeof v}`;
}
