/**
 * A running daemon (daemon.md §1, signals): follow the firewall log (or `logcommand`), or capture
 * packets, until stopped. Every medium is a hit source (logsource's `createLogHitSource`,
 * pcap's `createPacketHitSource`) feeding the current instance's detector. SIGTERM/SIGINT stop
 * cleanly; SIGHUP reloads the config (a bad one is rejected and the old one keeps running; a
 * changed source is reopened, a changed `<logformat>` is swapped in without reopening the file);
 * SIGUSR1 logs the counters, which `metrics` also serves over HTTP (a changed address is
 * rebound on SIGHUP). A source that fails is reopened with back-off; nothing a line or a
 * packet contains can stop the loop.
 */
import type { HitSource } from "@portknock/core";
import { EXIT_OK, EXIT_RUNTIME } from "@portknock/core";
import type { LogHitSource } from "@portknock/logsource";
import { createLogHitSource } from "@portknock/logsource";
import type { PacketHitSource } from "@portknock/pcap";
import { codeOf } from "../codes.ts";
import type { CounterBook } from "../counters.ts";
import { createPacketDebugLog } from "../packet-debug.ts";
import type { CountersSnapshot } from "../metrics-endpoint.ts";
import {
  captureCounts,
  createCounterBook,
  sourceCounts,
  emptySourceCounts,
} from "../counters.ts";
import type { Daemon } from "../daemon.ts";
import type { Instance } from "../instance.ts";
import type { MetricsEndpoint } from "../metrics-server.ts";
import { openMetrics, reloadMetrics } from "../metrics-endpoint.ts";
import { pcapModule } from "../pcap-module.ts";
import { reloadInstance } from "../reload.ts";
import {
  capYoungGeneration,
  releaseYoungGeneration,
} from "../young-generation.ts";

/** Options of `runFollow`. */
export interface FollowOptions {
  /** Stops the daemon (tests); SIGTERM/SIGINT do the same in the real process. */
  signal?: AbortSignal | undefined;
  /** Install SIGTERM/SIGINT/SIGHUP/SIGUSR1 handlers. */
  handleSignals: boolean;
}

type Source = LogHitSource | PacketHitSource;

/** Which source an instance reads: a reload that keeps it keeps the open source. */
function sourceKey(i: Instance): string {
  const c = i.loaded.config;
  if (c.runmode === "network") {
    return `net:${c.interfaces.join(",")}:${c.snapshotSize}:${i.loaded.knock.span.text}:${c.useethfilter ?? ""}`;
  }
  return c.logcommand != null
    ? `cmd:${c.logcommand}`
    : `file:${c.logfile}:${c.fileIntervalMs}`;
}

/** What the source is, for log lines. */
function describeSource(i: Instance): Record<string, string> {
  const c = i.loaded.config;
  if (c.runmode === "network") return { interface: c.interfaces.join(" ") };
  return c.logcommand != null
    ? { logcommand: c.logcommand }
    : { logfile: c.logfile };
}

/** Opens the instance's source; a live capture opens at once (and throws if it cannot). */
function openSource(
  daemon: Daemon,
  signal: AbortSignal,
  onReady: () => void,
): Source {
  const { loaded } = daemon.instance;
  const c = loaded.config;
  const { logger } = daemon;
  if (c.runmode === "network") {
    capYoungGeneration();
    const hits = pcapModule().createPacketHitSource({
      interfaces: c.interfaces,
      ranges: loaded.knock.span.ranges,
      protocol: loaded.network?.protocol ?? "tcp",
      ...(loaded.network?.ethfilter != null
        ? { ethfilter: loaded.network.ethfilter }
        : {}),
      snapshotSize: c.snapshotSize,
      signal,
      logger,
      // Each hit goes to the instance of the moment (SIGHUP may replace it) where it is
      // decoded: no queue, no promise per hit, nothing a batch keeps alive (issue #20).
      onHit: (hit) => {
        daemon.instance.core.handleHit(hit);
      },
      onColumns: (columns) => {
        daemon.instance.core.handleColumns(columns);
      },
      ...(daemon.args.debug &&
        createPacketDebugLog({ logger, clock: daemon.deps.clock })),
    });
    logger.info(
      { event: "capture.filter", filter: hits.bpfFilter },
      "capturing",
    );
    onReady();
    return hits;
  }
  releaseYoungGeneration(); // file mode: measured with V8's default
  const common = {
    format: loaded.logFormat!,
    signal,
    clock: daemon.deps.clock,
    logger,
  };
  if (loaded.logCommand != null) {
    const source = createLogHitSource({ argv: loaded.logCommand, ...common });
    onReady();
    return source;
  }
  return createLogHitSource({
    path: c.logfile,
    pollIntervalMs: c.fileIntervalMs,
    onReady,
    ...common,
  });
}

/** Runs until stopped; returns the exit code. */
export async function runFollow(
  daemon: Daemon,
  options: FollowOptions,
): Promise<number> {
  const { logger } = daemon;
  const book = createCounterBook();
  const state: LoopState = {
    source: undefined,
    sourceAbort: new AbortController(),
    reloading: Promise.resolve(),
    metrics: undefined,
  };
  // One snapshot for SIGUSR1, the stop line and /metrics: the same numbers everywhere.
  const snapshot = (): CountersSnapshot => {
    const source = state.source;
    return {
      counters: book.snapshot(
        daemon.instance.core,
        source
          ? sourceCounts(source.stats)
          : emptySourceCounts(
              daemon.instance.loaded.config.runmode === "network",
            ),
      ),
      capture: book.capture(
        source != null && "pcapStats" in source
          ? captureCounts(source)
          : undefined,
      ),
      firewall: daemon.firewall?.counters(),
      cluster: daemon.cluster?.counters(),
    };
  };
  const counters = (): object => {
    const { counters: c, capture, firewall, cluster } = snapshot();
    return {
      event: "counters",
      ...c,
      ...(capture && { capture }),
      ...(firewall && { firewall }),
      ...(cluster && { cluster }),
    };
  };
  // An admin who asked for metrics gets them or a start-up error, before any hit is read.
  const metrics = await openMetrics(daemon, snapshot);
  if (metrics == null) return EXIT_RUNTIME;
  state.metrics = metrics;
  const stop = new AbortController();
  const onStop = (): void => stop.abort();
  options.signal?.addEventListener("abort", onStop, { once: true });
  const onHup = (): void => {
    state.reloading = state.reloading.then(() => reload(daemon, state, book));
  };
  const onUsr1 = (): void => logger.info(counters(), "counters");
  const handlers = {
    SIGTERM: onStop,
    SIGINT: onStop,
    SIGHUP: onHup,
    SIGUSR1: onUsr1,
  };
  if (options.handleSignals) {
    for (const [name, fn] of Object.entries(handlers)) process.on(name, fn);
  }
  try {
    const code = await readLoop(daemon, state, book, stop.signal);
    if (code !== EXIT_OK) return code;
    await state.reloading;
    await daemon.instance.core.idle();
    logger.info(counters(), "stopping");
    return EXIT_OK;
  } finally {
    if (options.handleSignals) {
      for (const [name, fn] of Object.entries(handlers)) process.off(name, fn);
    }
    options.signal?.removeEventListener("abort", onStop);
    await metrics.close();
  }
}

interface LoopState {
  source: Source | undefined;
  sourceAbort: AbortController;
  reloading: Promise<void>;
  metrics: MetricsEndpoint | undefined;
}

/** Opens the source and feeds its hits to the current instance, reopening it when needed. */
async function readLoop(
  daemon: Daemon,
  state: LoopState,
  book: CounterBook,
  stop: AbortSignal,
): Promise<number> {
  const { logger } = daemon;
  let readyLogged = false;
  let backoffMs = 500;
  while (!stop.aborted) {
    state.sourceAbort = new AbortController();
    const both = AbortSignal.any([stop, state.sourceAbort.signal]);
    const what = describeSource(daemon.instance);
    let source: Source;
    try {
      source = openSource(daemon, both, () => {
        // The source is open and the state loaded: what arrives from now on will be read.
        if (!readyLogged) logger.info({ event: "ready", ...what }, "ready");
        else logger.info({ event: "source.open", ...what }, "source reopened");
        readyLogged = true;
      });
    } catch (e) {
      logger.error(
        {
          event: "source.error",
          code: codeOf(e, "SOURCE_OPEN_FAILED"),
          ...what,
        },
        (e as Error).message,
      );
      return EXIT_RUNTIME;
    }
    state.source = source;
    try {
      for await (const hit of source as HitSource) {
        daemon.instance.core.handleHit(hit);
        backoffMs = 500;
      }
    } catch (e) {
      if (!both.aborted) {
        // A capture hands its hits on as they come (`onHit`): one at all means it worked.
        if ("pcapStats" in source && source.stats.hits > 0) backoffMs = 500;
        logger.error(
          { event: "source.error", code: codeOf(e, "SOURCE_FAILED"), ...what },
          `log source failed: ${(e as Error).message}; retrying in ${backoffMs} ms`,
        );
        await sleep(backoffMs, stop);
        backoffMs = Math.min(backoffMs * 2, 30_000);
      }
    } finally {
      await source.close();
      book.retireSource(
        sourceCounts(source.stats),
        "pcapStats" in source ? captureCounts(source) : undefined,
      );
      state.source = undefined;
    }
  }
  return EXIT_OK;
}

/** SIGHUP: a valid new configuration replaces the running one; an invalid one is rejected. */
async function reload(
  daemon: Daemon,
  state: LoopState,
  book: CounterBook,
): Promise<void> {
  const { logger, confPath } = daemon;
  logger.info(
    { event: "reload.start", config: confPath },
    "SIGHUP: reloading the configuration",
  );
  const next = await reloadInstance(daemon);
  if (next == null) {
    logger.error(
      { event: "reload.rejected", config: confPath },
      "the new configuration is invalid; keeping the old one",
    );
    return;
  }
  // Hits go to the new instance from here on, so no knock reaches the old engine once it is
  // closing; the old one finishes what it accepted before it is closed.
  const old = daemon.instance;
  daemon.instance = next;
  if (sourceKey(old) !== sourceKey(next)) {
    state.sourceAbort.abort();
  } else if (state.source != null && "setFormat" in state.source) {
    // The same file or command: lines read from now on use the new <logformat>.
    state.source.setFormat(next.loaded.logFormat!);
  }
  if (state.metrics) await reloadMetrics(daemon, state.metrics);
  await old.core.idle();
  await old.engine.close();
  book.retireCore(old.core);
  logger.info(
    { event: "reload.done", config: confPath },
    "configuration reloaded",
  );
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener(
      "abort",
      () => {
        clearTimeout(t);
        resolve();
      },
      { once: true },
    );
  });
}
