/**
 * `@portknock/firewall`: native firewall grants (issue #17). A managed base ruleset and expiring
 * (source, protocol, port) grants in nftables or iptables/ipset, applied through argv, never a
 * shell. The documentation of each export is at its definition.
 */
export { createFirewall } from "./firewall.ts";
export type {
  Firewall,
  FirewallOptions,
  FirewallBackend,
  FirewallCounters,
  AppliedGrant,
  ReconcileResult,
} from "./firewall.ts";
export { detectBackend } from "./detect-backend.ts";
export type {
  DetectBackendOptions,
  DetectedBackend,
} from "./detect-backend.ts";
export { MAX_LIFETIME_MS } from "./grant.ts";
export type { Grant, GrantKey, GrantEntry, FirewallProtocol } from "./grant.ts";
export { DEFAULT_NFLOG_PREFIX } from "./base-ruleset.ts";
export type {
  BaseRuleset,
  ProtectedPort,
  KnockSpan,
  PortRange,
  NflogSettings,
} from "./base-ruleset.ts";
export { spawnArgv } from "./run-argv.ts";
export type { RunArgv, RunArgvOptions, RunArgvResult } from "./run-argv.ts";
export { FirewallError } from "./errors.ts";
export type { CommandFailure } from "./errors.ts";
export { FIREWALL_CODES } from "./codes.ts";
export type { FirewallCode } from "./codes.ts";
