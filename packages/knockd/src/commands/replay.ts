/**
 * `knockd -replay FILE`: a whole firewall log (file mode) or `.pcap` capture (network mode)
 * through the same source, detector and engine as a running daemon, then the counters, with
 * how fast it went (for sizing).
 */
import { performance } from "node:perf_hooks";
import { EXIT_OK, EXIT_RUNTIME } from "@portknock/core";
import type { LogHitSource, PrestartedReplay } from "@portknock/logsource";
import { createLogHitSource } from "@portknock/logsource";
import type { PacketHitSource } from "@portknock/pcap";
import { codeOf } from "../codes.ts";
import { createCounterBook, sourceCounts } from "../counters.ts";
import type { Daemon } from "../daemon.ts";
import { createPacketDebugLog } from "../packet-debug.ts";
import { pcapModule } from "../pcap-module.ts";
import { formatCounters } from "../report.ts";

/**
 * Replays `file` and prints the counters; exit 0, or 1 when the file cannot be read (a capture
 * corrupt mid-file: 1 after the counters of what came before).
 */
export async function runReplay(
  daemon: Daemon,
  file: string,
  workers: PrestartedReplay | undefined,
): Promise<number> {
  const { instance, logger } = daemon;
  const startedMs = performance.now();
  const startedCpu = process.cpuUsage();
  const source = openReplay(daemon, file, workers);
  let failed = false;
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
      { event: "replay.error", code: codeOf(e, "REPLAY_FAILED") },
      `cannot read ${file}: ${(e as Error).message}`,
    );
    // A log that cannot be read ends here. A capture corrupt mid-file (the message names the
    // record and its byte offset) has had its packets before it counted: print them (#16).
    if ("nextColumns" in source) return EXIT_RUNTIME;
    failed = true;
  }
  await instance.core.idle();
  const elapsedMs = performance.now() - startedMs;
  const cpu = process.cpuUsage(startedCpu);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  const counts = sourceCounts(source.stats);
  const unit = counts.packets ? "packets" : "lines";
  const counters = {
    ...createCounterBook().snapshot(instance.core, counts),
    sources: instance.core.sources(),
    // A log in blocks: how many the worker threads parsed, and the started-ahead ones did.
    ...("lines" in source.stats && {
      blocks: source.stats.blocks,
      blocksByWorkers: source.stats.blocksByWorkers,
      blocksTakenOver: source.stats.blocksTakenOver,
      workersTakenOver: source.stats.workersTakenOver,
    }),
    // How fast the pipeline went, and the most memory the process used: for sizing.
    elapsedMs: Math.round(elapsedMs),
    [`${unit}PerSecond`]: Math.round(
      (counts.seen * 1000) / Math.max(elapsedMs, 1),
    ),
    // CPU time of the whole process meanwhile (GC and I/O threads included): the rate that
    // other work on the machine does not change.
    cpuMs: Math.round(cpuMs),
    [`${unit}PerCpuSecond`]: Math.round(
      (counts.seen * 1000) / Math.max(cpuMs, 1),
    ),
    maxRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
  };
  daemon.io.stdout.write(
    (daemon.args.logjson
      ? JSON.stringify(counters)
      : formatCounters(counters)) + "\n",
  );
  return failed ? EXIT_RUNTIME : EXIT_OK;
}

/**
 * file mode: the log through logsource's replay in blocks (on every core, by the workers that
 * bin/knockd.js started ahead when there are some); network mode: a .pcap through the same
 * decoding as a live capture.
 */
function openReplay(
  daemon: Daemon,
  file: string,
  workers: PrestartedReplay | undefined,
): LogHitSource | PacketHitSource {
  const { loaded } = daemon.instance;
  const net = loaded.network;
  if (net != null) {
    return pcapModule().createPacketHitSource({
      file,
      ranges: loaded.knock.span.ranges,
      protocol: net.protocol,
      ...(net.ethfilter != null ? { ethfilter: net.ethfilter } : {}),
      logger: daemon.logger,
      ...(daemon.args.debug &&
        createPacketDebugLog({
          logger: daemon.logger,
          clock: daemon.deps.clock,
        })),
    });
  }
  return createLogHitSource({
    path: file,
    replay: true,
    format: loaded.logFormat!,
    clock: daemon.deps.clock,
    replayWorkers: workers ?? "auto",
    logger: daemon.logger,
  });
}
