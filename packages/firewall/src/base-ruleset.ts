/**
 * The managed base ruleset (issue #17): which ports are closed to all but granted sources, the
 * knock span whose packets are dropped (and logged to NFLOG in file mode), and the default
 * lifetime of a grant. Checked here, before any command runs. Pure.
 */

import { FirewallError } from "./errors.ts";
import type { FirewallProtocol } from "./grant.ts";
import {
  checkLifetime,
  checkPort,
  checkProtocol,
  describeValue,
} from "./grant.ts";

/** A port closed to every source but the granted ones. */
export interface ProtectedPort {
  protocol: FirewallProtocol;
  /** 1–65535. */
  port: number;
}

/** Ports `from` to `to`, both included (1–65535, `from` ≤ `to`). */
export interface PortRange {
  from: number;
  to: number;
}

/** The knock span: its packets are dropped silently (and logged when `nflog` is set). */
export interface KnockSpan {
  protocol: FirewallProtocol;
  /** One or more ranges (a `portspan` such as `600-699,800-898,900`), at most 64. */
  ranges: readonly PortRange[];
}

/** Where the knock span's packets are logged: an NFLOG group, read by ulogd2 (file mode). */
export interface NflogSettings {
  /** NFLOG group, 0–65535. */
  group: number;
  /** Log prefix: 1–63 characters of `A-Z a-z 0-9 _ . : = -`. Default `portknock`. */
  prefix?: string;
}

/** The base ruleset `install` puts in place. */
export interface BaseRuleset {
  /** Ports dropped unless (source, protocol, port) is granted; none repeated, at most 1024. */
  protect: readonly ProtectedPort[];
  /** The knock span: dropped silently; must not overlap a protected port. */
  knockSpan?: KnockSpan;
  /** Log the span's new packets (TCP: SYNs) to this NFLOG group; needs `knockSpan`. */
  nflog?: NflogSettings;
  /** Lifetime of a grant that names none: whole ms, 1 to `MAX_LIFETIME_MS`. */
  defaultLifetimeMs: number;
}

/** A checked base ruleset: ranges sorted, the NFLOG prefix filled in. */
export interface CheckedRuleset {
  protect: ProtectedPort[];
  knockSpan?: { protocol: FirewallProtocol; ranges: PortRange[] };
  nflog?: { group: number; prefix: string };
  defaultLifetimeMs: number;
}

/** The NFLOG prefix when none is given. */
export const DEFAULT_NFLOG_PREFIX = "portknock";

const PREFIX = /^[A-Za-z0-9_.:=-]{1,63}$/;
const MAX_PROTECT = 1024;
const MAX_RANGES = 64;

function bad(message: string): FirewallError {
  return new FirewallError("FIREWALL_BAD_RULESET", message);
}

/**
 * The checked form of a base ruleset; throws `FirewallError` (`FIREWALL_BAD_RULESET`, or
 * `FIREWALL_BAD_PORT`/`_PROTOCOL`/`_LIFETIME` naming the entry) on bad input.
 */
export function checkBaseRuleset(base: BaseRuleset): CheckedRuleset {
  if (base == null || typeof base !== "object") {
    throw bad(`the base ruleset must be an object, got ${String(base)}`);
  }
  checkLifetime(base.defaultLifetimeMs, "defaultLifetimeMs");
  if (!Array.isArray(base.protect) || base.protect.length > MAX_PROTECT) {
    throw bad(`protect must be a list of at most ${MAX_PROTECT} ports`);
  }
  const protect: ProtectedPort[] = [];
  const seen = new Set<string>();
  for (const [i, p] of base.protect.entries()) {
    const entry = p as ProtectedPort;
    checkProtocol(entry?.protocol);
    checkPort(entry.port, 1, `protect[${i}].port`);
    const key = `${entry.protocol}/${entry.port}`;
    if (seen.has(key)) throw bad(`protect lists ${key} twice`);
    seen.add(key);
    protect.push({ protocol: entry.protocol, port: entry.port });
  }
  const out: CheckedRuleset = {
    protect,
    defaultLifetimeMs: base.defaultLifetimeMs,
  };
  if (base.knockSpan != null) {
    out.knockSpan = checkSpan(base.knockSpan, protect);
  }
  if (base.nflog != null) {
    if (out.knockSpan == null) {
      throw bad("nflog needs a knockSpan: only the span's packets are logged");
    }
    const { group, prefix = DEFAULT_NFLOG_PREFIX } = base.nflog;
    if (!Number.isInteger(group) || group < 0 || group > 65535) {
      throw bad(
        `nflog.group must be an integer 0–65535, got ${describeValue(group)}`,
      );
    }
    if (typeof prefix !== "string" || !PREFIX.test(prefix)) {
      throw bad(
        `nflog.prefix must be 1–63 characters of A-Z a-z 0-9 _ . : = -, got ${describeValue(prefix)}`,
      );
    }
    out.nflog = { group, prefix };
  }
  return out;
}

function checkSpan(
  span: KnockSpan,
  protect: readonly ProtectedPort[],
): { protocol: FirewallProtocol; ranges: PortRange[] } {
  checkProtocol(span.protocol);
  if (
    !Array.isArray(span.ranges) ||
    span.ranges.length === 0 ||
    span.ranges.length > MAX_RANGES
  ) {
    throw bad(`knockSpan.ranges must list 1 to ${MAX_RANGES} port ranges`);
  }
  const ranges: PortRange[] = [];
  for (const [i, r] of span.ranges.entries()) {
    const range = r as PortRange;
    checkPort(range?.from, 1, `knockSpan.ranges[${i}].from`);
    checkPort(range.to, 1, `knockSpan.ranges[${i}].to`);
    if (range.from > range.to) {
      throw bad(
        `knockSpan.ranges[${i}] runs backwards: ${range.from}-${range.to}`,
      );
    }
    ranges.push({ from: range.from, to: range.to });
  }
  ranges.sort((a, b) => a.from - b.from);
  for (let i = 1; i < ranges.length; i++) {
    const prev = ranges[i - 1]!;
    const cur = ranges[i]!;
    if (cur.from <= prev.to) {
      throw bad(
        `knockSpan ranges ${prev.from}-${prev.to} and ${cur.from}-${cur.to} overlap`,
      );
    }
  }
  for (const p of protect) {
    if (p.protocol !== span.protocol) continue;
    if (ranges.some((r) => p.port >= r.from && p.port <= r.to)) {
      throw bad(
        `protected port ${p.protocol}/${p.port} lies in the knock span: a knock would be dropped before it is seen, or a grant would open the span`,
      );
    }
  }
  return { protocol: span.protocol, ranges };
}
