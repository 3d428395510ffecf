/**
 * The engine's public types: dependencies, options, results and counters (STYLE.md §6).
 */
import type { ConfigWhere } from "@portknock/config";
import type { Logger } from "@portknock/core";
import type { Clock, Timers } from "@portknock/core";
import type { CommandFailureCode, Refusal, RefusalCode } from "./errors.ts";
import type { GrantFn, GrantOutcome, GrantRequest } from "./grant.ts";
import type { RunCommand, RunResult } from "./runner.ts";
import type { StateStore } from "./state-store.ts";
import type { KnockVariables, VariableValue } from "./variables.ts";

/** The effects an engine uses, injected (real ones: `systemClock`, `createFileStore`, `spawnRunner`). */
export interface EngineDeps {
  clock: Clock;
  store: StateStore;
  /** Runs one argv (never through a shell). */
  run: RunCommand;
  logger?: Logger;
  /** Timers for delayed actions. Default `systemTimers` (vitest fake timers apply). */
  timers?: Timers;
  /**
   * Applies a template's `grant` (issue #17; knockd: the managed firewall). Required when the
   * rules have a grant (`createEngine` throws a `TypeError` otherwise).
   */
  grant?: GrantFn;
}

/** Where an accepted knock came from, for the log lines about it. */
export interface AcceptContext {
  /** The origin of the knock's last hit (`/var/log/firewall:1234`, `pcap lo #5521`). */
  origin?: string;
}

/** Behaviour switches of `createEngine`. */
export interface EngineOptions {
  /** Run nothing, change no state, schedule nothing; log what would happen (`-test`). */
  test?: boolean;
  /** Kill a command after this many ms. Default 30 000. */
  commandTimeoutMs?: number;
}

/** One command that ran. */
export interface CommandOutcome {
  argv: string[];
  result: RunResult;
  /** Set when `result.ok` is false. */
  code?: CommandFailureCode;
}

/** What happened to one action for one knock. */
export type ActionStatus =
  /** `use = no`. */
  | "disabled"
  /** The condition was false. */
  | "unmatched"
  /**
   * Matched, but a value was unsafe, or the knock's delayed actions could not be made durable:
   * nothing ran, no state changed.
   */
  | "refused"
  /** Matched; its grants and commands ran and all succeeded (or it had none). */
  | "ran"
  /** Matched; at least one grant or command failed. */
  | "failed"
  /** Matched; state changed now, commands persisted to run after `delayMs`. */
  | "scheduled"
  /** Matched in test mode: logged only. */
  | "tested";

/** The outcome of one action. */
export interface ActionOutcome {
  index: number;
  where: ConfigWhere;
  /** `file:line` of the action. */
  label: string;
  status: ActionStatus;
  refusal?: Refusal;
  /** The substituted argv of each command (also for scheduled and tested actions). */
  argv: string[][];
  /** The substituted grants of its templates (also for tested actions). */
  grantRequests: GrantRequest[];
  /** Grants applied or failed (immediate actions only), before its commands. */
  grants: GrantOutcome[];
  /** Commands that ran (immediate actions only). */
  commands: CommandOutcome[];
  /** State statements applied (or, in test mode, that would be). */
  stateChanges: number;
  /** Scheduled actions: the pending id and due time (epoch ms). */
  pendingId?: string;
  dueMs?: number;
}

/** What `accept` did with a knock. */
export interface AcceptResult {
  /** All variables of the knock, computed ones included. */
  variables: Readonly<Record<string, VariableValue>>;
  /** One outcome per action, in file order. */
  actions: ActionOutcome[];
}

/** What `start` found in the store. */
export interface StartResult {
  /** Overdue pending actions run at once (or logged, in test mode). */
  overdue: number;
  /** Pending actions rescheduled for later. */
  scheduled: number;
  /**
   * Pending actions that were running when the process died (marked started): reported with
   * an error and removed, not run again.
   */
  interrupted: number;
}

/** Engine counters (live; read them, do not write). */
export interface EngineCounters {
  knocksAccepted: number;
  /** Actions whose condition held. */
  actionsMatched: number;
  /** Actions whose commands were executed (immediately, or later when delayed). */
  actionsRun: number;
  /** Of `actionsRun`, those with at least one failed command. */
  actionsFailed: number;
  actionsScheduled: number;
  actionsRefused: number;
  /** Delayed actions found at `start()` marked started: a crash interrupted them; not re-run. */
  actionsInterrupted: number;
  /**
   * Knocks refused because their delayed actions could not be made durable (each of their
   * matched actions is also counted in `actionsRefused`, `ENGINE_STATE_NOT_DURABLE`).
   */
  knocksNotDurable: number;
  /** Commands started. */
  commandsRun: number;
  /** Of `commandsRun`, those that did not exit 0. */
  commandsFailed: number;
  /** Grants tried (`grant` template keys). */
  grantsRun: number;
  /** Of `grantsRun`, those the granter reported failed (`failed.ENGINE_GRANT_FAILED`). */
  grantsFailed: number;
  stateChanges: number;
  /** Refusals by code. */
  refused: Partial<Record<RefusalCode, number>>;
  /** Command failures by code. */
  failed: Partial<Record<CommandFailureCode, number>>;
}

/** The action engine. */
export interface Engine {
  /**
   * Evaluates every action for an accepted knock, in file order: conditions and state changes
   * at once, then immediate commands in order (awaited); delayed ones are persisted and timed.
   * When the knock has delayed actions, its state and pending entries are made durable
   * (`store.flush()`) before any command runs; if that fails, everything is undone and every
   * matched action is refused with `ENGINE_STATE_NOT_DURABLE`.
   * Never rejects for bad knock values (they are refusals); rejects with `EngineError`
   * `ENGINE_CLOSED` after `close()`.
   */
  accept(knock: KnockVariables, context?: AcceptContext): Promise<AcceptResult>;
  /** Loads pending delayed actions from the store: runs overdue ones, schedules the rest. */
  start(): Promise<StartResult>;
  /** Resolves when no command is running (delayed ones included), e.g. before printing counters. */
  idle(): Promise<void>;
  readonly counters: Readonly<EngineCounters>;
  /** Disarms timers (pending actions stay in the store) and waits for running commands. Idempotent. */
  close(): Promise<void>;
}
