/**
 * The I/O edge of `@portknock/config`: read config files and their includes from disk, and find the
 * config file (spec: config.md "Where the file is found"). Synchronous on purpose: config files are
 * small and read only at start-up and on SIGHUP, and includes are resolved while parsing.
 */
import { accessSync, constants, statSync } from "node:fs";
import { dirname, isAbsolute, join } from "node:path";
import type { Diagnostic } from "@portknock/core";
import { ConfigError } from "./errors.ts";
import type { ConfigCode, GeneralCode } from "./codes.ts";
import type { ClientConfig, DaemonConfig } from "./types.ts";
import type { IncludedFile } from "./parse-general-include.ts";
import type { ParseGeneralResult } from "./parse-general.ts";
import { parseGeneral } from "./parse-general.ts";
import type {
  ClientConfigResult,
  DaemonConfigResult,
  ParseConfigOptions,
} from "./schema.ts";
import { parseClientConfig, parseDaemonConfig } from "./schema.ts";
import { readConfigFile } from "./read-config-file.ts";
import type { ReferencedFile } from "./schema-cluster.ts";

/** Largest file a value names (`passwordfile`, `tlsca`), in bytes: 1 MiB. */
const MAX_REFERENCED_FILE_BYTES = 1024 * 1024;

/** Options of the `load…Config` functions: everything of `ParseConfigOptions` but the I/O. */
export type LoadConfigOptions = Omit<ParseConfigOptions, "file" | "include">;

/**
 * Read `<<include PATH>>` written in `fromFile`: a relative `PATH` is relative to the directory of
 * `fromFile` (Config::General's `-IncludeRelative`). Only a regular file of at most 4 MiB is read
 * (`readConfigFile`). Returns the error instead of throwing.
 */
export function readIncludedFile(
  path: string,
  fromFile: string,
): IncludedFile | Error {
  const file = isAbsolute(path) ? path : join(dirname(fromFile), path);
  try {
    return { file, ...readConfigFile(file) };
  } catch (cause) {
    return cause instanceof Error ? cause : new Error(String(cause));
  }
}

/**
 * Read a file a value written in `fromFile` names (`<cluster>`'s `passwordfile` and `tlsca`):
 * relative to the directory of `fromFile`, a regular file of at most 1 MiB (`readConfigFile`), with
 * its permission bits. Returns the error instead of throwing.
 */
export function readReferencedFile(
  path: string,
  fromFile: string,
): ReferencedFile | Error {
  const file = isAbsolute(path) ? path : join(dirname(fromFile), path);
  try {
    const { text, mode } = readConfigFile(file, MAX_REFERENCED_FILE_BYTES);
    return { file, text, mode };
  } catch (cause) {
    return cause instanceof Error ? cause : new Error(String(cause));
  }
}

type ReadOutcome =
  | { ok: true; text: string }
  | { ok: false; diagnostic: Diagnostic<GeneralCode> };

function readMain(path: string): ReadOutcome {
  try {
    return { ok: true, text: readConfigFile(path).text };
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    const message = cause instanceof Error ? cause.message : String(cause);
    return {
      ok: false,
      diagnostic: {
        code: code === "ENOENT" ? "CONFIG_NOT_FOUND" : "CONFIG_READ_FAILED",
        severity: "error",
        message: `cannot read the config file: ${message}`,
        // Line 0: the file as a whole.
        where: { kind: "config", file: path, line: 0 },
      },
    };
  }
}

/**
 * Read and parse a Config::General file and its includes into a generic tree (no schema). A file
 * that cannot be read gives an empty tree and a `CONFIG_NOT_FOUND`/`CONFIG_READ_FAILED` diagnostic.
 */
export function loadConfig(path: string): ParseGeneralResult {
  const main = readMain(path);
  if (!main.ok) {
    return {
      tree: {
        type: "",
        where: { kind: "config", file: path, line: 1, column: 1 },
        entries: new Map(),
      },
      diagnostics: [main.diagnostic],
      files: [path],
    };
  }
  return parseGeneral(main.text, { file: path, include: readIncludedFile });
}

/** Read and validate a daemon config file (see `parseDaemonConfig`). Never throws on bad input. */
export function loadDaemonConfig(
  path: string,
  options: LoadConfigOptions = {},
): DaemonConfigResult {
  const main = readMain(path);
  if (!main.ok) return { diagnostics: [main.diagnostic] };
  return parseDaemonConfig(main.text, {
    ...options,
    file: path,
    include: readIncludedFile,
    readFile: readReferencedFile,
  });
}

/** Read and validate a client config file (see `parseClientConfig`). Never throws on bad input. */
export function loadClientConfig(
  path: string,
  options: LoadConfigOptions = {},
): ClientConfigResult {
  const main = readMain(path);
  if (!main.ok) return { diagnostics: [main.diagnostic] };
  return parseClientConfig(main.text, {
    ...options,
    file: path,
    include: readIncludedFile,
  });
}

function orThrow<T>(result: {
  config?: T;
  diagnostics: Diagnostic<ConfigCode>[];
}): T {
  if (result.config) return result.config;
  const notFound = result.diagnostics.some(
    (d) => d.code === "CONFIG_NOT_FOUND",
  );
  throw new ConfigError(
    notFound ? "CONFIG_NOT_FOUND" : "CONFIG_INVALID",
    result.diagnostics,
  );
}

/**
 * As `loadDaemonConfig`, but throw a `ConfigError`: `CONFIG_NOT_FOUND` when the file does not
 * exist, `CONFIG_INVALID` for any other error (the error carries every diagnostic).
 */
export function loadDaemonConfigOrThrow(
  path: string,
  options: LoadConfigOptions = {},
): DaemonConfig {
  return orThrow(loadDaemonConfig(path, options));
}

/** As `loadClientConfig`, but throw a `ConfigError` (see `loadDaemonConfigOrThrow`). */
export function loadClientConfigOrThrow(
  path: string,
  options: LoadConfigOptions = {},
): ClientConfig {
  return orThrow(loadClientConfig(path, options));
}

/** Where to look for a config file; see `configSearchPath`. */
export interface FindConfigOptions {
  /** The user's home directory (`~`); skipped when absent. */
  home?: string;
  /** BIN: the directory of the installed executable. */
  binDir: string;
  /** Whether a path is a readable file; defaults to checking the file system. */
  exists?: (path: string) => boolean;
}

/**
 * The places searched for `name` (`knockdaemon.conf` or `knockclient.conf`), in order
 * (config.md "Where the file is found"): `~/.NAME`, `BIN/NAME`, `BIN/etc/NAME`, `BIN/../etc/NAME`,
 * `/etc/portknock/NAME`.
 */
export function configSearchPath(
  name: string,
  options: Omit<FindConfigOptions, "exists">,
): string[] {
  const { home, binDir } = options;
  return [
    ...(home ? [join(home, `.${name}`)] : []),
    join(binDir, name),
    join(binDir, "etc", name),
    join(binDir, "..", "etc", name),
    join("/etc/portknock", name),
  ];
}

/** Whether `path` is a readable regular file. */
export function isReadableFile(path: string): boolean {
  try {
    accessSync(path, constants.R_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * The first readable file of `configSearchPath(name, options)`, or `undefined` when there is none
 * (only one file is ever read: the first found).
 */
export function findConfigFile(
  name: string,
  options: FindConfigOptions,
): string | undefined {
  const exists = options.exists ?? isReadableFile;
  return configSearchPath(name, options).find((p) => exists(p));
}
