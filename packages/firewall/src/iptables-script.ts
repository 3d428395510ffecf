/**
 * The iptables backend's batches for `iptables-restore --noflush` / `ip6tables-restore
 * --noflush`: one atomic transaction per family. Pure; every value was checked first.
 *
 * Chain `PORTKNOCK` in the filter table, jumped from the top of INPUT once. It never ACCEPTs:
 * what it lets through RETURNs to INPUT and meets the administrator's own rules, so it can only
 * close. Grants are either an ipset `hash:ip,port` with timeouts (`portknock4`, `portknock6`:
 * the kernel expires them), or, without ipset, RETURN rules in chain `PORTKNOCK-GRANTS` tagged
 * `portknock:expires=<epoch s>` that `reconcile()` takes away (a dead daemon does not).
 */
import type { CheckedRuleset, PortRange } from "./base-ruleset.ts";
import type { CheckedKey } from "./grant.ts";

/** Our chain, jumped from INPUT. */
export const IPT_CHAIN = "PORTKNOCK";
/** The chain of tagged grant rules (iptables without ipset). */
export const IPT_GRANTS_CHAIN = "PORTKNOCK-GRANTS";
/** The rule in INPUT that jumps to our chain (as `iptables -S` prints it). */
export const IPT_JUMP: string = `-A INPUT -j ${IPT_CHAIN}`;
/** The comment tag of a grant rule, before its expiry in epoch seconds. */
export const EXPIRES_TAG = "portknock:expires=";

/** One family's commands and set. */
export interface IptFamily {
  family: 4 | 6;
  iptables: "iptables" | "ip6tables";
  restore: "iptables-restore" | "ip6tables-restore";
  ipset: "portknock4" | "portknock6";
  ipsetFamily: "inet" | "inet6";
}

/** IPv4 and IPv6. */
export const IPT_FAMILIES: readonly IptFamily[] = [
  {
    family: 4,
    iptables: "iptables",
    restore: "iptables-restore",
    ipset: "portknock4",
    ipsetFamily: "inet",
  },
  {
    family: 6,
    iptables: "ip6tables",
    restore: "ip6tables-restore",
    ipset: "portknock6",
    ipsetFamily: "inet6",
  },
];

/** A tagged grant rule: a key and its expiry in epoch seconds. */
export interface TaggedGrant extends CheckedKey {
  expiresAtSeconds: number;
}

/** The rules of our chain for one family (`-A PORTKNOCK …` lines). */
export function iptChainRules(
  base: CheckedRuleset,
  fam: IptFamily,
  ipset: boolean,
): string[] {
  const rules = [
    `-A ${IPT_CHAIN} -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN`,
  ];
  for (const p of base.protect) {
    const match = `-A ${IPT_CHAIN} -p ${p.protocol} -m ${p.protocol} --dport ${p.port}`;
    rules.push(
      ipset
        ? `${match} -m set ! --match-set ${fam.ipset} src,dst -j DROP`
        : `${match} -j ${IPT_GRANTS_CHAIN}`,
    );
  }
  const span = base.knockSpan;
  if (span != null) {
    for (const r of span.ranges) {
      const match = `-A ${IPT_CHAIN} -p ${span.protocol} -m ${span.protocol} --dport ${range(r)}`;
      if (base.nflog != null) {
        const syn =
          span.protocol === "tcp" ? " --tcp-flags FIN,SYN,RST,ACK SYN" : "";
        // --nflog-threshold 1: each packet goes to ulogd at once (nft-script.ts says why).
        rules.push(
          `${match}${syn} -j NFLOG --nflog-group ${base.nflog.group} --nflog-prefix ${base.nflog.prefix} --nflog-threshold 1`,
        );
      }
      rules.push(`${match} -j DROP`);
    }
  }
  return rules;
}

/** What the listing found that the batch must take into account. */
export interface IptInstallContext {
  /** INPUT already jumps to our chain. */
  hooked: boolean;
  /** The tagged grants to keep (without ipset). */
  grants: readonly TaggedGrant[];
  /** A `PORTKNOCK-GRANTS` chain exists (with ipset it is left over and deleted). */
  hasGrantsChain: boolean;
}

/** The install batch of one family: our chain replaced, the grants kept, INPUT hooked once. */
export function iptInstallBatch(
  base: CheckedRuleset,
  fam: IptFamily,
  ipset: boolean,
  context: IptInstallContext,
): string {
  const lines = ["*filter", `:${IPT_CHAIN} - [0:0]`];
  if (!ipset) {
    lines.push(`:${IPT_GRANTS_CHAIN} - [0:0]`);
  } else if (context.hasGrantsChain) {
    // Left over from a run without ipset: flushed with our chain, then deleted.
    lines.push(`:${IPT_GRANTS_CHAIN} - [0:0]`, `-X ${IPT_GRANTS_CHAIN}`);
  }
  lines.push(...iptChainRules(base, fam, ipset));
  if (!ipset) lines.push(...iptGrantRules(context.grants));
  if (!context.hooked) lines.push(`-I INPUT 1 -j ${IPT_CHAIN}`);
  lines.push("COMMIT");
  return lines.join("\n") + "\n";
}

/** The batch that rewrites `PORTKNOCK-GRANTS` with `grants` (a grant, revoke or expiry). */
export function iptGrantsBatch(grants: readonly TaggedGrant[]): string {
  return (
    [
      "*filter",
      `:${IPT_GRANTS_CHAIN} - [0:0]`,
      ...iptGrantRules(grants),
      "COMMIT",
    ].join("\n") + "\n"
  );
}

/** The rules of `PORTKNOCK-GRANTS`: each grant RETURNs, everything else is dropped. */
export function iptGrantRules(grants: readonly TaggedGrant[]): string[] {
  return [
    ...grants.map(
      (g) =>
        `-A ${IPT_GRANTS_CHAIN} -s ${g.address}/${g.family === 4 ? 32 : 128} -p ${g.protocol} -m ${g.protocol} --dport ${g.port} -m comment --comment ${EXPIRES_TAG}${g.expiresAtSeconds} -j RETURN`,
    ),
    `-A ${IPT_GRANTS_CHAIN} -j DROP`,
  ];
}

/** The batch of `remove` for one family: unhook `jumps` times, then flush and delete our chains. */
export function iptRemoveBatch(
  jumps: number,
  chains: readonly string[],
): string {
  const lines = ["*filter"];
  for (let i = 0; i < jumps; i++) lines.push(`-D INPUT -j ${IPT_CHAIN}`);
  for (const c of chains) lines.push(`-F ${c}`);
  for (const c of chains) lines.push(`-X ${c}`);
  lines.push("COMMIT");
  return lines.join("\n") + "\n";
}

/** An ipset entry: `address,protocol:port`. */
export function ipsetEntry(key: CheckedKey): string {
  return `${key.address},${key.protocol}:${key.port}`;
}

function range(r: PortRange): string {
  return r.from === r.to ? `${r.from}` : `${r.from}:${r.to}`;
}
