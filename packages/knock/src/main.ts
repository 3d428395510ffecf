/**
 * `knock`: the port-knocking client (spec: client.md). Thin: parse the flags, dispatch to the
 * command, map its status or an unexpected exception to the exit code (STYLE.md §7).
 */
import { parseArgs } from "./argv.ts";
import type { ParsedArgs } from "./argv.ts";
import type { Io } from "@portknock/core";
import { quietBrokenPipe } from "@portknock/core";
import { EXIT_OK, EXIT_RUNTIME, EXIT_USAGE } from "@portknock/core";
import type { CommandContext, CommandStatus } from "./commands/context.ts";
import { createContext } from "./commands/context.ts";
import { reportFailure } from "./commands/failure.ts";
import { runGenkey, runHelp, runManual, runVersion } from "./commands/help.ts";
import { runKnock } from "./commands/knock.ts";

/** Options of `main` beyond the I/O streams: the clock, for tests. */
export interface MainOptions {
  /** The clock, epoch milliseconds; default `Date.now`. */
  now?: () => number;
}

const EXIT: Record<CommandStatus, number> = {
  done: EXIT_OK,
  failed: EXIT_RUNTIME,
  rejected: EXIT_USAGE,
};

/**
 * Runs the client with `argv` (without the node and script paths); resolves to the exit code:
 * 0 done, 1 runtime failure, 2 usage or config error. Never calls `process.exit`, never
 * rejects: an unexpected exception is printed as `knock: CODE: message` and exits 1.
 */
export async function main(
  argv: readonly string[],
  io: Io,
  options: MainOptions = {},
): Promise<number> {
  quietBrokenPipe(io);
  const parsed = parseArgs(argv);
  if (!parsed.ok) {
    const ctx = createContext(io, Date.now, false);
    return EXIT[ctx.reject(parsed.diagnostic)];
  }
  const args = parsed.args;
  const ctx = createContext(io, options.now ?? Date.now, args.quiet);
  try {
    return EXIT[await dispatch(args, ctx)];
  } catch (e) {
    return reportFailure(e, io, args.debug);
  }
}

/** The one command `args` asks for. */
function dispatch(
  args: ParsedArgs,
  ctx: CommandContext,
): CommandStatus | Promise<CommandStatus> {
  if (args.help) return runHelp(ctx);
  if (args.man) return runManual(ctx);
  if (args.genkey) return runGenkey(ctx);
  if (args.version) return runVersion(ctx);
  return runKnock(args, ctx);
}
