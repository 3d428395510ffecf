/**
 * The daemon schema (spec: config.md "Daemon keys", daemon.md, sealed.md): a parse tree → a typed
 * `DaemonConfig` with the defaults of config.md, or diagnostics.
 */
import { quoteValue } from "./diagnostics.ts";
import type { GeneralBlock } from "./general-tree.ts";
import type { ConfigWhere, DaemonConfig } from "./types.ts";
import type { Sink } from "./schema-reader.ts";
import { createSectionReader } from "./schema-reader.ts";
import type { ConfigOverrides } from "./schema-overrides.ts";
import {
  readOptionFlags,
  whereMap,
  withOverrides,
} from "./schema-overrides.ts";
import { readKnockSettings } from "./schema-knock.ts";
import {
  BUILTIN_LOGFORMATS,
  readEthFilters,
  readLogFormats,
  readUsers,
} from "./schema-blocks.ts";
import { readActions } from "./schema-actions.ts";

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** Read a `DaemonConfig` from a parse tree; problems go to `sink`. */
export function readDaemonConfig(
  tree: GeneralBlock,
  file: string,
  overrides: ConfigOverrides | undefined,
  sink: Sink,
): DaemonConfig {
  const entries = withOverrides(tree.entries, overrides);
  const fileWhere: ConfigWhere = { kind: "config", file, line: 0 };
  const r = createSectionReader(entries, fileWhere, "", sink);

  const userBlocks = r.named("user");
  const users = readUsers(userBlocks, sink);
  const knock = readKnockSettings(r, userBlocks.size > 0);
  const runmode = r.choice("runmode", ["file", "network"] as const, "file");
  const logfile = r.text("logfile")?.text || "/var/log/firewall";
  const logcommand = r.text("logcommand")?.text;
  const fileIntervalMs = r.duration("fileinterval", "s", 500, {
    minMs: 10,
    maxMs: HOUR_MS,
  });
  const logformats = readLogFormats(r.named("logformat"), sink);
  const uselogformat = r.text("uselogformat");
  if (
    uselogformat?.text &&
    !logformats.has(uselogformat.text) &&
    !BUILTIN_LOGFORMATS.includes(uselogformat.text)
  ) {
    const known = [...BUILTIN_LOGFORMATS, ...logformats.keys()].join(", ");
    r.error(
      "CONFIG_UNKNOWN_LOGFORMAT",
      uselogformat.where,
      `uselogformat names ${quoteValue(uselogformat.text)}, which is neither a <logformat NAME> block nor built in; known: ${known}`,
    );
  }
  const iface = r.text("interface");
  const interfaces = iface ? iface.text.split(/\s+/).filter(Boolean) : ["lo"];
  const snapshotSize = r.int("snapshotsize", 1500, 64, 262_144);
  const ethfilters = readEthFilters(r.named("ethfilter"), sink);
  const useethfilter = r.text("useethfilter");
  if (useethfilter?.text && !ethfilters.has(useethfilter.text)) {
    const known = [...ethfilters.keys()];
    r.error(
      "CONFIG_UNKNOWN_ETHFILTER",
      useethfilter.where,
      `useethfilter names ${quoteValue(useethfilter.text)}, which is not an <ethfilter NAME> block${
        known.length > 0 ? `; defined: ${known.join(", ")}` : ""
      }`,
    );
  }
  const knockTimeoutMs = r.duration("knocktimeout", "s", 30_000, {
    minMs: 1000,
    maxMs: DAY_MS,
  });
  const maxSources = r.int("maxsources", 65_536, 1, 16_777_216);
  const statefile = r.text("statefile")?.text;
  const windowMs = r.duration("window", "s", 60_000, {
    minMs: 1000,
    maxMs: DAY_MS,
  });
  const requireSource = r.bool("requiresource", true);
  const flags = readOptionFlags(r, ["debug", "quiet", "test"] as const);
  const actionBlocks = r.anonymous("actions");
  const actions = readActions(actionBlocks, sink);
  if (actionBlocks.length === 0) {
    r.warn(
      "CONFIG_NO_ACTIONS",
      fileWhere,
      "there is no <actions> block: an accepted knock does nothing",
    );
  }
  r.finish();

  return {
    ...knock,
    file,
    runmode,
    logfile,
    ...(logcommand ? { logcommand } : {}),
    fileIntervalMs,
    uselogformat: uselogformat?.text || "iptables",
    logformats,
    interfaces,
    snapshotSize,
    ...(useethfilter?.text ? { useethfilter: useethfilter.text } : {}),
    ethfilters,
    knockTimeoutMs,
    maxSources,
    ...(statefile ? { statefile } : {}),
    actions,
    users,
    windowMs,
    requireSource,
    ...flags,
    where: whereMap(entries),
  };
}
