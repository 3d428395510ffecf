/**
 * Which backend this machine can use (issue #17): nftables where `nft` runs, else iptables (with
 * ipset where `ipset` runs), else none, with the reason.
 */
import { escapeInput } from "@portknock/core";
import { createExec } from "./exec.ts";
import type { FirewallBackend } from "./firewall.ts";
import type { RunArgv } from "./run-argv.ts";
import { spawnArgv } from "./run-argv.ts";

/** Options of `detectBackend`. */
export interface DetectBackendOptions {
  /** Runs the probes (default `spawnArgv()`). */
  run?: RunArgv;
  /** Kill a probe after this many ms. Default 5,000. */
  commandTimeoutMs?: number;
}

/** What `detectBackend` found: `backend` and `ipset` are `createFirewall` options. */
export interface DetectedBackend {
  backend: FirewallBackend;
  /** iptables: whether `ipset list -n` works. Always false for the other backends. */
  ipset: boolean;
  /** One sentence per tool tried: what worked, what did not and why. */
  reason: string;
}

/**
 * Tries `nft list tables`, then `iptables -S` and `ipset list -n`; never throws (a failure is
 * part of the `reason`). Needs the rights a firewall change needs (root or CAP_NET_ADMIN):
 * without them every probe fails and the answer is `none`.
 */
export async function detectBackend(
  options: DetectBackendOptions = {},
): Promise<DetectedBackend> {
  const exec = createExec(
    options.run ?? spawnArgv(),
    options.commandTimeoutMs ?? 5_000,
  );
  const tryRun = async (argv: string[]): Promise<string | undefined> => {
    try {
      await exec.check(argv);
      return undefined;
    } catch (error) {
      return escapeInput((error as Error).message, 200);
    }
  };
  const nft = await tryRun(["nft", "list", "tables"]);
  if (nft === undefined) {
    return {
      backend: "nftables",
      ipset: false,
      reason: "nft list tables works",
    };
  }
  const iptables = await tryRun(["iptables", "-w", "5", "-S"]);
  if (iptables === undefined) {
    const ipset = await tryRun(["ipset", "list", "-n"]);
    return {
      backend: "iptables",
      ipset: ipset === undefined,
      reason: `nft does not work (${nft}); iptables -S works; ${ipset === undefined ? "ipset list -n works" : `ipset does not work (${ipset}): grants are tagged rules`}`,
    };
  }
  return {
    backend: "none",
    ipset: false,
    reason: `nft does not work (${nft}); iptables does not work (${iptables})`,
  };
}
