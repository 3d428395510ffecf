/**
 * `knockd`: the daemon's CLI (spec: daemon.md). Thin: parse the flags, load the configuration,
 * hand off to one command (`-check`, `-replay FILE`, or follow until stopped) and map what
 * escapes to an exit code (STYLE.md §7).
 */
import { fileURLToPath } from "node:url";
import { findConfigFile } from "@portknock/config";
import type { Io } from "@portknock/core";
import {
  EXIT_OK,
  EXIT_RUNTIME,
  EXIT_USAGE,
  formatDiagnostic,
  quietBrokenPipe,
} from "@portknock/core";
import type { PrestartedReplay } from "@portknock/logsource";
import type { DaemonArgs } from "./argv.ts";
import { parseDaemonArgs } from "./argv.ts";
import { runCheck } from "./commands/check.ts";
import { runFirewallRemove } from "./commands/firewall-remove.ts";
import { runFollow } from "./commands/follow.ts";
import { runInit } from "./commands/init.ts";
import { runReplay } from "./commands/replay.ts";
import type { KnockdCode } from "./codes.ts";
import { startDaemon } from "./daemon.ts";
import { environmentOptions } from "./environment.ts";
import { reportFailure } from "./failure.ts";
import { initFlagsAlone } from "./init-plan.ts";
import { loadAndReport } from "./load.ts";
import { readManual, readVersion, USAGE } from "./usage.ts";

export { USAGE } from "./usage.ts";

/** Options of `main` beyond the streams. */
export interface DaemonMainOptions {
  /** Stops a running daemon (tests); SIGTERM/SIGINT do the same in the real process. */
  signal?: AbortSignal;
  /** Install SIGTERM/SIGINT/SIGHUP/SIGUSR1 handlers (default true). */
  handleSignals?: boolean;
  /** `-replay` of a log: its worker threads, started ahead (bin/knockd.js); stopped at the end. */
  replayWorkers?: PrestartedReplay;
}

/** Runs knockd; returns the exit code (never calls `process.exit`, never throws). */
export async function main(
  argv: readonly string[],
  io: Io,
  options: DaemonMainOptions = {},
): Promise<number> {
  quietBrokenPipe(io);
  try {
    const parsed = parseDaemonArgs(argv);
    if (!parsed.ok) {
      io.stderr.write(`knockd: ${formatDiagnostic(parsed.diagnostic)}\n`);
      return EXIT_USAGE;
    }
    try {
      return await dispatch(parsed.args, io, options);
    } catch (e) {
      return reportFailure(e, io, parsed.args.debug);
    }
  } finally {
    await options.replayWorkers?.close();
  }
}

async function dispatch(
  args: DaemonArgs,
  io: Io,
  options: DaemonMainOptions,
): Promise<number> {
  const say = (text: string): number => (io.stdout.write(text + "\n"), EXIT_OK);
  if (args.help) return say(USAGE);
  if (args.man) return say(readManual());
  if (args.version) return say(`knockd ${readVersion()}`);
  if (args.init) return runInit(args, io);
  const alone = initFlagsAlone(args);
  if (alone != null) {
    io.stderr.write(`knockd: ${formatDiagnostic(alone)}\n`);
    return EXIT_USAGE;
  }
  const binDir = fileURLToPath(new URL("../bin/", import.meta.url));
  const confPath =
    args.conf ??
    findConfigFile("knockdaemon.conf", { home: io.env.HOME, binDir });
  if (confPath == null) {
    const code: KnockdCode = "CONFIG_NOT_FOUND";
    io.stderr.write(
      `knockd: ${code}: no configuration file: give -conf FILE or create ~/.knockdaemon.conf or /etc/portknock/knockdaemon.conf\n`,
    );
    return EXIT_USAGE;
  }
  const loaded = await loadAndReport(confPath, io, args.quiet);
  if (loaded == null) return EXIT_USAGE;
  if (args.firewallRemove) return runFirewallRemove(loaded, io, args.quiet);
  if (args.check) return runCheck(loaded, io, environmentOptions(args));
  const daemon = await startDaemon(loaded, args, confPath, io);
  if (daemon == null) return EXIT_RUNTIME;
  let code: number = EXIT_RUNTIME;
  try {
    code =
      args.replay != null
        ? await runReplay(daemon, args.replay, options.replayWorkers)
        : await runFollow(daemon, {
            signal: options.signal,
            handleSignals: options.handleSignals ?? true,
          });
  } finally {
    // Never throws; an unsaved statefile makes the exit code 1.
    const saved = await daemon.close();
    if (!saved && code === EXIT_OK) code = EXIT_RUNTIME;
  }
  return code;
}
