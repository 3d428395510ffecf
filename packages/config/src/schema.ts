/**
 * The typed, validated daemon and client configuration (spec: config.md). Pure: the text and its
 * includes come in through arguments; `load-config.ts` is the I/O wrapper.
 */
import type { Diagnostic } from "@portknock/core";
import { hasErrors, sortDiagnostics } from "@portknock/core";
import { ConfigError } from "./errors.ts";
import type { ConfigCode } from "./codes.ts";
import type { ClientConfig, DaemonConfig } from "./types.ts";
import type { ParseGeneralOptions } from "./parse-general.ts";
import { parseGeneral } from "./parse-general.ts";
import type { Sink } from "./schema-reader.ts";
import type { ConfigOverrides } from "./schema-overrides.ts";
import { readDaemonConfig } from "./schema-daemon.ts";
import { readClientConfig } from "./schema-client.ts";
import type { ReadFileFn } from "./schema-cluster.ts";

/** Options of `parseDaemonConfig` / `parseClientConfig`. */
export interface ParseConfigOptions extends ParseGeneralOptions {
  /**
   * Command-line values that replace the file's top-level keys of the same name, validated like
   * them (`{ port: "22", iv: "yes" }`); their diagnostics point at the flag (`-port`).
   */
  overrides?: ConfigOverrides;
  /**
   * Reads a file a value names (`<cluster>`'s `passwordfile` and `tlsca`), relative to the file
   * that names it. Without it such a value is an error (`loadDaemonConfig` passes
   * `readReferencedFile`).
   */
  readFile?: ReadFileFn;
}

/** The result of `parseDaemonConfig`: `config` is present exactly when there is no error. */
export interface DaemonConfigResult {
  config?: DaemonConfig;
  /** Every error and warning, sorted by file, line and column. */
  diagnostics: Diagnostic<ConfigCode>[];
}

/** The result of `parseClientConfig`: `config` is present exactly when there is no error. */
export interface ClientConfigResult {
  config?: ClientConfig;
  /** Every error and warning, sorted by file, line and column. */
  diagnostics: Diagnostic<ConfigCode>[];
}

function parseWith<T>(
  text: string,
  options: ParseConfigOptions,
  read: (s: Sink, tree: ReturnType<typeof parseGeneral>["tree"]) => T,
): { config?: T; diagnostics: Diagnostic<ConfigCode>[] } {
  const general = parseGeneral(text, options);
  const sink: Sink = { diagnostics: [...general.diagnostics] };
  const config = read(sink, general.tree);
  const diagnostics = sortDiagnostics(sink.diagnostics, general.files);
  return hasErrors(diagnostics) ? { diagnostics } : { config, diagnostics };
}

/**
 * Parse and validate a `knockdaemon.conf` (config.md "Daemon keys"), applying its defaults.
 * Unknown keys and blocks, bad booleans/integers/durations/enums, missing `knock`/`portspan`/`key`,
 * repeated keys and undefined template, logformat or ethfilter names are errors; all of them are
 * collected, each naming file and line. Never throws on bad input.
 */
export function parseDaemonConfig(
  text: string,
  options: ParseConfigOptions,
): DaemonConfigResult {
  return parseWith(text, options, (sink, tree) =>
    readDaemonConfig(
      tree,
      options.file,
      options.overrides,
      sink,
      options.readFile,
    ),
  );
}

/**
 * Parse and validate a `knockclient.conf` (config.md "Client keys", client.md), applying its
 * defaults. Same rules as `parseDaemonConfig`. Never throws on bad input.
 */
export function parseClientConfig(
  text: string,
  options: ParseConfigOptions,
): ClientConfigResult {
  return parseWith(text, options, (sink, tree) =>
    readClientConfig(tree, options.file, options.overrides, sink),
  );
}

/**
 * As `parseDaemonConfig`, but throw a `ConfigError` (code `CONFIG_INVALID`, carrying every
 * diagnostic) when the config has errors. Warnings are dropped: use `parseDaemonConfig` to see them.
 */
export function parseDaemonConfigOrThrow(
  text: string,
  options: ParseConfigOptions,
): DaemonConfig {
  const result = parseDaemonConfig(text, options);
  if (!result.config)
    throw new ConfigError("CONFIG_INVALID", result.diagnostics);
  return result.config;
}

/** As `parseClientConfig`, but throw a `ConfigError` (`CONFIG_INVALID`) on errors. */
export function parseClientConfigOrThrow(
  text: string,
  options: ParseConfigOptions,
): ClientConfig {
  const result = parseClientConfig(text, options);
  if (!result.config)
    throw new ConfigError("CONFIG_INVALID", result.diagnostics);
  return result.config;
}
