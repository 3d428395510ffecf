/**
 * File mode's pipeline (daemon.md §1–2): log lines → `<logformat>` → queues (which drop kernel
 * retransmits). A bad line is a counted, rate-limited rejection naming its origin; nothing a line contains can
 * stop the loop.
 */
import type { Clock, Logger } from "@portknock/core";
import { createRateLimiter, escapeInput } from "@portknock/core";
import type { LogLine } from "@portknock/logsource";
import { parseLogRecord } from "@portknock/logsource";
import type { Instance } from "./instance.ts";

/** Feeds lines to whichever instance is current (SIGHUP swaps it). */
export interface LinePipeline {
  handle(line: LogLine): void;
}

/** Creates the pipeline; `current()` returns the instance lines go to. */
export function createLinePipeline(
  current: () => Instance,
  clock: Clock,
  logger: Logger,
): LinePipeline {
  const limiter = createRateLimiter({ clock, intervalMs: 60_000 });
  return {
    handle(line: LogLine): void {
      const instance = current();
      const format = instance.format;
      if (format == null) return;
      const r = parseLogRecord(line, format, clock);
      if (r.kind === "skip") {
        instance.core.countSeen();
        return;
      }
      if (r.kind === "reject") {
        instance.core.countSeen(r.code);
        const suppressed = limiter.take(r.code);
        if (suppressed < 0) return;
        logger.warn(
          {
            event: "line.rejected",
            code: r.code,
            source: `${line.file}:${line.lineNo}`,
            input: escapeInput(line.text),
            ...(suppressed > 0 && { suppressed }),
          },
          r.message,
        );
        return;
      }
      instance.core.handleHit(r.hit);
    },
  };
}
