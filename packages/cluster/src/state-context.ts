/**
 * What the parts of the cluster state store (issue #19) share: the link, the local store, the
 * outbox, the Redis keys, the counters and the ways to warn and to reject bad input.
 */
import type { Logger } from "@portknock/core";
import type { StateStore } from "@portknock/engine";
import type { ClusterCode } from "./codes.ts";
import type { ClusterLink } from "./link.ts";
import type { Outbox } from "./outbox.ts";

/** Counters of a cluster store (knockd's `/metrics`). */
export interface ClusterStoreCounters {
  /** Ops Redis has applied (or already had). */
  sent: number;
  /** Changes queued for Redis (adjacent increments of one path may share an op). */
  queued: number;
  /** Ops waiting for Redis now. */
  outbox: number;
  /** Ops given up: dropped from a full outbox, or refused by Redis three times. */
  dropped: number;
  /** Roots reloaded into the mirror after another gateway changed them. */
  reloads: number;
  /** Reloads of the whole state (at start and after each outage). */
  fullReloads: number;
  /** Entries and messages from Redis (or the persisted outbox) that were not valid: skipped. */
  rejected: number;
  /** Pending actions in Redis whose seal did not verify: never loaded (`CLUSTER_PENDING_FORGED`). */
  forged: number;
}

/** The Redis keys of one gateway's store. */
export interface StateKeys {
  /** `P:state-changes`. */
  channel: string;
  /** `P:applied:<name>`. */
  applied: string;
  /** `P:pending:<name>`. */
  pending: string;
  /** `P:state:` (a root's hash is this plus the root). */
  statePrefix: string;
  /** `P:state-seeded`: the name of the gateway that seeded an empty Redis with its state. */
  seeded: string;
}

/** The shared parts. */
export interface StoreContext {
  link: ClusterLink;
  local: StateStore;
  outbox: Outbox;
  logger: Logger;
  /** The key pending actions are sealed with in Redis (`pending-seal.ts`); none: never loaded. */
  pendingKey: Uint8Array | undefined;
  keys: StateKeys;
  counters: Omit<ClusterStoreCounters, "outbox">;
  /** True once `close()` gave up on Redis: nothing may touch `local` any more. */
  stopped(): boolean;
  /** Runs `fn` after `ms` (cleared by `close()`). */
  later(ms: number, fn: () => void): void;
  /** A rate-limited WARN (one per code per 10 s). */
  warn(code: ClusterCode, fields: object, message: string): void;
  /** Counts `n` invalid entries or messages from `source` and warns (rate-limited). */
  reject(
    code:
      "CLUSTER_BAD_ENTRY" | "CLUSTER_BAD_MESSAGE" | "CLUSTER_PENDING_FORGED",
    n: number,
    source: string,
    why: string,
  ): void;
}

/** The keys of `link`'s gateway. */
export function stateKeys(link: ClusterLink): StateKeys {
  return {
    channel: link.key("state-changes"),
    applied: link.key("applied", link.name),
    pending: link.key("pending", link.name),
    statePrefix: `${link.key("state")}:`,
    seeded: link.key("state-seeded"),
  };
}
