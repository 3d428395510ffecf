/**
 * File mode's pipeline (daemon.md §1–2): log lines → `<logformat>` → queues (which drop kernel
 * retransmits). A bad line is a counted, rate-limited rejection naming its origin; nothing a line contains can
 * stop the loop.
 */
import type { Logger } from "@portknock/config";
import type { Clock, LogLine } from "@portknock/logsource";
import { parseLogRecord } from "@portknock/logsource";
import type { Instance } from "./instance.ts";
import { createRateLimitedWarn } from "./rate-limit.ts";

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
  const warn = createRateLimitedWarn(logger);
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
        warn(
          r.code,
          clock.now(),
          {
            event: "line.rejected",
            code: r.code,
            source: `${line.file}:${line.lineNo}`,
            input:
              line.text.length > 200
                ? line.text.slice(0, 200) + "…"
                : line.text,
          },
          r.message,
        );
        return;
      }
      instance.core.handleHit(r.hit);
    },
  };
}
