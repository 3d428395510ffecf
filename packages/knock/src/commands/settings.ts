/**
 * The knock settings of one run: the config file (or none) with the command line on top, compiled
 * by the codec. Every finding is returned, config findings with their file's text for the excerpt.
 */
import type { ClientConfig } from "@portknock/config";
import type { Diagnostic } from "@portknock/core";
import {
  findConfigFile,
  loadClientConfig,
  parseClientConfig,
  readConfigFile,
} from "@portknock/config";
import type { CodecIssue, KnockConfig } from "@portknock/codec";
import { compileKnockConfig } from "@portknock/codec";
import type { ParsedArgs } from "../argv.ts";
import type { Io } from "@portknock/core";
import type { Finding } from "./context.ts";

/** The validated settings: the client config and the compiled knock format. */
export interface KnockSettings {
  config: ClientConfig;
  codec: KnockConfig;
}

/** Result of `loadSettings`: the settings when there is no error, and every finding. */
export interface SettingsResult {
  settings?: KnockSettings;
  findings: Finding[];
}

/** Reads and validates the config file (`-conf`, else the search path) and the overrides. */
export function loadSettings(args: ParsedArgs, io: Io): SettingsResult {
  const file =
    args.conf ??
    findConfigFile("knockclient.conf", {
      home: io.env.HOME,
      binDir: new URL("../../bin/", import.meta.url).pathname,
    });
  const { overrides } = args;
  const result =
    file != null
      ? loadClientConfig(file, { overrides })
      : parseClientConfig("", { file: "(no config file)", overrides });
  const source = file != null ? readSource(file) : undefined;
  const findings: Finding[] = result.diagnostics.map((diagnostic) => ({
    diagnostic,
    source:
      diagnostic.where.kind === "config" && diagnostic.where.file === file
        ? source
        : undefined,
  }));
  const config = result.config;
  if (config == null) return { findings };
  const compiled = compileKnockConfig(config);
  for (const issue of compiled.issues) {
    findings.push({ diagnostic: codecDiagnostic(issue, config, overrides) });
  }
  return compiled.config == null
    ? { findings }
    : { settings: { config, codec: compiled.config }, findings };
}

function readSource(file: string): string | undefined {
  try {
    return readConfigFile(file).text;
  } catch {
    // The loader has reported why the file cannot be read.
    return undefined;
  }
}

/** A codec finding, located at the flag that set the key, or the config line. */
function codecDiagnostic(
  issue: CodecIssue,
  config: ClientConfig,
  overrides: Readonly<Record<string, string>>,
): Diagnostic<CodecIssue["code"]> {
  const where = config.where.get(issue.key);
  return {
    code: issue.code,
    severity: issue.severity,
    message: issue.message,
    where:
      issue.key in overrides || where == null
        ? { kind: "argv", flag: `-${issue.key}` }
        : where,
  };
}
