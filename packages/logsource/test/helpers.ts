/** Test helpers: temp dirs, fixture paths, a recording logger, and line collectors. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { onTestFinished } from "vitest";
import type { Logger } from "@portknock/core";

/** The absolute path of a file under `test/fixtures/`. */
export function fixture(...parts: string[]): string {
  return join(fileURLToPath(new URL("fixtures/", import.meta.url)), ...parts);
}

/** A fresh temp directory, removed when the current test finishes. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "portknock-logsource-"));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** One recorded log call. */
export interface LogEntry {
  level: "debug" | "info" | "warn" | "error";
  fields: Record<string, unknown>;
  msg?: string;
}

/** A logger that records every call (children record into the same list, with bindings). */
export interface RecordingLogger extends Logger {
  entries: LogEntry[];
  /** Resolves once `done(entries)` holds (checked on every entry); rejects after `timeoutMs`. */
  waitFor(
    done: (entries: readonly LogEntry[]) => boolean,
    timeoutMs?: number,
  ): Promise<void>;
}

/** Creates a `RecordingLogger`. */
export function recordingLogger(): RecordingLogger {
  const entries: LogEntry[] = [];
  const listeners = new Set<() => void>();
  const make = (bindings: Record<string, unknown>): Logger => {
    const at =
      (level: LogEntry["level"]) =>
      (fields: object, msg?: string): void => {
        entries.push({ level, fields: { ...bindings, ...fields }, msg });
        for (const l of [...listeners]) l();
      };
    return {
      debug: at("debug"),
      info: at("info"),
      warn: at("warn"),
      error: at("error"),
      child: (more: object) => make({ ...bindings, ...more }),
    };
  };
  return {
    ...make({}),
    entries,
    waitFor(done, timeoutMs = 5000): Promise<void> {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          if (!done(entries)) return;
          clearTimeout(timer);
          listeners.delete(check);
          resolve();
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`timed out; logged ${JSON.stringify(entries)}`));
        }, timeoutMs);
        listeners.add(check);
        check();
      });
    },
  };
}

/** The entries of one event. */
export function events(logger: RecordingLogger, event: string): LogEntry[] {
  return logger.entries.filter((e) => e.fields.event === event);
}

/**
 * Consumes `items` in the background. `waitFor` resolves once `done(items)` holds (checked on
 * every new item) and rejects after `timeoutMs` with what arrived: tests wait on data, never on
 * fixed sleeps.
 */
export function collect<T>(items: AsyncIterable<T>): {
  items: T[];
  waitFor(
    done: (items: readonly T[]) => boolean,
    timeoutMs?: number,
  ): Promise<void>;
  /** Resolves when the iteration ends (with its error, if any). */
  ended: Promise<unknown>;
} {
  const got: T[] = [];
  const waiters = new Set<() => void>();
  let finished = false;
  const ended = (async (): Promise<unknown> => {
    try {
      for await (const item of items) {
        got.push(item);
        for (const w of [...waiters]) w();
      }
      return undefined;
    } catch (error) {
      return error;
    } finally {
      finished = true;
      for (const w of [...waiters]) w();
    }
  })();
  return {
    items: got,
    ended,
    waitFor(done, timeoutMs = 5000): Promise<void> {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          if (done(got)) {
            cleanup();
            resolve();
          } else if (finished) {
            cleanup();
            reject(new Error(`source ended; got ${JSON.stringify(got)}`));
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(
            new Error(
              `timed out after ${timeoutMs} ms; got ${JSON.stringify(got)}`,
            ),
          );
        }, timeoutMs);
        const cleanup = (): void => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
  };
}
