/**
 * Reading back the iptables backend's state: `iptables -S` (the filter table as rules) and
 * `ipset save <set>`. Pure.
 */
import { normalizeIp } from "@portknock/core";
import type { GrantEntry } from "./grant.ts";
import type { TaggedGrant } from "./iptables-script.ts";
import {
  EXPIRES_TAG,
  IPT_CHAIN,
  IPT_GRANTS_CHAIN,
  IPT_JUMP,
} from "./iptables-script.ts";

/** What `iptables -S` shows of ours. */
export interface IptState {
  /** How many times INPUT jumps to our chain. */
  jumps: number;
  /** Our chains that exist. */
  chains: string[];
  /** The rules of `PORTKNOCK`, as printed. */
  rules: string[];
  /** The tagged grant rules of `PORTKNOCK-GRANTS`. */
  grants: TaggedGrant[];
  /** Rules of `PORTKNOCK-GRANTS` that are not a tagged grant (the final DROP). */
  otherGrantsRules: string[];
}

const GRANT_RULE = new RegExp(
  `^-A ${IPT_GRANTS_CHAIN} -s (\\S+)/(32|128) -p (tcp|udp) -m (?:tcp|udp) --dport (\\d+) -m comment --comment "?${EXPIRES_TAG}(\\d+)"? -j RETURN$`,
);

/** The reading of `iptables -S` (or `ip6tables -S`) output. */
export function parseIptablesRules(text: string): IptState {
  const state: IptState = {
    jumps: 0,
    chains: [],
    rules: [],
    grants: [],
    otherGrantsRules: [],
  };
  for (const line of text.split("\n")) {
    if (line === IPT_JUMP) {
      state.jumps++;
    } else if (
      line === `-N ${IPT_CHAIN}` ||
      line === `-N ${IPT_GRANTS_CHAIN}`
    ) {
      state.chains.push(line.slice(3));
    } else if (line.startsWith(`-A ${IPT_CHAIN} `)) {
      state.rules.push(line);
    } else if (line.startsWith(`-A ${IPT_GRANTS_CHAIN} `)) {
      const m = GRANT_RULE.exec(line);
      const address = m != null ? normalizeIp(m[1]!) : undefined;
      if (m == null || address === undefined) {
        state.otherGrantsRules.push(line);
        continue;
      }
      state.grants.push({
        address,
        family: m[2] === "32" ? 4 : 6,
        protocol: m[3] as "tcp" | "udp",
        port: Number(m[4]),
        expiresAtSeconds: Number(m[5]),
      });
    }
  }
  return state;
}

const IPSET_ADD = /^add \S+ (\S+),(tcp|udp):(\d+) timeout (\d+)$/;

/**
 * The entries of `ipset save <set>` output, or the first line that does not read as one of
 * ours (a `create` line and blank lines are skipped).
 */
export function parseIpsetSave(
  text: string,
): { ok: true; grants: GrantEntry[] } | { ok: false; line: string } {
  const grants: GrantEntry[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("create ")) continue;
    const m = IPSET_ADD.exec(line);
    const address = m != null ? normalizeIp(m[1]!) : undefined;
    if (m == null || address === undefined) return { ok: false, line };
    grants.push({
      address,
      family: address.includes(":") ? 6 : 4,
      protocol: m[2] as "tcp" | "udp",
      port: Number(m[3]),
      expiresInMs: Number(m[4]) * 1000,
    });
  }
  return { ok: true, grants };
}
