/**
 * `<logformat NAME>` blocks compiled once at start-up (spec: daemon.md §1, config.md). Pure.
 * Each regex is written as a JavaScript regex without flags, and runs on the linear-time engine
 * (`user-regex.ts`, issue #16); the value of a key is its first capture group.
 * Config::General has already turned `\#` into `#` (an unescaped `#` starts a comment there), so
 * a regex that needs a literal hash is written `\#` in the file.
 */
import type { LocatedText, LogFormatConfig } from "@portknock/config";
import type { Diagnostic } from "@portknock/core";
import { quoteValue } from "@portknock/core";
import { compiledIptablesFormat } from "./builtin-iptables.ts";
import type { FormatCode } from "./errors.ts";
import { LogSourceError } from "./errors.ts";
import type { LineRegex } from "./user-regex.ts";
import { compileLinearRegex } from "./user-regex.ts";

/**
 * A `<logformat>` block (`srcport` included since config reads it, issue #16: its first group is
 * the source port; hits without one are never deduplicated as retransmits).
 */
export interface LogFormatSource extends LogFormatConfig {
  srcport?: LocatedText;
}

/**
 * A log format ready for `parseLogLine`: every regex compiled once. A `<logformat>` block's
 * regexes are `LinearRegex`es (linear time); the built-in format's are V8 `RegExp`s.
 */
export interface CompiledLogFormat {
  readonly name: string;
  readonly required: LineRegex | undefined;
  readonly interface: LineRegex | undefined;
  readonly protocol: LineRegex | undefined;
  readonly ipserver: LineRegex | undefined;
  readonly ipclient: LineRegex;
  readonly port: LineRegex;
  readonly srcport: LineRegex | undefined;
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
 * Compiles a `<logformat>` block for the linear-time engine. Never throws: a regex that
 * JavaScript cannot compile, that uses a Perl-only escape, or that uses a construct the
 * linear-time engine cannot run (a back-reference, a lookaround; the diagnostic names it) is
 * `LOG_FORMAT_BAD_REGEX`; a value regex without a capture group `LOG_FORMAT_NO_CAPTURE`; a
 * missing `ipclient` or `port` `LOG_FORMAT_MISSING_KEY`; each an error at the line of the key.
 */
export function compileLogFormat(
  config: LogFormatSource,
): CompileLogFormatResult {
  const diagnostics: Diagnostic<FormatCode>[] = [];
  const label = `<logformat ${config.name}>`;
  const compile = (key: string, value: LocatedText): LineRegex | undefined => {
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
    const compiled = compileLinearRegex(text);
    if (!compiled.ok) return fail("LOG_FORMAT_BAD_REGEX", compiled.message);
    if (key !== "required" && compiled.groups === 0) {
      return fail(
        "LOG_FORMAT_NO_CAPTURE",
        `regex ${quoteValue(text)} has no capture group; its first group (…) is the value`,
      );
    }
    return compiled.regex;
  };

  const required = config.required && compile("required", config.required);
  const compiled: Partial<Record<(typeof VALUE_KEYS)[number], LineRegex>> = {};
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
