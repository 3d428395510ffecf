/**
 * `createFirewall`: grants as data applied by a backend (issue #17). Every call is checked
 * first (a bad grant or ruleset is refused before any command runs), then run one at a time
 * (changes never interleave), counted and logged; a failed command is a `FirewallError` naming
 * the tool's own message.
 */
import type { Clock, Logger, Timers, TimerHandle } from "@portknock/core";
import {
  createRateLimiter,
  escapeArgv,
  escapeInput,
  noopLogger,
  systemClock,
  systemTimers,
} from "@portknock/core";
import type { Backend } from "./backend.ts";
import { noneBackend } from "./backend.ts";
import type { BaseRuleset, CheckedRuleset } from "./base-ruleset.ts";
import { checkBaseRuleset } from "./base-ruleset.ts";
import { FIREWALL_CODES } from "./codes.ts";
import { FirewallError } from "./errors.ts";
import { createExec } from "./exec.ts";
import type { CheckedGrant, Grant, GrantEntry, GrantKey } from "./grant.ts";
import { checkGrant, checkKey } from "./grant.ts";
import { createIptablesBackend } from "./iptables-backend.ts";
import { createNftablesBackend } from "./nftables-backend.ts";
import type { RunArgv } from "./run-argv.ts";
import { spawnArgv } from "./run-argv.ts";

/** Which firewall the grants go to. */
export type FirewallBackend = "nftables" | "iptables" | "none";

/** Options of `createFirewall`. */
export interface FirewallOptions {
  /** `nftables`, `iptables` (with `ip6tables`), or `none` (every call is checked, then does nothing). */
  backend: FirewallBackend;
  /** iptables only: keep grants in ipsets with kernel timeouts (needs `ipset`). Default false. */
  ipset?: boolean;
  /** Runs the tools (default `spawnArgv()`); tests prefix `ip netns exec <ns>`. */
  run?: RunArgv;
  logger?: Logger;
  /** For tagged iptables rules' expiry times and log rate limits. Default `systemClock`. */
  clock?: Clock;
  /** For the expiry of tagged iptables rules. Default `systemTimers`. */
  timers?: Timers;
  /** Kill a firewall command after this many ms. Default 10,000. */
  commandTimeoutMs?: number;
}

/** A grant as applied: the address in normal form, its family, the lifetime used. */
export type AppliedGrant = CheckedGrant;

/** What `reconcile()` did. */
export interface ReconcileResult {
  /** Grants whose lifetime was over, taken away now (only tagged iptables rules ever are). */
  expired: GrantEntry[];
  /** The installed ruleset was missing or incomplete (someone flushed it) and was put back. */
  reinstalled: boolean;
}

/** Counts since creation. */
export interface FirewallCounters {
  installs: number;
  grants: number;
  revokes: number;
  /** Tagged iptables grants taken away at expiry. */
  expired: number;
  /** Rulesets put back by `reconcile()`. */
  reinstalls: number;
  removes: number;
  /** Grants and rulesets refused before any command ran, by code. */
  rejections: Record<string, number>;
  /** Firewall commands that failed, by code. */
  failures: Record<string, number>;
}

/** The firewall: a managed base ruleset and expiring grants. Every method throws `FirewallError`. */
export interface Firewall {
  readonly backend: FirewallBackend;
  /** iptables: whether grants are in ipsets. */
  readonly ipset: boolean;
  /**
   * Installs the base ruleset, or replaces the installed one; open grants are kept (a restart or
   * a reload does not close them). Idempotent: installing twice leaves one copy of everything.
   * Atomic per transaction (nftables: one; iptables: one per family).
   */
  install(base: BaseRuleset): Promise<void>;
  /**
   * Opens `grant.port` to `grant.address` for its lifetime (default: the ruleset's); a grant that
   * exists gets the new lifetime, counted from now. Refused (`FIREWALL_NOT_INSTALLED`,
   * `FIREWALL_NOT_PROTECTED`, `FIREWALL_BAD_*`) before any command runs.
   */
  grant(grant: Grant): Promise<AppliedGrant>;
  /** Takes a grant away now; nothing happens when it does not exist. */
  revoke(key: GrantKey): Promise<void>;
  /** The grants in place, read back from the firewall. */
  list(): Promise<GrantEntry[]>;
  /**
   * Takes away tagged iptables grants whose lifetime is over (run it at start: a dead daemon
   * does not), and puts back a ruleset installed by this object that someone removed.
   */
  reconcile(): Promise<ReconcileResult>;
  /** Takes away everything of ours: rules, chains, sets and grants. Idempotent. */
  remove(): Promise<void>;
  /** What `install(base)` loads, as text (the nft script or the iptables-restore batches). */
  render(base: BaseRuleset): string;
  counters(): FirewallCounters;
  /** Stops the expiry timer and waits for the call in progress. Idempotent; later calls throw `FIREWALL_CLOSED`. */
  close(): Promise<void>;
}

const DEFAULT_COMMAND_TIMEOUT_MS = 10_000;
// A failed expiry of tagged rules is tried again this soon: a grant past its lifetime is open.
const EXPIRE_RETRY_MS = 1_000;

/** Creates a firewall; throws `TypeError`/`RangeError` on bad options. Runs no command. */
export function createFirewall(options: FirewallOptions): Firewall {
  const { backend: name } = options;
  if (name !== "nftables" && name !== "iptables" && name !== "none") {
    throw new TypeError(
      `backend must be "nftables", "iptables" or "none", got ${JSON.stringify(name)}`,
    );
  }
  const ipset = options.ipset ?? false;
  if (ipset && name !== "iptables") {
    throw new TypeError(`ipset is an iptables option, got backend ${name}`);
  }
  const timeoutMs = options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
  if (!(Number.isInteger(timeoutMs) && timeoutMs > 0)) {
    throw new RangeError(
      `commandTimeoutMs must be a whole number of ms > 0, got ${timeoutMs}`,
    );
  }
  const clock = options.clock ?? systemClock;
  const timers = options.timers ?? systemTimers;
  const logger = (options.logger ?? noopLogger).child({
    component: "firewall",
    backend: name,
  });
  const exec = createExec(options.run ?? spawnArgv(), timeoutMs);
  const backend: Backend =
    name === "nftables"
      ? createNftablesBackend(exec)
      : name === "iptables"
        ? createIptablesBackend(exec, { ipset, clock })
        : noneBackend;
  // Only tagged iptables rules need us to take them away.
  const tagged = name === "iptables" && !ipset;

  const counters: FirewallCounters = {
    installs: 0,
    grants: 0,
    revokes: 0,
    expired: 0,
    reinstalls: 0,
    removes: 0,
    rejections: {},
    failures: {},
  };
  const limiter = createRateLimiter({ clock, intervalMs: 60_000 });
  let installed: CheckedRuleset | undefined;
  let closed = false;
  let queue: Promise<unknown> = Promise.resolve();
  // The pending expiry timer of tagged rules (a box: a handle may be any value).
  let timer: { handle: TimerHandle } | undefined;
  let timerAtMs = Infinity;

  /** Counts and logs a failure of `op`; `fields` name the untrusted input. */
  const record = (op: string, error: unknown, fields: object): void => {
    if (!(error instanceof FirewallError)) return;
    const kind = FIREWALL_CODES[error.code];
    if (kind === "rejected") {
      counters.rejections[error.code] =
        (counters.rejections[error.code] ?? 0) + 1;
      const suppressed = limiter.take(error.code);
      if (suppressed >= 0) {
        logger.warn(
          {
            event: "firewall.rejected",
            op,
            code: error.code,
            ...fields,
            ...(suppressed > 0 ? { suppressed } : {}),
          },
          error.message,
        );
      }
    } else if (kind === "failed") {
      counters.failures[error.code] = (counters.failures[error.code] ?? 0) + 1;
      const command = error.command;
      logger.error(
        {
          event: "firewall.failed",
          op,
          code: error.code,
          ...(command != null
            ? {
                argv: escapeArgv(command.argv),
                exitCode: command.exitCode,
                stderr: escapeInput(command.stderr, 600),
              }
            : {}),
        },
        error.message,
      );
    }
  };

  /** Runs `fn` after every earlier call, unless closed; records its failure. */
  const serial = <T>(
    op: string,
    fields: object,
    fn: () => Promise<T>,
  ): Promise<T> => {
    const run = async (): Promise<T> => {
      if (closed) {
        throw new FirewallError(
          "FIREWALL_CLOSED",
          `firewall.${op}() after close()`,
        );
      }
      try {
        return await fn();
      } catch (error) {
        record(op, error, fields);
        throw error;
      }
    };
    const result = queue.then(run, run);
    queue = result.catch(() => {});
    return result;
  };

  const schedule = (atMs: number | undefined): void => {
    if (!tagged || closed || atMs === undefined || atMs >= timerAtMs) return;
    if (timer !== undefined) timers.clearTimeout(timer.handle);
    timerAtMs = atMs;
    timer = {
      handle: timers.setTimeout(
        () => {
          timer = undefined;
          timerAtMs = Infinity;
          serial("expire", {}, expire).catch(() => {
            schedule(clock.now() + EXPIRE_RETRY_MS);
          });
        },
        Math.max(0, atMs - clock.now()),
      ),
    };
  };

  /** Takes expired tagged grants away, logs and counts them, schedules the next expiry. */
  const expire = async (): Promise<GrantEntry[]> => {
    const { expired, nextExpiryMs } = await backend.expire();
    for (const g of expired) {
      logger.info(
        {
          event: "firewall.expired",
          ip: g.address,
          protocol: g.protocol,
          port: g.port,
        },
        `grant of ${g.protocol}/${g.port} to ${g.address} expired`,
      );
    }
    counters.expired += expired.length;
    schedule(nextExpiryMs);
    return expired;
  };

  const fieldsOf = (g: Partial<Grant> | undefined): object => ({
    ip: escapeInput(String(g?.address), 64),
    protocol: escapeInput(String(g?.protocol), 16),
    port:
      typeof g?.port === "number" ? g.port : escapeInput(String(g?.port), 16),
  });

  return {
    backend: name,
    ipset,

    install(base) {
      return serial("install", {}, async () => {
        const checked = checkBaseRuleset(base);
        if (tagged) await expire();
        await backend.install(checked);
        installed = checked;
        counters.installs++;
        logger.info(
          {
            event: "firewall.installed",
            protect: checked.protect.map((p) => `${p.protocol}/${p.port}`),
            knockSpan: checked.knockSpan != null,
            nflogGroup: checked.nflog?.group,
          },
          `${name} base ruleset installed`,
        );
      });
    },

    grant(grant) {
      return serial("grant", fieldsOf(grant), async () => {
        const base = installed;
        if (base === undefined) {
          throw new FirewallError(
            "FIREWALL_NOT_INSTALLED",
            "grant() before install(): the protected ports are not known",
          );
        }
        const checked = checkGrant(grant, base.defaultLifetimeMs);
        if (
          !base.protect.some(
            (p) => p.protocol === checked.protocol && p.port === checked.port,
          )
        ) {
          throw new FirewallError(
            "FIREWALL_NOT_PROTECTED",
            `${checked.protocol}/${checked.port} is not a protected port (protect lists ${base.protect.map((p) => `${p.protocol}/${p.port}`).join(", ") || "none"}): the grant would change nothing`,
          );
        }
        await backend.grant(checked);
        counters.grants++;
        logger.info(
          {
            event: "firewall.granted",
            ip: checked.address,
            protocol: checked.protocol,
            port: checked.port,
            lifetimeMs: checked.lifetimeMs,
          },
          `${checked.protocol}/${checked.port} open to ${checked.address} for ${checked.lifetimeMs} ms`,
        );
        if (tagged) schedule(clock.now() + checked.lifetimeMs);
        return checked;
      });
    },

    revoke(key) {
      return serial("revoke", fieldsOf(key), async () => {
        const checked = checkKey(key);
        await backend.revoke(checked);
        counters.revokes++;
        logger.info(
          {
            event: "firewall.revoked",
            ip: checked.address,
            protocol: checked.protocol,
            port: checked.port,
          },
          `${checked.protocol}/${checked.port} closed to ${checked.address}`,
        );
      });
    },

    list() {
      return serial("list", {}, () => backend.list());
    },

    reconcile() {
      return serial("reconcile", {}, async () => {
        const expired = await expire();
        let reinstalled = false;
        if (installed !== undefined && !(await backend.isIntact(installed))) {
          await backend.install(installed);
          reinstalled = true;
          counters.reinstalls++;
          logger.warn(
            { event: "firewall.reinstalled" },
            `the ${name} base ruleset was missing or incomplete (removed by someone else?) and was put back (grants it held may be gone)`,
          );
        }
        return { expired, reinstalled };
      });
    },

    remove() {
      return serial("remove", {}, async () => {
        await backend.remove();
        installed = undefined;
        if (timer !== undefined) timers.clearTimeout(timer.handle);
        timer = undefined;
        timerAtMs = Infinity;
        counters.removes++;
        logger.info({ event: "firewall.removed" }, `${name} ruleset removed`);
      });
    },

    render(base) {
      return backend.render(checkBaseRuleset(base));
    },

    counters() {
      return {
        ...counters,
        rejections: { ...counters.rejections },
        failures: { ...counters.failures },
      };
    },

    async close() {
      if (closed) return;
      closed = true;
      if (timer !== undefined) timers.clearTimeout(timer.handle);
      timer = undefined;
      await queue;
    },
  };
}
