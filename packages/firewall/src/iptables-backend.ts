/**
 * The iptables backend (`iptables`/`ip6tables`, legacy or nft-based): one
 * `iptables-restore --noflush` transaction per family and change (batches in
 * `iptables-script.ts`), grants in ipsets with timeouts when `ipset` is used, else tagged rules
 * that `expire()` takes away.
 */
import type { Clock } from "@portknock/core";
import type { Backend } from "./backend.ts";
import type { CheckedRuleset } from "./base-ruleset.ts";
import type { Exec } from "./exec.ts";
import { badOutput, commandFailed } from "./exec.ts";
import type { CheckedKey, GrantEntry } from "./grant.ts";
import type { IptFamily, TaggedGrant } from "./iptables-script.ts";
import {
  IPT_CHAIN,
  IPT_FAMILIES,
  IPT_GRANTS_CHAIN,
  iptChainRules,
  iptGrantsBatch,
  iptInstallBatch,
  iptRemoveBatch,
  ipsetEntry,
} from "./iptables-script.ts";
import type { IptState } from "./parse-iptables.ts";
import { parseIpsetSave, parseIptablesRules } from "./parse-iptables.ts";

/** Options of the iptables backend. */
export interface IptablesBackendOptions {
  /** Grants in ipsets with kernel timeouts (else tagged rules). */
  ipset: boolean;
  clock: Clock;
}

// Wait up to 5 s for the xtables lock (iptables-legacy); the nft-based tools ignore it.
const WAIT = ["-w", "5"] as const;

/** The iptables backend over `exec`. */
export function createIptablesBackend(
  exec: Exec,
  options: IptablesBackendOptions,
): Backend {
  const { ipset, clock } = options;
  const familyOf = (key: CheckedKey): IptFamily =>
    IPT_FAMILIES[key.family === 4 ? 0 : 1]!;
  const read = async (fam: IptFamily): Promise<IptState> =>
    parseIptablesRules(await exec.check([fam.iptables, ...WAIT, "-S"]));
  const restore = async (fam: IptFamily, batch: string): Promise<void> => {
    await exec.check([fam.restore, ...WAIT, "--noflush"], batch);
  };
  const sameKey = (a: CheckedKey, b: CheckedKey): boolean =>
    a.address === b.address && a.protocol === b.protocol && a.port === b.port;
  const tagged = (g: TaggedGrant): GrantEntry => ({
    address: g.address,
    family: g.family,
    protocol: g.protocol,
    port: g.port,
    expiresInMs: g.expiresAtSeconds * 1000 - clock.now(),
  });
  const ipsetNames = async (): Promise<string[] | undefined> => {
    const argv = ["ipset", "list", "-n"];
    try {
      const r = await exec.probe(argv);
      if (r.exitCode !== 0) throw commandFailed(argv, r);
      return r.stdout.split("\n").filter((n) => n !== "");
    } catch (error) {
      // Without ipset in use, a missing ipset tool means there is no set of ours.
      if (
        !ipset &&
        (error as { code?: string }).code === "FIREWALL_COMMAND_SPAWN"
      )
        return undefined;
      throw error;
    }
  };

  return {
    async install(base) {
      if (ipset) {
        for (const fam of IPT_FAMILIES) {
          // timeout 1: the set's default, never used (every entry has its own); a set created
          // with timeout 0 could not hold timeouts at all.
          await exec.check([
            "ipset",
            "create",
            fam.ipset,
            "hash:ip,port",
            "family",
            fam.ipsetFamily,
            "timeout",
            "1",
            "-exist",
          ]);
        }
      }
      for (const fam of IPT_FAMILIES) {
        const state = await read(fam);
        const nowSeconds = clock.now() / 1000;
        await restore(
          fam,
          iptInstallBatch(base, fam, ipset, {
            hooked: state.jumps > 0,
            grants: state.grants.filter((g) => g.expiresAtSeconds > nowSeconds),
            hasGrantsChain: state.chains.includes(IPT_GRANTS_CHAIN),
          }),
        );
      }
    },

    async grant(grant) {
      const fam = familyOf(grant);
      if (ipset) {
        // -exist: an existing entry gets the new timeout (checked: ipset 7.17).
        const seconds = Math.ceil(grant.lifetimeMs / 1000);
        await exec.check([
          "ipset",
          "add",
          fam.ipset,
          ipsetEntry(grant),
          "timeout",
          String(seconds),
          "-exist",
        ]);
        return;
      }
      const state = await read(fam);
      const expiresAtSeconds = Math.ceil(
        (clock.now() + grant.lifetimeMs) / 1000,
      );
      const { address, family, protocol, port } = grant;
      await restore(
        fam,
        iptGrantsBatch([
          { address, family, protocol, port, expiresAtSeconds },
          ...state.grants.filter((g) => !sameKey(g, grant)),
        ]),
      );
    },

    async revoke(key) {
      const fam = familyOf(key);
      if (ipset) {
        await exec.check([
          "ipset",
          "del",
          fam.ipset,
          ipsetEntry(key),
          "-exist",
        ]);
        return;
      }
      const state = await read(fam);
      const kept = state.grants.filter((g) => !sameKey(g, key));
      if (kept.length !== state.grants.length) {
        await restore(fam, iptGrantsBatch(kept));
      }
    },

    async list() {
      const out: GrantEntry[] = [];
      for (const fam of IPT_FAMILIES) {
        if (!ipset) {
          out.push(...(await read(fam)).grants.map(tagged));
          continue;
        }
        const argv = ["ipset", "save", fam.ipset];
        const r = await exec.probe(argv);
        if (r.exitCode !== 0) {
          if (/does not exist/.test(r.stderr)) continue;
          throw commandFailed(argv, r);
        }
        const parsed = parseIpsetSave(r.stdout);
        if (!parsed.ok) {
          throw badOutput(
            argv,
            `not an entry: ${JSON.stringify(parsed.line.slice(0, 120))}`,
          );
        }
        out.push(...parsed.grants);
      }
      return out;
    },

    async isIntact(base: CheckedRuleset) {
      const sets = ipset ? await ipsetNames() : undefined;
      for (const fam of IPT_FAMILIES) {
        const state = await read(fam);
        const expected = iptChainRules(base, fam, ipset).length;
        if (state.jumps === 0 || state.rules.length !== expected) return false;
        if (ipset && !(sets ?? []).includes(fam.ipset)) return false;
        if (
          !ipset &&
          state.otherGrantsRules.at(-1) !== `-A ${IPT_GRANTS_CHAIN} -j DROP`
        ) {
          return false;
        }
      }
      return true;
    },

    async expire() {
      if (ipset) return { expired: [] }; // the kernel does it
      const expired: GrantEntry[] = [];
      let nextExpiryMs: number | undefined;
      for (const fam of IPT_FAMILIES) {
        const state = await read(fam);
        const now = clock.now();
        const over = state.grants.filter(
          (g) => g.expiresAtSeconds * 1000 <= now,
        );
        const kept = state.grants.filter(
          (g) => g.expiresAtSeconds * 1000 > now,
        );
        if (over.length > 0) {
          await restore(fam, iptGrantsBatch(kept));
          expired.push(...over.map(tagged));
        }
        for (const g of kept) {
          const at = g.expiresAtSeconds * 1000;
          if (nextExpiryMs === undefined || at < nextExpiryMs)
            nextExpiryMs = at;
        }
      }
      return nextExpiryMs === undefined
        ? { expired }
        : { expired, nextExpiryMs };
    },

    async remove() {
      for (const fam of IPT_FAMILIES) {
        const state = await read(fam);
        const chains = [IPT_CHAIN, IPT_GRANTS_CHAIN].filter((c) =>
          state.chains.includes(c),
        );
        if (state.jumps > 0 || chains.length > 0) {
          await restore(fam, iptRemoveBatch(state.jumps, chains));
        }
      }
      const sets = await ipsetNames();
      for (const fam of IPT_FAMILIES) {
        if (sets?.includes(fam.ipset)) {
          await exec.check(["ipset", "destroy", fam.ipset]);
        }
      }
    },

    render(base) {
      const parts: string[] = [];
      for (const fam of IPT_FAMILIES) {
        if (ipset) {
          parts.push(
            `# ipset create ${fam.ipset} hash:ip,port family ${fam.ipsetFamily} timeout 1 -exist\n`,
          );
        }
        parts.push(
          `# ${fam.restore} --noflush\n` +
            iptInstallBatch(base, fam, ipset, {
              hooked: false,
              grants: [],
              hasGrantsChain: false,
            }),
        );
      }
      return parts.join("");
    },
  };
}
