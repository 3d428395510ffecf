/**
 * Rate-limited warnings (STYLE.md §5, daemon.md §1): the first rejection of each reason in a
 * window is logged with its origin; the rest are counted and reported with the next one logged.
 */
import type { Logger } from "@portknock/config";

/** Logs `warn` at most once per `key` per `windowMs`, saying how many were suppressed. */
export interface RateLimitedWarn {
  (key: string, nowMs: number, fields: object, msg: string): void;
}

/** Creates a rate-limited `warn` on `logger`. */
export function createRateLimitedWarn(
  logger: Logger,
  windowMs = 60_000,
): RateLimitedWarn {
  const last = new Map<string, { at: number; suppressed: number }>();
  return (key, nowMs, fields, msg) => {
    const entry = last.get(key);
    if (entry != null && nowMs - entry.at < windowMs) {
      entry.suppressed++;
      return;
    }
    const suppressed = entry?.suppressed ?? 0;
    last.set(key, { at: nowMs, suppressed: 0 });
    logger.warn(suppressed > 0 ? { ...fields, suppressed } : fields, msg);
  };
}
