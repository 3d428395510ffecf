/**
 * `knockd`: the daemon's CLI (spec: daemon.md). Parses flags, loads and audits the config, then
 * either checks it (`-check`), replays a log (`-replay FILE`) or follows the firewall log until
 * SIGTERM/SIGINT, reloading on SIGHUP and logging counters on SIGUSR1.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { performance } from "node:perf_hooks";
import type { Diagnostic, Logger } from "@portknock/core";
import { findConfigFile } from "@portknock/config";
import { formatDiagnostic } from "@portknock/core";
import type { StateStore } from "@portknock/engine";
import {
  createFileStore,
  createMemoryStore,
  spawnRunner,
} from "@portknock/engine";
import { systemClock } from "@portknock/core";
import type { LogSourceStats, PrestartedReplay } from "@portknock/logsource";
import { createLogHitSource } from "@portknock/logsource";
import type { PacketSourceStats } from "@portknock/pcap";
import { pcapModule } from "./pcap-module.ts";
import { parseDaemonArgs } from "./argv.ts";
import { auditConfig } from "./audit.ts";
import type { Io } from "@portknock/core";
import { EXIT_OK, EXIT_RUNTIME, EXIT_USAGE } from "@portknock/core";
import type { LoadedDaemon } from "./load.ts";
import { loadDaemon } from "./load.ts";
import { createDaemonLogger } from "./logger.ts";
import { describeSettings, formatCounters } from "./report.ts";
import type { Instance } from "./instance.ts";
import { startInstance } from "./instance.ts";
import { createLinePipeline } from "./line-pipeline.ts";
import { followSource } from "./follow.ts";

/** `knockd -h`. */
export const USAGE = `usage: knockd [-conf FILE] [-debug] [-quiet] [-test] [-check] [-replay FILE]
              [-logjson] [-h] [-man]

Follows the firewall log (runmode = file) or captures packets (runmode =
network), decodes port knocks and runs the actions of knockdaemon.conf. Options take one or two dashes.
  -conf FILE    configuration (default: ~/.knockdaemon.conf, BIN/knockdaemon.conf,
                BIN/etc/, BIN/../etc/, /etc/portknock/knockdaemon.conf)
  -check        validate the config, print the settings and the security audit
  -replay FILE  run a whole log or .pcap through the pipeline, print counters
  -test         run nothing, change no state: log each would-be action
  -debug        log every hit and decision    -quiet   log only errors
  -logjson      log JSON lines                -man     the full manual
Exit status: 0 ok, 1 runtime failure, 2 usage or config error.`;

function readManual(): string {
  return readFileSync(
    new URL("../man/knockd.txt", import.meta.url),
    "utf8",
  ).trimEnd();
}

/** Options of `main` beyond the streams. */
export interface DaemonMainOptions {
  /** Stops a follow-mode daemon (tests); SIGTERM/SIGINT do the same in the real process. */
  signal?: AbortSignal;
  /** Install SIGTERM/SIGINT/SIGHUP/SIGUSR1 handlers (default true). */
  handleSignals?: boolean;
  /**
   * `-replay` of a log: its worker threads, started ahead (bin/knockd.js, `prestart.ts`); the
   * replay takes them over. Stopped when `main` returns if it did not. Default: the replay
   * starts its own.
   */
  replayWorkers?: PrestartedReplay;
}

/** Runs knockd; returns the exit code (never calls `process.exit`). */
export async function main(
  argv: readonly string[],
  io: Io,
  options: DaemonMainOptions = {},
): Promise<number> {
  try {
    return await run(argv, io, options);
  } finally {
    await options.replayWorkers?.close();
  }
}

/** `main`, less stopping the workers started ahead. */
async function run(
  argv: readonly string[],
  io: Io,
  options: DaemonMainOptions,
): Promise<number> {
  const err = (t: string): void => void io.stderr.write(t + "\n");
  const out = (t: string): void => void io.stdout.write(t + "\n");
  const parsed = parseDaemonArgs(argv);
  if (!parsed.ok) {
    err(`knockd: ${formatDiagnostic(parsed.diagnostic)}`);
    return EXIT_USAGE;
  }
  const args = parsed.args;
  if (args.help) {
    out(USAGE);
    return EXIT_OK;
  }
  if (args.man) {
    out(readManual());
    return EXIT_OK;
  }

  const binDir = fileURLToPath(new URL("../bin/", import.meta.url));
  const confPath =
    args.conf ??
    findConfigFile("knockdaemon.conf", { home: io.env.HOME, binDir });
  if (confPath == null) {
    err(
      "knockd: CONFIG_NOT_FOUND: no configuration file: give -conf FILE or create ~/.knockdaemon.conf or /etc/portknock/knockdaemon.conf",
    );
    return EXIT_USAGE;
  }
  const showDiagnostics = (
    ds: readonly Diagnostic[],
    sources: Map<string, string>,
    quiet: boolean,
  ): void => {
    for (const d of ds) {
      if (d.severity !== "error" && quiet) continue;
      const src =
        d.where.kind === "config" ? sources.get(d.where.file) : undefined;
      err(`knockd: ${formatDiagnostic(d, src)}`);
    }
  };
  const first = await loadDaemon(confPath);
  showDiagnostics(first.diagnostics, first.sources, args.quiet);
  if (first.daemon == null) return EXIT_USAGE;
  const loaded = first.daemon;
  const audit = auditConfig(loaded.config, loaded.knock);

  if (args.check) {
    out(describeSettings(loaded));
    out("");
    out(
      audit.length === 0
        ? "security audit: nothing to report"
        : "security audit:",
    );
    for (const f of audit) out(`  ${f.severity} ${f.code}: ${f.message}`);
    return EXIT_OK;
  }

  const logger = createDaemonLogger({
    json: args.logjson,
    level: args.debug ? "debug" : args.quiet ? "error" : "info",
    stream: io.stderr,
  });
  logger.info(
    {
      event: "start",
      config: confPath,
      runmode: loaded.config.runmode,
      test: args.test,
      replay: args.replay ?? null,
    },
    "knockd starting",
  );
  for (const f of audit) {
    if (f.severity === "warning")
      logger.warn({ event: "audit", code: f.code }, f.message);
    else logger.info({ event: "audit", code: f.code }, f.message);
  }

  let store: StateStore;
  try {
    store = await openStore(loaded, logger, args.test);
  } catch (e) {
    logger.error(
      { event: "store.error", code: (e as { code?: string }).code },
      (e as Error).message,
    );
    return EXIT_RUNTIME;
  }
  const deps = {
    store,
    clock: systemClock,
    run: spawnRunner(),
    logger,
    test: args.test,
    debug: args.debug,
  };
  let instance: Instance = await startInstance(loaded, deps);
  const pipeline = createLinePipeline(() => instance, systemClock, logger);

  try {
    if (args.replay != null) {
      const startedMs = performance.now();
      const startedCpu = process.cpuUsage();
      // The whole file through logsource's batched replay path (read → parse → retransmit
      // filter), then the same queues and engine as follow mode.
      const net = loaded.network;
      // file mode: the whole log through logsource's batched replay path (read → parse →
      // retransmit filter); network mode: a .pcap capture through the same decoding as a live
      // capture. Then the same queues and engine as a running daemon.
      const source =
        net != null
          ? pcapModule().createPacketHitSource({
              file: args.replay,
              ranges: loaded.knock.span.ranges,
              protocol: net.protocol,
              ...(net.ethfilter != null ? { ethfilter: net.ethfilter } : {}),
              logger,
            })
          : createLogHitSource({
              path: args.replay,
              replay: true,
              format: instance.format!,
              clock: systemClock,
              // The queues drop kernel retransmits, in memory bounded by maxsources.
              retransmitWindowMs: 0,
              // Blocks of the file are parsed on the other cores too, by the workers that
              // bin/knockd.js started ahead when there are some.
              replayWorkers: options.replayWorkers ?? "auto",
              logger,
            });
      try {
        if ("nextColumns" in source) {
          // One promise per chunk of log text, and hits as numbers until one is accepted.
          for (
            let cols = await source.nextColumns();
            cols != null;
            cols = await source.nextColumns()
          ) {
            instance.core.handleColumns(cols);
          }
        } else {
          for await (const hit of source) instance.core.handleHit(hit);
        }
      } catch (e) {
        logger.error(
          { event: "replay.error", code: (e as NodeJS.ErrnoException).code },
          `cannot read ${args.replay}: ${(e as Error).message}`,
        );
        return EXIT_RUNTIME;
      }
      await instance.core.idle();
      const elapsedMs = performance.now() - startedMs;
      const cpu = process.cpuUsage(startedCpu);
      const cpuMs = (cpu.user + cpu.system) / 1000;
      const base = instance.core.counters();
      const stats = replayStats(source.stats);
      const lineRejections = Object.fromEntries(
        Object.entries(stats.rejections).filter(([, n]) => n > 0),
      );
      const counters = {
        ...base,
        linesSeen: stats.seen,
        rejections: { ...lineRejections, ...base.rejections },
        retransmitsDropped: base.retransmitsDropped + stats.duplicates,
        sources: instance.core.sources(),
        // A log in blocks: how many the worker threads parsed, and the started-ahead ones did.
        ...stats.blocks,
        // How fast the pipeline went, and the most memory the process used: for sizing.
        elapsedMs: Math.round(elapsedMs),
        linesPerSecond: Math.round(
          (stats.seen * 1000) / Math.max(elapsedMs, 1),
        ),
        // CPU time of the whole process meanwhile (GC and I/O threads included): the rate that
        // other work on the machine does not change.
        cpuMs: Math.round(cpuMs),
        linesPerCpuSecond: Math.round((stats.seen * 1000) / Math.max(cpuMs, 1)),
        maxRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
      };
      out(args.logjson ? JSON.stringify(counters) : formatCounters(counters));
      return EXIT_OK;
    }

    return await followSource({
      initial: instance,
      pipeline,
      logger,
      confPath,
      signal: options.signal,
      handleSignals: options.handleSignals ?? true,
      reload: async (): Promise<Instance | undefined> => {
        const next = await loadDaemon(confPath);
        for (const d of next.diagnostics) {
          const fields = {
            event: "reload.diagnostic",
            code: d.code,
            source:
              d.where.kind === "config"
                ? `${d.where.file}:${d.where.line}`
                : undefined,
          };
          if (d.severity === "error") logger.error(fields, d.message);
          else logger.warn(fields, d.message);
        }
        if (next.daemon == null) return undefined;
        return startInstance(next.daemon, deps);
      },
      setInstance: (i: Instance): void => {
        instance = i;
      },
    });
  } finally {
    await instance.engine.close();
    await store.close();
  }
}

async function openStore(
  loaded: LoadedDaemon,
  logger: Logger,
  readOnly: boolean,
): Promise<StateStore> {
  const path = loaded.config.statefile;
  if (path == null || readOnly) return createMemoryStore();
  const store = await createFileStore(path, { logger });
  for (const d of store.diagnostics) {
    const fields = { event: "store.diagnostic", code: d.code, source: path };
    if (d.severity === "error") logger.error(fields, d.message);
    else logger.warn(fields, d.message);
  }
  return store;
}

/** Lines (or frames) seen, rejections by reason and retransmits dropped, from either source. */
function replayStats(s: LogSourceStats | PacketSourceStats): {
  seen: number;
  rejections: Record<string, number>;
  duplicates: number;
  blocks?: Pick<
    LogSourceStats,
    "blocks" | "blocksByWorkers" | "blocksTakenOver" | "workersTakenOver"
  >;
} {
  if ("lines" in s)
    return {
      seen: s.lines,
      rejections: s.rejections,
      duplicates: s.duplicates,
      blocks: {
        blocks: s.blocks,
        blocksByWorkers: s.blocksByWorkers,
        blocksTakenOver: s.blocksTakenOver,
        workersTakenOver: s.workersTakenOver,
      },
    };
  return {
    seen: s.capture.seen,
    rejections: { ...s.capture.rejections },
    duplicates: s.duplicates,
  };
}
