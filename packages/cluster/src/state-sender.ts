/**
 * The cluster store's sender (issue #19): drains the outbox to Redis one op at a time, each in
 * one Lua script (state) or one command (pending actions), while the link is up. After a state
 * op it refreshes the mirror of that root with the hash the script returned, unless more of this
 * gateway's ops on that root are still queued. A failure waits for the link's next `up` (down) or
 * retries with back-off (timeout: the op may have run, its seq makes the retry harmless); an op
 * Redis refuses three times is dropped, counted and logged.
 */
import { sealPending } from "./pending-seal.ts";
import type { Redis } from "ioredis";
import type { OutboxOp } from "./outbox.ts";
import type { StoreContext } from "./state-context.ts";
import {
  STATE_SCRIPTS,
  deleteFieldsOf,
  encodeValue,
  fieldOf,
  pairsOf,
  runScript,
} from "./state-scripts.ts";

/** State ops in flight at once (one pipeline on the command connection). */
const PIPELINE = 64;

/** The sender. */
export interface Sender {
  /** Starts draining if it is not already and can. */
  kick(): void;
  /** Drains as far as Redis lets it now. */
  drainNow(): Promise<void>;
  /** The drain in progress, if any. */
  readonly draining: Promise<void> | undefined;
  /** Forgets a scheduled retry (its timer was cleared by `close()`). */
  cancelRetry(): void;
}

/** Creates the sender; `replaceRoot` refreshes the mirror, `onEmpty` is told the outbox emptied. */
export function createSender(
  ctx: StoreContext,
  replaceRoot: (root: string, pairs: Array<[string, string]>) => void,
  onEmpty: () => void,
): Sender {
  const { link, outbox, keys, counters } = ctx;
  let draining: Promise<void> | undefined;
  let retryPending = false;
  let backoffMs = 50;

  const send = (redis: Redis, op: OutboxOp): Promise<unknown> => {
    switch (op.op) {
      case "pend":
        return redis.hset(
          keys.pending,
          op.action.id,
          sealPending(
            ctx.pendingKey,
            link.name,
            op.action.id,
            JSON.stringify(op.action),
          ),
        );
      case "unpend":
        return redis.hdel(keys.pending, op.id);
      default: {
        const root = op.path[0] ?? "";
        const redisKeys = [keys.statePrefix + root, keys.applied];
        const head = [
          op.seq,
          keys.channel,
          JSON.stringify({ from: link.name, root }),
        ];
        if (op.op === "set") {
          return runScript(redis, STATE_SCRIPTS.set, redisKeys, [
            ...head,
            fieldOf(op.path),
            encodeValue(op.value),
          ]);
        }
        if (op.op === "add") {
          return runScript(redis, STATE_SCRIPTS.add, redisKeys, [
            ...head,
            fieldOf(op.path),
            String(op.delta),
            encodeValue(op.value),
          ]);
        }
        return runScript(redis, STATE_SCRIPTS.delete, redisKeys, [
          ...head,
          ...deleteFieldsOf(op.path),
        ]);
      }
    }
  };

  const drain = async (): Promise<void> => {
    let errors = 0;
    while (!ctx.stopped() && link.up) {
      // Up to PIPELINE ops in flight on the one connection: Redis runs them in order, and an op
      // that is sent again after a failure in the middle is not applied twice (its seq).
      const batch = outbox.first(PIPELINE);
      if (batch.length === 0) {
        onEmpty();
        return;
      }
      for (const op of batch) outbox.markTried(op);
      const results = await Promise.all(
        batch.map((op) =>
          link.run(`state ${op.op}`, (redis) => send(redis, op)),
        ),
      );
      if (ctx.stopped()) return;
      for (let i = 0; i < batch.length; i++) {
        const op = batch[i]!;
        const r = results[i]!;
        if (r.ok) {
          outbox.remove(op);
          counters.sent++;
          errors = 0;
          backoffMs = 50;
          // Our own change with everything before it: the mirror of its root, unless more of
          // ours are on the way (their answers will bring it).
          if (op.op === "set" || op.op === "add" || op.op === "delete") {
            const root = op.path[0] ?? "";
            if (!outbox.touches(root)) replaceRoot(root, pairsOf(r.value));
          }
          continue;
        }
        // The rest of the batch is sent again from this op on (in order).
        if (r.reason === "error" && ++errors >= 3) {
          outbox.remove(op);
          counters.dropped++;
          ctx.warn(
            "CLUSTER_OP_DROPPED",
            { op: op.op },
            `Redis refused a state change three times (${r.message}): dropped`,
          );
          errors = 0;
          break;
        }
        if (r.reason === "error") break; // tried again at once
        if (link.up) {
          retryPending = true;
          ctx.later(backoffMs, () => {
            retryPending = false;
            sender.kick();
          });
          backoffMs = Math.min(backoffMs * 2, 2000);
        }
        return;
      }
    }
  };

  const sender: Sender = {
    kick(): void {
      if (draining || retryPending || ctx.stopped() || !link.up) return;
      if (outbox.size === 0) return;
      draining = drain().finally(() => {
        draining = undefined;
      });
    },
    async drainNow(): Promise<void> {
      for (;;) {
        sender.kick();
        if (!draining) return;
        await draining;
      }
    },
    get draining(): Promise<void> | undefined {
      return draining;
    },
    cancelRetry(): void {
      retryPending = false;
    },
  };
  return sender;
}
