/**
 * File mode's pipeline (daemon.md §1–2): log lines → `<logformat>` → retransmit filter → queues.
 * A bad line is a counted, rate-limited rejection naming its origin; nothing a line contains can
 * stop the loop.
 */
import type { Logger } from "@portknock/config";
import type { Clock, LogLine, RetransmitFilter } from "@portknock/logsource";
import { createRetransmitFilter, parseLogRecord } from "@portknock/logsource";
import type { Instance } from "./instance.ts";
import { createRateLimitedWarn } from "./rate-limit.ts";

/** Feeds lines to whichever instance is current (SIGHUP swaps it). */
export interface LinePipeline {
  handle(line: LogLine): void;
  readonly retransmits: number;
}

/** Creates the pipeline; `current()` returns the instance lines go to. */
export function createLinePipeline(
  current: () => Instance,
  clock: Clock,
  logger: Logger,
): LinePipeline {
  // Sized like the queues: a flood of distinct sources can push an entry out early (a retransmit
  // then counts twice, which the queues tolerate), but memory stays bounded by maxsources.
  const filter: RetransmitFilter = createRetransmitFilter({
    clock,
    maxEntries: Math.max(65_536, current().loaded.config.maxSources),
  });
  const warn = createRateLimitedWarn(logger);
  let retransmits = 0;
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
      if (filter.isDuplicate(r.hit)) {
        retransmits++;
        instance.core.countSeen("LOG_RETRANSMIT");
        return;
      }
      instance.core.handleHit(r.hit);
    },
    get retransmits(): number {
      return retransmits;
    },
  };
}
