/**
 * What a backend does, on checked input only (`createFirewall` checks, serializes, counts and
 * logs around it). Internal: not exported from the package.
 */
import type { CheckedRuleset } from "./base-ruleset.ts";
import type { CheckedGrant, CheckedKey, GrantEntry } from "./grant.ts";

/** One backend. Every method throws `FirewallError` on failure. */
export interface Backend {
  /** Installs or reinstalls the base ruleset, keeping open grants. */
  install(base: CheckedRuleset): Promise<void>;
  /** Adds a grant, or resets an existing one's lifetime. */
  grant(grant: CheckedGrant): Promise<void>;
  /** Takes a grant away; nothing happens when it is absent. */
  revoke(key: CheckedKey): Promise<void>;
  /** The grants in place. */
  list(): Promise<GrantEntry[]>;
  /** Whether `base`'s ruleset is in place, whole (not flushed or deleted by someone else). */
  isIntact(base: CheckedRuleset): Promise<boolean>;
  /**
   * Takes away the grants whose lifetime is over, when the kernel does not (tagged iptables
   * rules); resolves with them and the time of the next expiry (epoch ms), if any.
   */
  expire(): Promise<{ expired: GrantEntry[]; nextExpiryMs?: number }>;
  /** Takes away everything of ours: rules, chains, sets, grants. Nothing happens when absent. */
  remove(): Promise<void>;
  /** What `install(base)` loads, as text (the nft script, the iptables-restore batches). */
  render(base: CheckedRuleset): string;
}

/** The backend that does nothing: the daemon's `system` templates do the work. */
export const noneBackend: Backend = {
  install: async () => {},
  grant: async () => {},
  revoke: async () => {},
  list: () => Promise.resolve([]),
  isIntact: () => Promise.resolve(true),
  expire: () => Promise.resolve({ expired: [] }),
  remove: async () => {},
  render: () => "",
};
