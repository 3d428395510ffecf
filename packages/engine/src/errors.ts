/**
 * Engine and state-store codes (STYLE.md §5). Bad configuration is a `Diagnostic` with a
 * `LoadCode`; a knock whose action cannot run safely is a `Refusal` with a `RefusalCode`; a command
 * that ran badly has a `CommandFailureCode`. Exceptions (`EngineError`, `StoreError`) are for misuse
 * and environment failures only.
 */
import { PortknockError } from "@portknock/core";

/** Codes of load-time diagnostics produced by `compileActions` and the `parse*` functions. */
export type LoadCode =
  /** A condition or state statement is not valid in the grammar of daemon.md §4/§6. */
  | "ENGINE_SYNTAX"
  /** A name is neither a knock variable available with this knock format nor a known word. */
  | "ENGINE_UNKNOWN_NAME"
  /** `name(` where `name` is not `abs`, `inside` or `state`. */
  | "ENGINE_UNKNOWN_FUNCTION"
  /** A function called with the wrong number of arguments. */
  | "ENGINE_BAD_ARGUMENTS"
  /**
   * A `/regex/` that JavaScript cannot compile, or that uses a Perl-only escape or a construct
   * the linear-time engine cannot run (a back-reference, a lookaround, a count over 1000).
   */
  | "ENGINE_BAD_REGEX"
  /** A literal CIDR in `inside()` that is not `address/prefix`. */
  | "ENGINE_BAD_CIDR"
  /** Parentheses or operators nested deeper than the parser allows. */
  | "ENGINE_TOO_DEEP"
  /** A shell metacharacter outside quotes in a `system` command line (daemon.md §5). */
  | "ENGINE_COMMAND_METACHAR"
  /** A quote opened in a `system` command line is never closed. */
  | "ENGINE_COMMAND_QUOTE"
  /** A `system` command line with no words. */
  | "ENGINE_COMMAND_EMPTY"
  /** warning: the executable of a `system` command is not found or not executable. */
  | "ENGINE_EXECUTABLE_MISSING"
  /** warning: a `system` word names a knock field this knock format does not have. */
  | "ENGINE_FIELD_UNAVAILABLE"
  /** An action names a template that does not exist. */
  | "ENGINE_UNKNOWN_TEMPLATE"
  /**
   * A template's `grant` (issue #17) whose address or port variable this knock format does not
   * have, or a `grant` in an action with a `delay` (grants expire in the kernel; nothing to delay).
   */
  | "ENGINE_GRANT_UNUSABLE"
  /** A literal state key that could never be stored (see `checkStateKey`). */
  | "STATE_KEY_INVALID";

/** Why a matched action was refused at knock time: nothing of it ran and no state changed. */
export type RefusalCode =
  /** A substituted value does not match its type (IP, port, flag, integer…). */
  | "ENGINE_VALUE_INVALID"
  /** The action uses a variable the knock did not provide. */
  | "ENGINE_VALUE_MISSING"
  /** A state key value is unsafe (`..`, `/`, control characters, too long…). */
  | "STATE_KEY_INVALID"
  /** Division or modulo by zero while evaluating a condition or a state statement. */
  | "ENGINE_DIVISION_BY_ZERO"
  /** A `grant`'s address is an IP no packet comes from (unspecified, multicast, broadcast). */
  | "ENGINE_GRANT_BAD_ADDRESS"
  /**
   * The knock has a delayed action (a "close") that could not be made durable in the store (a
   * full or read-only disk): nothing of the knock ran, no state changed.
   */
  | "ENGINE_STATE_NOT_DURABLE";

/** Why a command (or a `grant`) that was started did not succeed. */
export type CommandFailureCode =
  /** The injected `grant` function reported a failure (its own code is logged as `reason`). */
  | "ENGINE_GRANT_FAILED"
  | "ENGINE_COMMAND_EXIT"
  | "ENGINE_COMMAND_SIGNAL"
  | "ENGINE_COMMAND_TIMEOUT"
  | "ENGINE_COMMAND_SPAWN";

/** Codes of state-store findings and errors. */
export type StoreCode =
  /** The statefile is not a valid state file: moved aside, the store starts empty. */
  | "STORE_CORRUPT"
  /** The statefile could not be read (other than not existing). */
  | "STORE_READ_FAILED"
  /** The statefile could not be written. */
  | "STORE_WRITE_FAILED"
  /** The store was used after `close()`. */
  | "STORE_CLOSED"
  /** Another process holds the statefile (`lockStateFile`): one daemon per statefile. */
  | "STORE_LOCKED"
  /** A state key path is unsafe (see `checkStateKey`). */
  | "STATE_KEY_INVALID";

/** A refusal: the code, one sentence, and the offending untrusted value (if any). */
export interface Refusal {
  code: RefusalCode;
  message: string;
  /** The untrusted value that caused the refusal, as received (escape it before logging). */
  input?: string;
}

/** Thrown on misuse of an engine (e.g. `accept` after `close`). */
export class EngineError extends PortknockError<"ENGINE_CLOSED"> {
  override name = "EngineError";
}

/** Thrown by state stores on misuse or on I/O failure. */
export class StoreError extends PortknockError<StoreCode> {
  override name = "StoreError";
}

/**
 * Internal: thrown inside evaluation to abort an action with a refusal; always caught by the
 * engine and turned into a counted `Refusal`.
 */
export class RefusalSignal extends Error {
  override name = "RefusalSignal";
  readonly refusal: Refusal;
  constructor(refusal: Refusal) {
    super(refusal.message);
    this.refusal = refusal;
  }
}
