/**
 * What every command of the `knock` CLI gets: the streams, the clock, and one way to report
 * diagnostics (STYLE.md §7). Commands report what they find and return a status; `main` turns the
 * status into the exit code.
 */
import type { Diagnostic } from "@portknock/core";
import { capDiagnostics, formatDiagnostic } from "@portknock/core";
import type { Io } from "@portknock/core";
import type { KnockDiagnosticCode } from "../codes.ts";

/** How a command ended: `done` (exit 0), `failed` (reported, exit 1), `rejected` (exit 2). */
export type CommandStatus = "done" | "failed" | "rejected";

/** A diagnostic to print, with the text of the config file it points into (for the excerpt). */
export interface Finding {
  diagnostic: Diagnostic<KnockDiagnosticCode>;
  source?: string | undefined;
}

/** The streams, the clock and the reporting helpers of one run. */
export interface CommandContext {
  io: Io;
  /** The clock, epoch milliseconds. */
  clock: () => number;
  /** A line on stdout. */
  say(text: string): void;
  /** A line on stderr, prefixed `knock: `. */
  note(text: string): void;
  /** Prints each finding (warnings only without `-quiet`); true when one was an error. */
  report(findings: readonly Finding[]): boolean;
  /** Prints an error diagnostic that ends the command: returns `rejected`. */
  reject(diagnostic: Diagnostic<KnockDiagnosticCode>): "rejected";
}

/** Creates the context of one run; `quiet` drops warnings. */
export function createContext(
  io: Io,
  clock: () => number,
  quiet: boolean,
): CommandContext {
  const note = (text: string): void => void io.stderr.write(`knock: ${text}\n`);
  const report = (list: readonly Finding[]): boolean => {
    const error = list.some((f) => f.diagnostic.severity === "error");
    const sources = new Map(list.map((f) => [f.diagnostic, f.source]));
    const shown = list
      .map((f) => f.diagnostic)
      .filter((d) => d.severity === "error" || !quiet);
    for (const d of capDiagnostics(shown)) {
      note(formatDiagnostic(d, sources.get(d)));
    }
    return error;
  };
  return {
    io,
    clock,
    say: (text) => void io.stdout.write(text + "\n"),
    note,
    report,
    reject(diagnostic) {
      report([{ diagnostic }]);
      return "rejected";
    },
  };
}

/** Wraps plain diagnostics as findings without source text. */
export function findings(
  diagnostics: readonly Diagnostic<KnockDiagnosticCode>[],
): Finding[] {
  return diagnostics.map((diagnostic) => ({ diagnostic }));
}
