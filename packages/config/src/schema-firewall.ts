/**
 * The `<firewall>` block and the `grant = …` template key (issue #17): the managed base ruleset
 * knockd installs through `@portknock/firewall`, and the grants a knock adds to it. Pure: the
 * values are checked here, the firewall is driven by knockd.
 */
import { quoteValue } from "@portknock/core";
import type { GeneralBlock } from "./general-tree.ts";
import type {
  ConfigWhere,
  FirewallConfig,
  GrantTemplateConfig,
  ProtectedPortConfig,
} from "./types.ts";
import type { Sink } from "./schema-reader.ts";
import { blockReader } from "./schema-blocks.ts";
import { parseDuration } from "./schema-values.ts";

/**
 * The longest grant lifetime, in ms: 2,147,483,000 (about 24.8 days), ipset's limit and
 * `@portknock/firewall`'s `MAX_LIFETIME_MS` (a knockd test holds the two equal).
 */
export const MAX_GRANT_LIFETIME_MS: number = 2_147_483_000;

const DAY_MS = 86_400_000;

/** The backends a `<firewall>` block may name (`auto`: nftables where `nft` runs, else iptables). */
export const FIREWALL_BACKENDS: readonly [
  "auto",
  "nftables",
  "iptables",
  "none",
] = ["auto", "nftables", "iptables", "none"];

const PROTOCOL_PORT = /^(tcp|udp)\/(\d{1,5}|PORT)$/i;

/** Read `tcp/22` (or `udp/PORT` when `allowVariable`); a reason when it is not one. */
function parseProtoPort(
  text: string,
  allowVariable: boolean,
):
  | { ok: true; protocol: "tcp" | "udp"; port: number | "PORT" }
  | { ok: false; reason: string } {
  const m = PROTOCOL_PORT.exec(text);
  if (!m) {
    return {
      ok: false,
      reason: `expected tcp/PORT or udp/PORT, got ${quoteValue(text)}`,
    };
  }
  const protocol = m[1]!.toLowerCase() as "tcp" | "udp";
  const portText = m[2]!;
  if (portText.toUpperCase() === "PORT") {
    if (!allowVariable || portText !== "PORT") {
      return {
        ok: false,
        reason: allowVariable
          ? `the knock variable is spelt PORT, got ${quoteValue(portText)}`
          : `a protected port is a number from 1 to 65535, got ${quoteValue(portText)}`,
      };
    }
    return { ok: true, protocol, port: "PORT" };
  }
  const port = Number(portText);
  if (!/^[1-9]\d*$/.test(portText) || port > 65535) {
    return {
      ok: false,
      reason: `the port must be a number from 1 to 65535 (no leading zeros), got ${quoteValue(portText)}`,
    };
  }
  return { ok: true, protocol, port };
}

/**
 * Read the `<firewall>` block(s) of the file (at most one). Absent: `undefined` (knockd manages
 * no firewall; `grant` templates are then an error).
 */
export function readFirewall(
  blocks: readonly GeneralBlock[],
  sink: Sink,
): FirewallConfig | undefined {
  const [block, again] = blocks;
  if (again && block) {
    sink.diagnostics.push({
      code: "CONFIG_REPEATED_BLOCK",
      severity: "error",
      message: `<firewall> may appear only once; the first is at line ${block.where.line}`,
      where: again.where,
    });
  }
  if (!block) return undefined;
  const r = blockReader(block, sink);
  const backend = r.choice("backend", FIREWALL_BACKENDS, "auto");
  const protect: ProtectedPortConfig[] = [];
  const seen = new Map<string, ConfigWhere>();
  for (const v of r.many("protect")) {
    const words = v.text.split(/[\s,]+/).filter(Boolean);
    if (words.length === 0) {
      r.error("CONFIG_EMPTY_VALUE", v.where, "protect must not be empty");
    }
    for (const word of words) {
      const p = parseProtoPort(word, false);
      if (!p.ok) {
        r.error("CONFIG_BAD_PROTECT", v.where, `protect: ${p.reason}`);
        continue;
      }
      const where = v.where;
      const key = `${p.protocol}/${p.port}`;
      const first = seen.get(key);
      if (first) {
        r.error(
          "CONFIG_BAD_PROTECT",
          where,
          `protect: ${key} is already protected at line ${first.line}`,
        );
        continue;
      }
      seen.set(key, where);
      protect.push({ protocol: p.protocol, port: p.port as number, where });
    }
  }
  const grantMs = r.duration("grant", "s", 30_000, {
    minMs: 1000,
    maxMs: MAX_GRANT_LIFETIME_MS,
  });
  const nflog = r.optionalInt("nflog", 0, 65_535);
  const ipsetWhere = r.whereOf("ipset");
  const ipset = ipsetWhere ? r.bool("ipset", true) : undefined;
  const reconcileMs = r.duration("reconcile", "s", 60_000, {
    minMs: 1000,
    maxMs: DAY_MS,
  });
  if (backend !== "none" && protect.length === 0) {
    r.error(
      "CONFIG_MISSING_KEY",
      block.where,
      "<firewall> needs at least one protect = tcp/PORT (or udp/PORT): the port(s) closed to all but granted sources",
    );
  }
  if (ipsetWhere && backend === "nftables") {
    r.warn(
      "CONFIG_FIREWALL_IGNORED",
      ipsetWhere,
      "ipset is used only by the iptables backend; backend = nftables ignores it",
    );
  }
  r.finish();
  return {
    where: block.where,
    backend,
    protect,
    grantMs,
    ...(nflog !== undefined ? { nflog } : {}),
    ...(ipset !== undefined ? { ipset } : {}),
    reconcileMs,
  };
}

/**
 * Read `grant = PROTO/PORT [LIFETIME] [to CLIENT|SOURCE]` (PORT a number or the knock variable
 * `PORT`; LIFETIME as `<firewall>`'s `grant`, default that value; the address CLIENT by default).
 * Problems are `CONFIG_BAD_GRANT` at the value; `undefined` then.
 */
export function parseGrantTemplate(
  value: { text: string; where: ConfigWhere },
  defaultLifetimeMs: number,
  sink: Sink,
): GrantTemplateConfig | undefined {
  const fail = (reason: string): undefined => {
    sink.diagnostics.push({
      code: "CONFIG_BAD_GRANT",
      severity: "error",
      message: `grant must be PROTO/PORT [LIFETIME] [to CLIENT|SOURCE]: ${reason}`,
      where: value.where,
    });
    return undefined;
  };
  const words = value.text.split(/\s+/).filter(Boolean);
  const [first, ...rest] = words;
  if (first === undefined) return fail("the value is empty");
  const p = parseProtoPort(first, true);
  if (!p.ok) return fail(p.reason);
  let lifetimeMs: number | undefined;
  let to: "CLIENT" | "SOURCE" = "CLIENT";
  if (rest[0] !== undefined && rest[0].toLowerCase() !== "to") {
    const word = rest.shift()!;
    const ms = parseDuration(word, "s");
    if (ms === undefined) {
      return fail(
        `the lifetime must be seconds or a duration like "30s", "5m", "2h", got ${quoteValue(word)}`,
      );
    }
    if (ms < 1000 || ms > MAX_GRANT_LIFETIME_MS) {
      return fail(
        `the lifetime must be from 1s to ${MAX_GRANT_LIFETIME_MS / 1000}s, got ${quoteValue(word)}`,
      );
    }
    lifetimeMs = ms;
  }
  if (rest.length > 0) {
    const [kw, who, ...extra] = rest;
    if (kw?.toLowerCase() !== "to" || who === undefined) {
      return fail(
        `expected "to CLIENT" or "to SOURCE", got ${quoteValue(rest.join(" "))}`,
      );
    }
    if (who !== "CLIENT" && who !== "SOURCE") {
      return fail(
        `the address is the knock variable CLIENT or SOURCE, got ${quoteValue(who)}`,
      );
    }
    if (extra.length > 0) {
      return fail(`unexpected ${quoteValue(extra.join(" "))} at the end`);
    }
    to = who;
  }
  return {
    text: value.text,
    where: value.where,
    protocol: p.protocol,
    port: p.port,
    lifetimeMs: lifetimeMs ?? defaultLifetimeMs,
    to,
  };
}
