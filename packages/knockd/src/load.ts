/**
 * Loading a daemon configuration: the config file (syntax and schema), the knock settings (codec),
 * the actions (engine) and the log format (logsource), with every finding of every layer reported
 * at once, each naming file and line (daemon.md `-check`).
 */
import type { ConfigWhere, DaemonConfig } from "@portknock/config";
import type { Diagnostic, Io } from "@portknock/core";
import { loadDaemonConfig, readConfigFile } from "@portknock/config";
import { capDiagnostics, formatDiagnostic, hasErrors } from "@portknock/core";
import type { KnockConfig } from "@portknock/codec";
import { compileKnockConfig } from "@portknock/codec";
import type { CompiledRules } from "@portknock/engine";
import { compileActions } from "@portknock/engine";
import type { CompiledLogFormat } from "@portknock/logsource";
import { parseLogCommand, selectLogFormat } from "@portknock/logsource";
import type { CompiledEthFilter } from "@portknock/pcap";
import { baseRuleset, checkRuleset } from "./firewall.ts";
import { loadPcap } from "./pcap-module.ts";

/** A configuration ready to run. */
export interface LoadedDaemon {
  config: DaemonConfig;
  knock: KnockConfig;
  rules: CompiledRules;
  /** File mode: the compiled `<logformat>` in use. */
  logFormat?: CompiledLogFormat;
  /** File mode with `logcommand`: its argv, split once here. */
  logCommand?: string[];
  /** Network mode: what to capture. */
  network?: {
    protocol: "tcp" | "udp";
    ethfilter?: CompiledEthFilter;
  };
}

/** Result of `loadDaemon`: the daemon when there is no error, and every finding. */
export interface LoadResult {
  daemon?: LoadedDaemon;
  diagnostics: Diagnostic[];
  /** Source text of files, to quote lines under diagnostics. */
  sources: Map<string, string>;
}

/** Loads and validates `path` (and its includes). Never throws for bad input. */
export async function loadDaemon(path: string): Promise<LoadResult> {
  const sources = new Map<string, string>();
  const parsed = loadDaemonConfig(path);
  const diagnostics: Diagnostic[] = [...parsed.diagnostics];
  const config = parsed.config;
  if (config == null) {
    collectSources(diagnostics, sources);
    return { diagnostics, sources };
  }

  const fileWhere: ConfigWhere = { kind: "config", file: config.file, line: 0 };
  const compiled = compileKnockConfig(config);
  for (const issue of compiled.issues) {
    diagnostics.push({
      code: issue.code,
      severity: issue.severity,
      message: issue.message,
      where:
        (issue.user != null
          ? config.users.get(issue.user)?.key.where
          : config.where.get(issue.key)) ?? fileWhere,
    });
  }
  const fields = compiled.config?.layout.fields.map((f) => f.name) ?? [];
  // sealed with <user> blocks: the matching user's NAME is the variable USER (sealed.md).
  if (compiled.config?.format === "sealed" && config.users.size > 0)
    fields.push("USER");
  const actions =
    compiled.config != null
      ? // Executables are the environment's business (environment.ts): checked at start and
        // by -check, for the actions in use only.
        compileActions(config.actions, { fields, checkExecutables: false })
      : undefined;
  diagnostics.push(...(actions?.diagnostics ?? []));

  let logCommand: string[] | undefined;
  if (config.logcommand != null) {
    const parsed = parseLogCommand(
      config.logcommand,
      config.where.get("logcommand") ?? fileWhere,
    );
    diagnostics.push(...parsed.diagnostics);
    logCommand = parsed.argv;
  }
  let network: LoadedDaemon["network"];
  if (config.runmode === "network") {
    const block =
      config.useethfilter != null
        ? config.ethfilters.get(config.useethfilter)
        : undefined;
    // The ethfilter's `proto` says which packets knock: UDP datagrams, or (default) TCP SYNs.
    const protoText = block?.properties.get("proto")?.text ?? "";
    const protocol = /^(?:IP_PROTO_UDP|17)$/i.test(protoText.trim())
      ? "udp"
      : "tcp";
    let ethfilter: CompiledEthFilter | undefined;
    const { compileEthFilter } = await loadPcap();
    if (block != null) {
      const compiledFilter = compileEthFilter(block, { protocol });
      diagnostics.push(...compiledFilter.diagnostics);
      ethfilter = compiledFilter.filter;
    }
    network = { protocol, ...(ethfilter != null ? { ethfilter } : {}) };
  }
  let logFormat: CompiledLogFormat | undefined;
  if (config.runmode === "file") {
    const result = selectLogFormat(config.uselogformat, config.logformats);
    diagnostics.push(...result.diagnostics);
    logFormat = result.format;
  }
  if (compiled.config != null && config.firewall != null) {
    // A protected port inside the knock span, say: the firewall library's own check, at load.
    const base = baseRuleset(config, {
      knock: compiled.config,
      ...(network != null ? { network } : {}),
    });
    const problem = base != null ? checkRuleset(base) : undefined;
    if (problem != null) {
      diagnostics.push({
        code: problem.code,
        severity: "error",
        message: `<firewall>: ${problem.message}`,
        where: config.firewall.where,
      });
    }
  }
  collectSources(diagnostics, sources);
  if (
    hasErrors(diagnostics) ||
    compiled.config == null ||
    actions?.rules == null
  ) {
    return { diagnostics, sources };
  }
  return {
    daemon: {
      config,
      knock: compiled.config,
      rules: actions.rules,
      ...(logFormat != null ? { logFormat } : {}),
      ...(logCommand != null ? { logCommand } : {}),
      ...(network != null ? { network } : {}),
    },
    diagnostics,
    sources,
  };
}

/** Reads the files diagnostics point into, so they can be quoted with a caret. */
function collectSources(
  diagnostics: readonly Diagnostic[],
  sources: Map<string, string>,
): void {
  for (const d of diagnostics) {
    if (d.where.kind !== "config" || sources.has(d.where.file)) continue;
    try {
      // The same careful read as the config's own (never a FIFO, at most 4 MiB).
      sources.set(d.where.file, readConfigFile(d.where.file).text);
    } catch {
      // A file that cannot be read is already a diagnostic of its own.
    }
  }
}

/**
 * `loadDaemon`, with every finding printed on `io.stderr` as `knockd: file:line:col: …` and the
 * line quoted under it (warnings left out with `quiet`). The daemon, or undefined on an error.
 */
export async function loadAndReport(
  path: string,
  io: Io,
  quiet: boolean,
): Promise<LoadedDaemon | undefined> {
  const result = await loadDaemon(path);
  const shown = quiet
    ? result.diagnostics.filter((d) => d.severity === "error")
    : result.diagnostics;
  for (const d of capDiagnostics(shown)) {
    const src =
      d.where.kind === "config" ? result.sources.get(d.where.file) : undefined;
    io.stderr.write(`knockd: ${formatDiagnostic(d, src)}\n`);
  }
  return result.daemon;
}
