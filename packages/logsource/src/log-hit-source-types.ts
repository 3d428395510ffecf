/**
 * The types of the log hit source (`createLogHitSource`): where lines come from, its options, its
 * counters and its interface.
 */
import type {
  Clock,
  Diagnostic,
  HitColumns,
  HitSource,
  KnockHit,
  Logger,
} from "@portknock/core";
import type { RejectCode } from "./errors.ts";
import type { CompiledLogFormat } from "./log-format.ts";
import type { PrestartedReplay } from "./prestart-replay.ts";
import type { Backoff } from "./run-log-command.ts";
import type { LogLine } from "./types.ts";

/** Where the lines come from: exactly one of these. */
export type LogInput =
  /** Follow a file like `tail -F` (`logfile`). */
  | { path: string; replay?: false }
  /** Read a whole file once, from its first line (`knockd -replay FILE`). */
  | { path: string; replay: true }
  /**
   * Run a command and read its stdout (`logcommand`, already split with `parseLogCommand`);
   * each run starts at "now" (`runLogCommand`'s `startAt`).
   */
  | { argv: readonly string[] }
  /** Lines from anywhere else (tests, other adapters). */
  | { lines: AsyncIterable<LogLine> };

/** Options of `createLogHitSource`. */
export type LogHitSourceOptions = LogInput & {
  format: CompiledLogFormat;
  /** Stops reading; the iteration ends. */
  signal?: AbortSignal;
  /** Hit times and the log rate limit. Default `systemClock`. */
  clock?: Clock;
  logger?: Logger;
  /** Called for every rejected line (after counting), with its diagnostic and text. */
  onReject?: (diagnostic: Diagnostic<RejectCode>, line: string) => void;
  /** `followLog`'s poll interval, in ms (`fileinterval`). Default 500. */
  pollIntervalMs?: number;
  /** `runLogCommand`'s restart delays. */
  backoff?: Backoff;
  /** `readLogFile`'s read size for `replay`. Default 1 MiB. */
  replayChunkBytes?: number;
  /**
   * `replay`, `nextColumns` only: worker threads that parse blocks of the file besides this one:
   * how many to start; "auto", one per other core (at most 3); or workers started ahead by
   * `prestartReplay` (the source takes them over, with the blocks they parsed when it is that
   * file with the built-in format; if none is left running, "auto"; closing the
   * `PrestartedReplay` stops them if the source never took them). Default 0. The file is read up
   * to its size when the replay starts.
   */
  replayWorkers?: number | "auto" | PrestartedReplay;
  /**
   * `replay`, `nextColumns` only: bytes per block. Default that of `replayWorkers` when
   * prestarted, else 1 MiB.
   */
  replayBlockBytes?: number;
  /** `followLog`: called once the start position is fixed. */
  onReady?: () => void;
};

/** Counters of a log hit source (daemon.md §8). */
export interface LogSourceStats {
  /** Lines read. */
  lines: number;
  /** Hits yielded. */
  hits: number;
  /**
   * Rejected lines by code; `LOG_LINE_BEFORE_START` counts a command's lines stamped before its
   * run started (its backlog), which are dropped unparsed.
   */
  rejections: Record<RejectCode, number>;
  /** `replay` through `nextColumns`: blocks of the file handed on (0 otherwise). */
  blocks: number;
  /** Of `blocks`, parsed by a worker thread (0 with no worker running). */
  blocksByWorkers: number;
  /** Of `blocks`, parsed by `prestartReplay`'s workers before the replay took them over. */
  blocksTakenOver: number;
  /** `prestartReplay`'s workers the replay took over with the blocks they did (same file, format). */
  workersTakenOver: number;
}

/**
 * A log hit source (core's `HitSource`): iterate it once; `close` stops it (idempotent). One
 * implementation for every way lines arrive: a followed file, a command, a replayed file.
 */
export interface LogHitSource extends HitSource<LogSourceStats> {
  /**
   * Parses the lines read from now on with `format` (knockd's SIGHUP: a changed `<logformat>`
   * without reopening the file, so no line is lost or read twice). The lines of a batch already
   * read keep the format they were parsed with. Not for a replay in blocks (`nextColumns` of a
   * replayed regular file): its format is fixed when it starts.
   */
  setFormat(format: CompiledLogFormat): void;
  /**
   * The hits of the next batch of lines (one file chunk; possibly none), or undefined at the
   * end: one promise per batch instead of one per hit, for consumers that go fast (`-replay`).
   * The array is reused by the next call: consume it before calling again. Do not mix with
   * the async iterator.
   */
  nextBatch(): Promise<readonly KnockHit[] | undefined>;
  /**
   * `nextBatch` in columns (see `HitColumns`): the same hits in the same order, most of them as
   * numbers (an IPv4 source and two ports) and built only when asked for. The object is reused
   * by the next call. Do not mix with `nextBatch` or the async iterator.
   */
  nextColumns(): Promise<HitColumns | undefined>;
}
