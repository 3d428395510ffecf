/**
 * The one exception class of `@portknock/firewall` (STYLE.md §5).
 */
import { PortknockError } from "@portknock/core";
import type { FirewallCode } from "./codes.ts";

/** What a failed firewall command did: its argv, exit status and (bounded) stderr. */
export interface CommandFailure {
  argv: readonly string[];
  exitCode: number | null;
  signal: string | null;
  stderr: string;
}

/**
 * Thrown by every `Firewall` method: a bad grant or base ruleset (nothing ran), misuse, or a
 * firewall command that failed (`command` then holds what it did, `message` its stderr).
 */
export class FirewallError extends PortknockError<FirewallCode> {
  override name = "FirewallError";
  /** The command that failed, for the `FIREWALL_COMMAND_*` and `FIREWALL_BAD_OUTPUT` codes. */
  readonly command?: CommandFailure;
  constructor(
    code: FirewallCode,
    message: string,
    options?: ErrorOptions & { command?: CommandFailure },
  ) {
    super(code, message, options);
    if (options?.command != null) this.command = options.command;
  }
}
