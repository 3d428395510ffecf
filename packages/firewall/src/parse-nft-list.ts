/**
 * Reading back the `inet portknock` table from `nft -j list table inet portknock` (libnftables
 * JSON, schema 1). Pure. nft reports an element's `expires` in whole seconds.
 */
import { normalizeIp } from "@portknock/core";
import type { GrantEntry } from "./grant.ts";
import { NFT_CHAIN, NFT_SETS } from "./nft-script.ts";

/** What the table holds. */
export interface NftTableState {
  /** Names of the sets present. */
  sets: string[];
  /** Whether the base chain exists. */
  hasChain: boolean;
  /** Number of rules in the base chain. */
  rules: number;
  /** The grants in both sets. */
  grants: GrantEntry[];
}

/** The reading of `json`, or a reason why it is not the listing of our table. */
export function parseNftTable(
  json: string,
): { ok: true; state: NftTableState } | { ok: false; reason: string } {
  let doc: unknown;
  try {
    doc = JSON.parse(json);
  } catch {
    return { ok: false, reason: "not JSON" };
  }
  const items = (doc as { nftables?: unknown })?.nftables;
  if (!Array.isArray(items)) return { ok: false, reason: "no nftables array" };
  const state: NftTableState = {
    sets: [],
    hasChain: false,
    rules: 0,
    grants: [],
  };
  for (const item of items as Array<Record<string, unknown>>) {
    const set = item?.set as { name?: unknown; elem?: unknown } | undefined;
    if (set != null && typeof set.name === "string") {
      state.sets.push(set.name);
      const family =
        set.name === NFT_SETS[4] ? 4 : set.name === NFT_SETS[6] ? 6 : 0;
      if (family === 0 || !Array.isArray(set.elem)) continue;
      for (const e of set.elem as unknown[]) {
        const grant = readElement(e);
        if (grant === undefined) {
          return {
            ok: false,
            reason: `set ${set.name}: an element that is not address . protocol . port: ${JSON.stringify(e).slice(0, 120)}`,
          };
        }
        state.grants.push(grant);
      }
    } else if (
      (item?.chain as { name?: unknown } | undefined)?.name === NFT_CHAIN
    ) {
      state.hasChain = true;
    } else if (
      (item?.rule as { chain?: unknown } | undefined)?.chain === NFT_CHAIN
    ) {
      state.rules++;
    }
  }
  return { ok: true, state };
}

const PROTOCOLS: Record<string, "tcp" | "udp"> = {
  tcp: "tcp",
  udp: "udp",
  "6": "tcp",
  "17": "udp",
};

function readElement(e: unknown): GrantEntry | undefined {
  const elem = (e as { elem?: Record<string, unknown> })?.elem;
  const concat = (elem?.val as { concat?: unknown } | undefined)?.concat;
  if (!Array.isArray(concat) || concat.length !== 3) return undefined;
  const [addr, proto, port] = concat as unknown[];
  const address = typeof addr === "string" ? normalizeIp(addr) : undefined;
  const protocol = PROTOCOLS[String(proto)];
  const portNumber = typeof port === "number" ? port : Number(port);
  if (
    address === undefined ||
    protocol === undefined ||
    !Number.isInteger(portNumber)
  ) {
    return undefined;
  }
  const expires = elem?.expires;
  return {
    address,
    family: address.includes(":") ? 6 : 4,
    protocol,
    port: portNumber,
    expiresInMs: typeof expires === "number" ? expires * 1000 : 0,
  };
}
