/**
 * The nftables backend's scripts, for `nft -f -` (one atomic transaction each). Pure: every value
 * in them was checked first (addresses in normal form, ports and lifetimes integers, the NFLOG
 * prefix of a safe character set), so nothing untrusted reaches the parser unchecked.
 *
 * One table of our own, `inet portknock`: two sets with `flags timeout` (IPv4 and IPv6 grants,
 * `address . protocol . port`) and one base chain `input`. A reinstall (re)creates what is
 * missing and replaces the chain's rules, but never touches the sets, so open grants survive a
 * restart or a reload; the kernel expires them even when no daemon runs.
 */
import type { CheckedRuleset, PortRange } from "./base-ruleset.ts";
import type { CheckedGrant, CheckedKey } from "./grant.ts";

/** The table's family and name. */
export const NFT_TABLE = "inet portknock";
/** The sets holding the IPv4 and the IPv6 grants. */
export const NFT_SETS = { 4: "grants4", 6: "grants6" } as const;
/** The base chain. */
export const NFT_CHAIN = "input";
// Before the usual filter chains (priority 0), so that a knock is logged before another
// table's rule drops it. Our accepts only end our own chain: the packet still meets every
// other table's rules, so this table never opens what another one closes.
const PRIORITY = "filter - 10";

/** The rules of the base chain, in order (without the `add rule inet portknock input` head). */
export function nftChainRules(base: CheckedRuleset): string[] {
  const rules = [
    "ct state established,related accept",
    `ip saddr . meta l4proto . th dport @${NFT_SETS[4]} accept`,
    `ip6 saddr . meta l4proto . th dport @${NFT_SETS[6]} accept`,
  ];
  if (base.protect.length > 0) {
    const ports = base.protect.map((p) => `${p.protocol} . ${p.port}`);
    rules.push(`meta l4proto . th dport { ${ports.join(", ")} } counter drop`);
  }
  const span = base.knockSpan;
  if (span != null) {
    const ports = `${span.protocol} dport ${portSet(span.ranges)}`;
    if (base.nflog != null) {
      const syn =
        span.protocol === "tcp" ? " tcp flags & (fin|syn|rst|ack) == syn" : "";
      // queue-threshold 1: each packet goes to ulogd at once. Without it the kernel batches
      // NFLOG messages for up to 1 s (measured: 1.0 s median latency, against 3–5 ms).
      rules.push(
        `${ports}${syn} log prefix "${base.nflog.prefix}" group ${base.nflog.group} queue-threshold 1`,
      );
    }
    rules.push(`${ports} counter drop`);
  }
  return rules;
}

/** The script `install` loads: create what is missing, replace the chain's rules. */
export function nftInstallScript(base: CheckedRuleset): string {
  const lines = [
    `add table ${NFT_TABLE}`,
    `add set ${NFT_TABLE} ${NFT_SETS[4]} { type ipv4_addr . inet_proto . inet_service; flags timeout; }`,
    `add set ${NFT_TABLE} ${NFT_SETS[6]} { type ipv6_addr . inet_proto . inet_service; flags timeout; }`,
    `add chain ${NFT_TABLE} ${NFT_CHAIN} { type filter hook input priority ${PRIORITY}; policy accept; }`,
    `flush chain ${NFT_TABLE} ${NFT_CHAIN}`,
    ...nftChainRules(base).map(
      (r) => `add rule ${NFT_TABLE} ${NFT_CHAIN} ${r}`,
    ),
  ];
  return lines.join("\n") + "\n";
}

/**
 * The script of a grant. `add` alone does not reset an existing element's timeout on every
 * kernel (before 6.12, and here with nft 1.0.6, it is a no-op), so: add (so the delete cannot
 * fail), delete, add with the new timeout. One transaction, so the grant never blinks closed.
 */
export function nftGrantScript(grant: CheckedGrant): string {
  const add = `add element ${NFT_TABLE} ${NFT_SETS[grant.family]} { ${element(grant)} timeout ${nftDuration(grant.lifetimeMs)} }`;
  return `${add}\n${nftDeleteLine(grant)}\n${add}\n`;
}

/** The script of a revoke: add (so the delete cannot fail when it is absent), then delete. */
export function nftRevokeScript(key: CheckedKey): string {
  return `add element ${NFT_TABLE} ${NFT_SETS[key.family]} { ${element(key)} timeout 1s }\n${nftDeleteLine(key)}\n`;
}

/** The script of `remove`: the whole table (add first, so that it works when it is absent). */
export function nftRemoveScript(): string {
  return `add table ${NFT_TABLE}\ndelete table ${NFT_TABLE}\n`;
}

function nftDeleteLine(key: CheckedKey): string {
  return `delete element ${NFT_TABLE} ${NFT_SETS[key.family]} { ${element(key)} }`;
}

/** `Ns` + `Nms`: nft 1.0.6 refuses a large bare count of ms (`2147483000ms`: "value too large"). */
function nftDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  const rest = ms % 1000;
  return `${s > 0 ? `${s}s` : ""}${rest > 0 || s === 0 ? `${rest}ms` : ""}`;
}

function element(key: CheckedKey): string {
  return `${key.address} . ${key.protocol} . ${key.port}`;
}

function portSet(ranges: readonly PortRange[]): string {
  const items = ranges.map((r) =>
    r.from === r.to ? `${r.from}` : `${r.from}-${r.to}`,
  );
  return `{ ${items.join(", ")} }`;
}
