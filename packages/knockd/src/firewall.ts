/**
 * The managed firewall (issue #17): the `<firewall>` block turned into `@portknock/firewall`'s base
 * ruleset, the backend chosen (`auto`: nftables where `nft` runs), installed at start (fail
 * closed: no daemon runs half-installed), re-installed on SIGHUP, reconciled every `reconcile`,
 * and the engine's `grant` templates applied through it.
 */
import type { DaemonConfig } from "@portknock/config";
import type { Logger } from "@portknock/core";
import { errorMessages } from "@portknock/core";
import type { GrantFn } from "@portknock/engine";
import type {
  BaseRuleset,
  FirewallBackend,
  FirewallCounters,
} from "@portknock/firewall";
import {
  createFirewall,
  detectBackend,
  FirewallError,
  spawnArgv,
} from "@portknock/firewall";
import { codeOf } from "./codes.ts";
import type { LoadedDaemon } from "./load.ts";

/**
 * The base ruleset of a loaded configuration, or undefined when it manages no firewall (no
 * `<firewall>` block, or `backend = none`). The knock span is dropped for the protocol knocks use
 * (network mode: the `<ethfilter>`'s; file mode: TCP); `nflog` applies in file mode only.
 */
export function baseRuleset(
  config: DaemonConfig,
  loaded: Pick<LoadedDaemon, "network"> & {
    knock: { span: { ranges: ReadonlyArray<readonly [number, number]> } };
  },
): BaseRuleset | undefined {
  const fw = config.firewall;
  if (fw == null || fw.backend === "none") return undefined;
  const protocol =
    config.runmode === "network" ? (loaded.network?.protocol ?? "tcp") : "tcp";
  return {
    protect: fw.protect.map((p) => ({ protocol: p.protocol, port: p.port })),
    knockSpan: {
      protocol,
      ranges: loaded.knock.span.ranges.map(([from, to]) => ({ from, to })),
    },
    ...(fw.nflog != null && config.runmode === "file"
      ? { nflog: { group: fw.nflog } }
      : {}),
    defaultLifetimeMs: fw.grantMs,
  };
}

/**
 * The ruleset's problems that the firewall library finds without running anything (a protected
 * port inside the knock span, say): its code and message, or undefined. Pure.
 */
export function checkRuleset(
  base: BaseRuleset,
): { code: string; message: string } | undefined {
  try {
    createFirewall({ backend: "nftables" }).render(base);
    return undefined;
  } catch (e) {
    if (e instanceof FirewallError) return { code: e.code, message: e.message };
    throw e;
  }
}

/** The backend to use and whether iptables keeps grants in ipsets, with why. */
export async function chooseBackend(
  config: NonNullable<DaemonConfig["firewall"]>,
): Promise<{ backend: FirewallBackend; ipset: boolean; reason: string }> {
  if (config.backend === "nftables") {
    return { backend: "nftables", ipset: false, reason: "backend = nftables" };
  }
  if (config.backend === "none") {
    return { backend: "none", ipset: false, reason: "backend = none" };
  }
  if (config.backend === "iptables") {
    if (config.ipset != null) {
      return {
        backend: "iptables",
        ipset: config.ipset,
        reason: `backend = iptables, ipset = ${config.ipset ? "yes" : "no"}`,
      };
    }
    const probe = await spawnArgv()(["ipset", "list", "-n"], {
      timeoutMs: 5000,
    });
    const ipset = probe.exitCode === 0 && probe.error == null;
    return {
      backend: "iptables",
      ipset,
      reason: `backend = iptables; ${ipset ? "ipset list -n works" : "ipset does not work: grants are tagged rules"}`,
    };
  }
  const found = await detectBackend();
  return {
    backend: found.backend,
    ipset: found.backend === "iptables" && (config.ipset ?? found.ipset),
    reason: `backend = auto: ${found.reason}`,
  };
}

/** The firewall of a running daemon. */
export interface ManagedFirewall {
  readonly backend: FirewallBackend;
  readonly ipset: boolean;
  /** What the engine's `grant` templates call. */
  grant: GrantFn;
  /** Installs (or replaces) the base ruleset; throws `FirewallError` naming the tool's message. */
  install(base: BaseRuleset): Promise<void>;
  counters(): FirewallCounters;
  /** Stops the periodic reconcile and the firewall object; the ruleset and grants stay. */
  close(): Promise<void>;
}

/** Options of `startFirewall`. */
export interface StartFirewallOptions {
  logger: Logger;
  /** `-test`: choose the backend and log what would be installed; change nothing. */
  test: boolean;
}

/**
 * Chooses the backend, reconciles and installs `base`, and starts the periodic reconcile. Resolves
 * undefined after logging `firewall.failed` (an error naming the backend's own message) when the
 * firewall cannot be set up: the caller must not start.
 */
export async function startFirewall(
  config: NonNullable<DaemonConfig["firewall"]>,
  base: BaseRuleset,
  options: StartFirewallOptions,
): Promise<ManagedFirewall | undefined> {
  const { logger } = options;
  const chosen = await chooseBackend(config);
  if (chosen.backend === "none") {
    logger.error(
      { event: "firewall.failed", backend: "none" },
      `no firewall tool works (${chosen.reason}); install nftables (or iptables), run as root, or set backend = none and use system = … templates`,
    );
    return undefined;
  }
  const fw = createFirewall({
    backend: chosen.backend,
    ipset: chosen.ipset,
    logger: logger.child({ component: "firewall" }),
  });
  logger.info(
    {
      event: "firewall.backend",
      backend: fw.backend,
      ...(fw.backend === "iptables" ? { ipset: fw.ipset } : {}),
    },
    chosen.reason,
  );
  if (options.test) {
    logger.info(
      { event: "firewall.test", ruleset: fw.render(base) },
      "test mode: would install this ruleset",
    );
  } else {
    try {
      await fw.reconcile();
      await fw.install(base);
    } catch (e) {
      logger.error(
        {
          event: "firewall.failed",
          backend: fw.backend,
          code: (e as { code?: string }).code,
        },
        `cannot install the ${fw.backend} firewall: ${errorMessages(e) || "unknown error"}; not starting (fail closed)`,
      );
      await fw.close().catch(() => undefined);
      return undefined;
    }
  }
  let reconciling = false;
  const timer = options.test
    ? undefined
    : setInterval(() => {
        if (reconciling) return;
        reconciling = true;
        // The library logs and counts a failure (`firewall.failed`); the next round tries again.
        fw.reconcile()
          .catch(() => undefined)
          .finally(() => (reconciling = false));
      }, config.reconcileMs);
  timer?.unref();
  return {
    backend: fw.backend,
    ipset: fw.ipset,
    async grant(request) {
      try {
        await fw.grant({
          address: request.address,
          protocol: request.protocol,
          port: request.port,
          lifetimeMs: request.lifetimeMs,
        });
        return { ok: true };
      } catch (e) {
        return {
          ok: false,
          // Every FirewallError has a code; anything else is a bug.
          code: codeOf(e, "INTERNAL"),
          message: errorMessages(e) || "unknown error",
        };
      }
    },
    install: (next) => (options.test ? Promise.resolve() : fw.install(next)),
    counters: () => fw.counters(),
    async close() {
      if (timer) clearInterval(timer);
      await fw.close();
    },
  };
}

/**
 * `knockd -firewall-remove`: takes away everything the managed firewall installs (rules, chains,
 * sets and the grants in them) with the backend the configuration would use. Returns a message,
 * or throws `FirewallError`.
 */
export async function removeFirewall(
  config: NonNullable<DaemonConfig["firewall"]>,
  logger: Logger,
): Promise<string> {
  const chosen = await chooseBackend(config);
  if (chosen.backend === "none") {
    return `nothing to remove (${chosen.reason})`;
  }
  const fw = createFirewall({
    backend: chosen.backend,
    ipset: chosen.ipset,
    logger,
  });
  try {
    await fw.remove();
  } finally {
    await fw.close();
  }
  return `removed the ${chosen.backend} firewall of portknock (${chosen.reason})`;
}
