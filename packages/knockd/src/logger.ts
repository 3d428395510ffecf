/**
 * knockd's logger (STYLE.md §8, daemon.md §8): pino underneath, writing one line per event to
 * stderr. With `-logjson` the lines are pino's JSON; otherwise they are rendered as
 * `TIME LEVEL event key=value …` text, TIME in ISO 8601. Under systemd (`JOURNAL_STREAM` set: stderr
 * goes to the journal, which stamps the time itself) every line starts with its sd-daemon
 * priority instead, `<3>` error … `<7>` debug, so `journalctl -p err` finds knockd's errors. Keys,
 * IVs and passwords are redacted; untrusted text stays under `input`, escaped by JSON quoting.
 */
import { createRequire } from "node:module";
import { Writable } from "node:stream";
import type * as Pino from "pino";
import type { Logger } from "@portknock/core";

/** Options of `createDaemonLogger`. */
export interface DaemonLoggerOptions {
  json: boolean;
  level: "debug" | "info" | "error";
  stream: Writable;
  /** stderr is the journal's (`JOURNAL_STREAM`): sd-daemon priority prefixes, no timestamps. */
  journal?: boolean;
}

/** sd-daemon priorities (syslog levels) of pino's levels. */
const PRIORITIES: Record<number, number> = {
  10: 7,
  20: 7,
  30: 6,
  40: 4,
  50: 3,
  60: 2,
};

const LEVEL_NAMES: Record<number, string> = {
  10: "TRACE",
  20: "DEBUG",
  30: "INFO",
  40: "WARN",
  50: "ERROR",
  60: "FATAL",
};

function renderValue(v: unknown): string {
  if (typeof v === "string")
    return /^[\w./:@,+-]+$/.test(v) ? v : JSON.stringify(v);
  return JSON.stringify(v) ?? String(v);
}

/** Renders one pino JSON record as a text line (`TIME LEVEL event …`). Exported for tests. */
export function renderTextLine(record: Record<string, unknown>): string {
  const {
    level,
    time,
    pid: _pid,
    hostname: _host,
    msg,
    event,
    ...rest
  } = record;
  const head = [LEVEL_NAMES[Number(level)] ?? renderValue(level)];
  if (typeof time === "string") head.unshift(time);
  if (event != null) head.push(renderValue(event));
  if (msg != null && msg !== event) head.push(renderValue(msg));
  const fields = Object.entries(rest).map(([k, v]) => `${k}=${renderValue(v)}`);
  return [...head, ...fields].join(" ");
}

/** A Writable that turns pino's JSON lines into text lines, or prefixes them for the journal. */
function lineStream(out: Writable, json: boolean, journal: boolean): Writable {
  let pending = "";
  return new Writable({
    write(chunk: Buffer, _enc, done): void {
      pending += chunk.toString("utf8");
      let nl: number;
      while ((nl = pending.indexOf("\n")) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        let record: Record<string, unknown> | undefined;
        try {
          record = JSON.parse(line) as Record<string, unknown>;
        } catch {
          record = undefined;
        }
        if (record === undefined) {
          out.write(line + "\n");
          continue;
        }
        const prefix = journal
          ? `<${PRIORITIES[Number(record.level)] ?? 6}>`
          : "";
        if (journal && !json) delete record.time;
        out.write(prefix + (json ? line : renderTextLine(record)) + "\n");
      }
      done();
    },
  });
}

const LEVELS = { debug: 20, info: 30, error: 50 } as const;

/**
 * A logger that creates the real one on its first message at an enabled level: pino (20 ms and
 * 9 MiB at start-up) is not even loaded by a `-quiet` run that has nothing to report.
 */
function lazyLogger(make: () => Logger, level: number): Logger {
  let real: Logger | undefined;
  const target = (): Logger => (real ??= make());
  return {
    debug(fields: object, msg?: string): void {
      if (level <= 20) target().debug(fields, msg);
    },
    info(fields: object, msg?: string): void {
      if (level <= 30) target().info(fields, msg);
    },
    warn(fields: object, msg?: string): void {
      if (level <= 40) target().warn(fields, msg);
    },
    error(fields: object, msg?: string): void {
      target().error(fields, msg);
    },
    child(bindings: object): Logger {
      return lazyLogger(() => target().child(bindings), level);
    },
  };
}

/** Creates the daemon's logger. */
export function createDaemonLogger(options: DaemonLoggerOptions): Logger {
  return lazyLogger(() => createPino(options), LEVELS[options.level]);
}

function createPino(options: DaemonLoggerOptions): Logger {
  const { pino } = createRequire(import.meta.url)("pino") as typeof Pino;
  const journal = options.journal ?? false;
  const dest =
    options.json && !journal
      ? options.stream
      : lineStream(options.stream, options.json, journal);
  return pino(
    {
      level: options.level,
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: ["key", "iv", "password", "*.key", "*.iv", "*.password"],
        censor: "[redacted]",
      },
      formatters: { level: (_label, number) => ({ level: number }) },
    },
    dest,
  );
}
