/**
 * Test helpers: temp dirs cleaned up per test, real recorder executables, config builders and a
 * recording logger.
 */
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { onTestFinished } from "vitest";
import type {
  ActionConfig,
  ActionsConfig,
  ConfigWhere,
  GrantTemplateConfig,
  TemplateConfig,
} from "@portknock/config";
import type { Logger } from "@portknock/core";

/** A fresh temp dir, removed when the current test finishes. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "portknock-engine-"));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A real `#!/bin/sh` script that appends its argv (one per line, then `--end--`) to a file. */
export interface Recorder {
  /** Absolute path of the executable. */
  path: string;
  /** The file it appends to. */
  log: string;
  /** Every invocation so far, as argv lists (without the script name). */
  calls(): string[][];
}

/** Writes a recorder script named `name` into `dir`; `exitCode` is what it exits with. */
export function writeRecorder(
  dir: string,
  name: string,
  exitCode = 0,
): Recorder {
  const path = join(dir, name);
  const log = join(dir, `${name}.calls`);
  writeFileSync(
    path,
    `#!/bin/sh\n{ for a in "$@"; do printf '%s\\n' "$a"; done; printf '%s\\n' --end--; } >> '${log}'\nexit ${exitCode}\n`,
  );
  chmodSync(path, 0o755);
  return {
    path,
    log,
    calls(): string[][] {
      if (!existsSync(log)) return [];
      const calls: string[][] = [];
      let current: string[] = [];
      for (const line of readFileSync(log, "utf8").split("\n")) {
        if (line === "--end--") {
          calls.push(current);
          current = [];
        } else if (line !== "") current.push(line);
      }
      return calls;
    },
  };
}

/** Writes an executable shell script with the given body. */
export function writeScript(dir: string, name: string, body: string): string {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

/** A plain-data action for `actionsConfig`. */
export interface ActionSpec {
  condition?: string;
  templates: string[];
  delayMs?: number;
  use?: boolean;
}

/** A plain-data template for `actionsConfig`. */
export interface TemplateSpec {
  system?: string[];
  state?: string[];
  grant?: Omit<GrantTemplateConfig, "where">[];
  scope?: "local" | "cluster";
}

/** Where config line `line` is, in the imaginary `knockdaemon.conf`. */
export function at(line: number, column?: number): ConfigWhere {
  return column == null
    ? { kind: "config", file: "knockdaemon.conf", line }
    : { kind: "config", file: "knockdaemon.conf", line, column };
}

/**
 * Builds an `ActionsConfig` as the config parser would: actions on lines 10, 20, …; template
 * `system`/`state` values on lines 100, 101, … with column 12.
 */
export function actionsConfig(
  actions: readonly ActionSpec[],
  templates: Readonly<Record<string, TemplateSpec>>,
): ActionsConfig {
  let line = 100;
  const located = (text: string) => ({ text, where: at(line++, 12) });
  const tmap = new Map<string, TemplateConfig>();
  for (const [name, t] of Object.entries(templates)) {
    tmap.set(name, {
      name,
      where: at(line++),
      system: (t.system ?? []).map(located),
      grant: (t.grant ?? []).map((g) => ({ ...g, where: at(line++, 12) })),
      state: (t.state ?? []).map(located),
      scope: t.scope ?? "local",
    });
  }
  const list: ActionConfig[] = actions.map((a, i) => ({
    where: at(10 * (i + 1)),
    ...(a.condition != null
      ? { condition: { text: a.condition, where: at(10 * (i + 1) + 1, 13) } }
      : {}),
    templates: a.templates.map((name) => ({
      text: name,
      where: at(10 * (i + 1) + 2, 12),
    })),
    delayMs: a.delayMs ?? 0,
    use: a.use ?? true,
  }));
  return { actions: list, templates: tmap };
}

/** One recorded log entry. */
export interface LogEntry {
  level: "debug" | "info" | "warn" | "error";
  fields: Record<string, unknown>;
  msg?: string;
}

/** A logger that records entries. */
export function recordingLogger(): Logger & {
  entries: LogEntry[];
  events(): string[];
} {
  const entries: LogEntry[] = [];
  const at =
    (level: LogEntry["level"]) =>
    (fields: object, msg?: string): void => {
      entries.push({
        level,
        fields: fields as Record<string, unknown>,
        ...(msg != null ? { msg } : {}),
      });
    };
  const logger = {
    entries,
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
    child: (): Logger => logger,
    events: (): string[] => entries.map((e) => String(e.fields.event)),
  };
  return logger;
}
