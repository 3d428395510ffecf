/**
 * The nftables backend: every change is one `nft -f -` transaction (scripts in `nft-script.ts`);
 * the grants live in sets with `flags timeout`, so the kernel closes them even with no daemon.
 */
import type { Backend } from "./backend.ts";
import type { Exec } from "./exec.ts";
import { badOutput, commandFailed } from "./exec.ts";
import {
  NFT_SETS,
  nftChainRules,
  nftGrantScript,
  nftInstallScript,
  nftRemoveScript,
  nftRevokeScript,
} from "./nft-script.ts";
import type { NftTableState } from "./parse-nft-list.ts";
import { parseNftTable } from "./parse-nft-list.ts";

const LIST = ["nft", "-j", "list", "table", "inet", "portknock"] as const;
const LOAD = ["nft", "-f", "-"] as const;

/** The nftables backend over `exec`. */
export function createNftablesBackend(exec: Exec): Backend {
  /** The table's state, or undefined when it does not exist. */
  const read = async (): Promise<NftTableState | undefined> => {
    const result = await exec.probe(LIST);
    if (result.exitCode !== 0) {
      if (/No such file or directory/.test(result.stderr)) return undefined;
      throw commandFailed(LIST, result);
    }
    const parsed = parseNftTable(result.stdout);
    if (!parsed.ok) throw badOutput(LIST, parsed.reason);
    return parsed.state;
  };
  return {
    async install(base) {
      await exec.check(LOAD, nftInstallScript(base));
    },
    async grant(grant) {
      await exec.check(LOAD, nftGrantScript(grant));
    },
    async revoke(key) {
      await exec.check(LOAD, nftRevokeScript(key));
    },
    async list() {
      return (await read())?.grants ?? [];
    },
    async isIntact(base) {
      const state = await read();
      return (
        state !== undefined &&
        state.hasChain &&
        state.sets.includes(NFT_SETS[4]) &&
        state.sets.includes(NFT_SETS[6]) &&
        state.rules === nftChainRules(base).length
      );
    },
    expire: () => Promise.resolve({ expired: [] }), // the kernel does it
    async remove() {
      await exec.check(LOAD, nftRemoveScript());
    },
    render: nftInstallScript,
  };
}
