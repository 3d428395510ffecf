/**
 * `<logformat NAME>` blocks compiled once at start-up (spec: daemon.md §1, config.md). Pure.
 * Each regex is a JavaScript regex without flags; the value of a key is its first capture group.
 * Config::General has already turned `\#` into `#` (an unescaped `#` starts a comment there), so
 * a regex that needs a literal hash is written `\#` in the file.
 */
import type { LocatedText, LogFormatConfig } from "@portknock/config";
import type { Diagnostic } from "@portknock/core";
import { quoteValue } from "@portknock/core";
import { compiledIptablesFormat } from "./builtin-iptables.ts";
import type { FormatCode } from "./errors.ts";
import { LogSourceError } from "./errors.ts";
import { findBacktrackingHazard } from "@portknock/core";

/** A `<logformat>` block, plus the optional `srcport` regex (the built-in format has one). */
export interface LogFormatSource extends LogFormatConfig {
  /** First group: the source port; hits without one are never deduplicated as retransmits. */
  srcport?: LocatedText;
}

/** A log format ready for `parseLogLine`: every regex compiled once. */
export interface CompiledLogFormat {
  readonly name: string;
  readonly required: RegExp | undefined;
  readonly interface: RegExp | undefined;
  readonly protocol: RegExp | undefined;
  readonly ipserver: RegExp | undefined;
  readonly ipclient: RegExp;
  readonly port: RegExp;
  readonly srcport: RegExp | undefined;
  /**
   * Set for built-in formats: `parseLogLine` then runs a hand-written extractor that gives the
   * same results as the regexes above, faster.
   */
  readonly builtin: "iptables" | undefined;
}

/** Result of `compileLogFormat`: a format when there is no error, and every finding. */
export interface CompileLogFormatResult {
  format?: CompiledLogFormat;
  diagnostics: Diagnostic<FormatCode>[];
}

/** Names of the built-in formats. */
export const BUILTIN_LOG_FORMAT_NAMES: readonly string[] = ["iptables"];

const VALUE_KEYS = [
  "interface",
  "protocol",
  "ipserver",
  "ipclient",
  "port",
  "srcport",
] as const;

const MAX_SOURCE = 1024;

// Perl escapes that JavaScript (without the u flag) would silently read as plain letters.
const PERL_ONLY = new Set([
  "A",
  "z",
  "Z",
  "G",
  "Q",
  "E",
  "K",
  "h",
  "H",
  "R",
  "X",
]);

/**
 * Compiles a `<logformat>` block. Never throws: a regex that JavaScript cannot compile or that
 * uses a Perl-only escape (`LOG_FORMAT_BAD_REGEX`), a value regex without a capture group
 * (`LOG_FORMAT_NO_CAPTURE`), a regex that could backtrack catastrophically
 * (`LOG_FORMAT_BACKTRACKING`, see `regex-safety.ts`) and a missing `ipclient` or `port`
 * (`LOG_FORMAT_MISSING_KEY`) are error diagnostics at the line of the key.
 */
export function compileLogFormat(
  config: LogFormatSource,
): CompileLogFormatResult {
  const diagnostics: Diagnostic<FormatCode>[] = [];
  const label = `<logformat ${config.name}>`;
  const compile = (key: string, value: LocatedText): RegExp | undefined => {
    const fail = (code: FormatCode, message: string): undefined => {
      diagnostics.push({
        code,
        severity: "error",
        message: `${label} ${key}: ${message}`,
        where: value.where,
      });
      return undefined;
    };
    const text = value.text;
    if (text.length > MAX_SOURCE) {
      return fail(
        "LOG_FORMAT_BAD_REGEX",
        `regex is longer than ${MAX_SOURCE} characters`,
      );
    }
    for (let i = 0; i < text.length; i++) {
      if (text[i] !== "\\") continue;
      const next = text[++i] ?? "";
      if (PERL_ONLY.has(next)) {
        return fail(
          "LOG_FORMAT_BAD_REGEX",
          `\\${next} is Perl-only; JavaScript would read it as the letter ${next}`,
        );
      }
    }
    let regex: RegExp;
    try {
      regex = new RegExp(text);
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      return fail(
        "LOG_FORMAT_BAD_REGEX",
        `invalid regex ${quoteValue(text)}: ${detail}`,
      );
    }
    const groups = (new RegExp(`${text}|`).exec("")?.length ?? 1) - 1;
    if (key !== "required" && groups === 0) {
      return fail(
        "LOG_FORMAT_NO_CAPTURE",
        `regex ${quoteValue(text)} has no capture group; its first group (…) is the value`,
      );
    }
    const hazard = findBacktrackingHazard(text);
    if (hazard !== undefined) {
      const why =
        hazard.kind === "nested-repetition"
          ? "repeats a repetition"
          : "repeats alternatives that can start with the same character";
      return fail(
        "LOG_FORMAT_BACKTRACKING",
        `regex could backtrack catastrophically: ${quoteValue(hazard.fragment)} ${why}`,
      );
    }
    return regex;
  };

  const required = config.required && compile("required", config.required);
  const compiled: Partial<Record<(typeof VALUE_KEYS)[number], RegExp>> = {};
  for (const key of VALUE_KEYS) {
    const value = config[key];
    if (value === undefined) {
      if (key === "ipclient" || key === "port") {
        diagnostics.push({
          code: "LOG_FORMAT_MISSING_KEY",
          severity: "error",
          message: `${label} needs ${key}, a regex whose first group captures the ${
            key === "port" ? "destination port" : "client address"
          }`,
          where: config.where,
        });
      }
      continue;
    }
    const regex = compile(key, value);
    if (regex) compiled[key] = regex;
  }
  const { ipclient, port } = compiled;
  if (diagnostics.length > 0 || !ipclient || !port) return { diagnostics };
  return {
    format: {
      name: config.name,
      required: required || undefined,
      interface: compiled.interface,
      protocol: compiled.protocol,
      ipserver: compiled.ipserver,
      ipclient,
      port,
      srcport: compiled.srcport,
      builtin: undefined,
    },
    diagnostics,
  };
}

/**
 * A built-in format by name (`iptables`, see `builtin-iptables.ts`). Throws `LogSourceError`
 * `LOG_UNKNOWN_FORMAT` for any other name (the config layer validates `uselogformat`).
 */
export function builtinLogFormat(name: string): CompiledLogFormat {
  if (name !== "iptables") {
    throw new LogSourceError(
      "LOG_UNKNOWN_FORMAT",
      `unknown built-in log format ${quoteValue(name)}; expected one of ${BUILTIN_LOG_FORMAT_NAMES.join(", ")}`,
    );
  }
  return compiledIptablesFormat();
}

/**
 * The format `uselogformat = name` selects: a `<logformat name>` block of the config if there is
 * one (it overrides a built-in of the same name), else the built-in format of that name. An
 * unknown name is a `LogSourceError` `LOG_UNKNOWN_FORMAT`.
 */
export function selectLogFormat(
  name: string,
  blocks: ReadonlyMap<string, LogFormatConfig>,
): CompileLogFormatResult {
  const block = blocks.get(name);
  if (block) return compileLogFormat(block);
  return { format: builtinLogFormat(name), diagnostics: [] };
}
