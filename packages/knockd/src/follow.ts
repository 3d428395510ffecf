/**
 * Follow mode (daemon.md §1, signals): read the firewall log (or `logcommand`) until stopped.
 * SIGTERM/SIGINT stop cleanly; SIGHUP reloads the config (a bad one is rejected and the old one
 * keeps running; a changed log source is reopened); SIGUSR1 logs the counters. A source that fails
 * is reopened with back-off; nothing a line contains can stop the loop.
 */
import type { Logger } from "@portknock/core";
import type { LogLine } from "@portknock/logsource";
import type { PacketHitSource } from "@portknock/pcap";
import { pcapModule } from "./pcap-module.ts";
import { followLog, runLogCommand } from "@portknock/logsource";
import type { Instance } from "./instance.ts";
import type { LinePipeline } from "./line-pipeline.ts";
import { EXIT_OK, EXIT_RUNTIME } from "@portknock/core";

/** Options of `followSource`. */
export interface FollowOptions {
  initial: Instance;
  pipeline: LinePipeline;
  logger: Logger;
  confPath: string;
  signal: AbortSignal | undefined;
  handleSignals: boolean;
  /** Loads the config again: a new started instance, or undefined when it is invalid. */
  reload: () => Promise<Instance | undefined>;
  setInstance: (instance: Instance) => void;
}

function sourceKey(i: Instance): string {
  const c = i.loaded.config;
  if (c.runmode === "network") {
    return `net:${c.interfaces.join(",")}:${c.snapshotSize}:${i.loaded.knock.span.text}:${c.useethfilter ?? ""}`;
  }
  return c.logcommand != null
    ? `cmd:${c.logcommand}`
    : `file:${c.logfile}:${c.fileIntervalMs}`;
}

type Opened =
  | { kind: "lines"; lines: AsyncIterable<LogLine> }
  | { kind: "hits"; hits: PacketHitSource }
  | { kind: "error"; code: string; message: string };

function openSource(
  i: Instance,
  signal: AbortSignal,
  logger: Logger,
  onReady: () => void,
): Opened {
  const c = i.loaded.config;
  if (c.runmode === "network") {
    // The capture opens now (a failure throws here); hits come decoded, deduplicated and
    // filtered by the span and the ethfilter.
    const hits = pcapModule().createPacketHitSource({
      interfaces: c.interfaces,
      ranges: i.loaded.knock.span.ranges,
      protocol: i.loaded.network?.protocol ?? "tcp",
      ...(i.loaded.network?.ethfilter != null
        ? { ethfilter: i.loaded.network.ethfilter }
        : {}),
      snapshotSize: c.snapshotSize,
      signal,
      logger,
    });
    logger.info(
      { event: "capture.filter", filter: hits.bpfFilter },
      "capturing",
    );
    onReady();
    return { kind: "hits", hits };
  }
  const logCommand = i.loaded.logCommand;
  if (logCommand != null) {
    const lines = runLogCommand(logCommand, { signal, logger });
    onReady();
    return { kind: "lines", lines };
  }
  return {
    kind: "lines",
    lines: followLog(c.logfile, {
      signal,
      pollIntervalMs: c.fileIntervalMs,
      logger,
      onReady,
    }),
  };
}

/** Runs until stopped; returns the exit code. */
export async function followSource(o: FollowOptions): Promise<number> {
  const { logger, pipeline } = o;
  let instance = o.initial;
  const stop = new AbortController();
  const onStop = (): void => stop.abort();
  o.signal?.addEventListener("abort", onStop, { once: true });
  let sourceAbort = new AbortController();
  let reloading: Promise<void> = Promise.resolve();

  let capture: PacketHitSource | undefined;
  const counters = (): object => {
    const c = instance.core.counters();
    return {
      event: "counters",
      ...c,
      retransmitsDropped:
        c.retransmitsDropped + (capture?.stats.duplicates ?? 0),
      // network mode: frames seen and lost in JavaScript, and libpcap's own counters (packets
      // the kernel filter passed, and those lost because the ring was full or by the interface).
      ...(capture != null && {
        capture: {
          seen: capture.stats.capture.seen,
          droppedInQueue: capture.stats.capture.dropped,
          pcap: capture.pcapStats(),
        },
      }),
    };
  };
  const onHup = (): void => {
    reloading = reloading.then(async () => {
      logger.info(
        { event: "reload.start", config: o.confPath },
        "SIGHUP: reloading the configuration",
      );
      const next = await o.reload();
      if (next == null) {
        logger.error(
          { event: "reload.rejected", config: o.confPath },
          "the new configuration is invalid; keeping the old one",
        );
        return;
      }
      const old = instance;
      await old.core.idle();
      await old.engine.close();
      instance = next;
      o.setInstance(next);
      if (sourceKey(old) !== sourceKey(next)) sourceAbort.abort();
      logger.info(
        { event: "reload.done", config: o.confPath },
        "configuration reloaded",
      );
    });
  };
  const onUsr1 = (): void => logger.info(counters(), "counters");
  if (o.handleSignals) {
    process.on("SIGTERM", onStop);
    process.on("SIGINT", onStop);
    process.on("SIGHUP", onHup);
    process.on("SIGUSR1", onUsr1);
  }
  let readyLogged = false;
  let backoffMs = 500;
  try {
    while (!stop.signal.aborted) {
      sourceAbort = new AbortController();
      const both = AbortSignal.any([stop.signal, sourceAbort.signal]);
      const c = instance.loaded.config;
      const what =
        c.runmode === "network"
          ? { interface: c.interfaces.join(" ") }
          : c.logcommand != null
            ? { logcommand: c.logcommand }
            : { logfile: c.logfile };
      let opened: Opened;
      try {
        opened = openSource(instance, both, logger, () => {
          // The source is open and the state loaded: what arrives from now on will be read.
          if (!readyLogged) logger.info({ event: "ready", ...what }, "ready");
          else
            logger.info({ event: "source.open", ...what }, "source reopened");
          readyLogged = true;
        });
      } catch (e) {
        opened = {
          kind: "error",
          code: (e as { code?: string }).code ?? "SOURCE_OPEN_FAILED",
          message: (e as Error).message,
        };
      }
      if (opened.kind === "error") {
        logger.error(
          { event: "source.error", code: opened.code, ...what },
          opened.message,
        );
        return EXIT_RUNTIME;
      }
      try {
        if (opened.kind === "hits") {
          capture = opened.hits;
          for await (const hit of opened.hits) {
            instance.core.handleHit(hit);
            backoffMs = 500;
          }
        } else {
          for await (const line of opened.lines) {
            pipeline.handle(line);
            backoffMs = 500;
          }
        }
      } catch (e) {
        if (both.aborted) continue;
        logger.error(
          {
            event: "source.error",
            code: (e as NodeJS.ErrnoException).code,
            ...what,
          },
          `log source failed: ${(e as Error).message}; retrying in ${backoffMs} ms`,
        );
        await new Promise((resolve) => {
          const t = setTimeout(resolve, backoffMs);
          stop.signal.addEventListener(
            "abort",
            () => {
              clearTimeout(t);
              resolve(undefined);
            },
            { once: true },
          );
        });
        backoffMs = Math.min(backoffMs * 2, 30_000);
      }
    }
    await reloading;
    await instance.core.idle();
    logger.info(counters(), "stopping");
    return EXIT_OK;
  } finally {
    if (o.handleSignals) {
      process.off("SIGTERM", onStop);
      process.off("SIGINT", onStop);
      process.off("SIGHUP", onHup);
      process.off("SIGUSR1", onUsr1);
    }
    o.signal?.removeEventListener("abort", onStop);
  }
}
