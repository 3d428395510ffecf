/**
 * The daemon schema (spec: config.md "Daemon keys", daemon.md, sealed.md): a parse tree → a typed
 * `DaemonConfig` with the defaults of config.md, or diagnostics.
 */
import { quoteValue } from "@portknock/core";
import type { GeneralBlock } from "./general-tree.ts";
import type { ConfigWhere, DaemonConfig } from "./types.ts";
import type { SectionReader, Sink, Val } from "./schema-reader.ts";
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
import { readFirewall } from "./schema-firewall.ts";
import type { ReadFileFn } from "./schema-cluster.ts";
import { readCluster } from "./schema-cluster.ts";
import { parseListenAddress } from "./schema-values.ts";

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

type FileModeKeys = Pick<
  DaemonConfig,
  "logfile" | "logcommand" | "fileIntervalMs" | "uselogformat" | "logformats"
>;

/** File mode (daemon.md §1): the log to follow and how its lines are read. */
function readFileMode(r: SectionReader<Val>, sink: Sink): FileModeKeys {
  const logcommand = r.text("logcommand")?.text;
  const logformats = readLogFormats(r.named("logformat"), sink);
  const use = r.text("uselogformat");
  const name = use?.text || "iptables";
  if (use && !logformats.has(name) && !BUILTIN_LOGFORMATS.includes(name)) {
    const known = [...BUILTIN_LOGFORMATS, ...logformats.keys()].join(", ");
    r.error(
      "CONFIG_UNKNOWN_LOGFORMAT",
      use.where,
      `uselogformat names ${quoteValue(name)}, which is neither a <logformat NAME> block nor built in; known: ${known}`,
    );
  }
  return {
    logfile: r.text("logfile")?.text || "/var/log/firewall",
    ...(logcommand ? { logcommand } : {}),
    fileIntervalMs: r.duration("fileinterval", "s", 500, {
      minMs: 10,
      maxMs: HOUR_MS,
    }),
    uselogformat: name,
    logformats,
  };
}

type NetworkModeKeys = Pick<
  DaemonConfig,
  "interfaces" | "snapshotSize" | "useethfilter" | "ethfilters"
>;

/** Network mode (daemon.md §1): where to capture and which packets to keep. */
function readNetworkMode(r: SectionReader<Val>, sink: Sink): NetworkModeKeys {
  const iface = r.text("interface");
  const ethfilters = readEthFilters(r.named("ethfilter"), sink);
  const use = r.text("useethfilter");
  if (use?.text && !ethfilters.has(use.text)) {
    const known = [...ethfilters.keys()];
    r.error(
      "CONFIG_UNKNOWN_ETHFILTER",
      use.where,
      `useethfilter names ${quoteValue(use.text)}, which is not an <ethfilter NAME> block${
        known.length > 0 ? `; defined: ${known.join(", ")}` : ""
      }`,
    );
  }
  return {
    interfaces: iface ? iface.text.split(/\s+/).filter(Boolean) : ["lo"],
    // 128: the headers of an IPv6 SYN behind a VLAN tag or a cooked header must fit, or knocks
    // would be lost without a word (@portknock/pcap decodes from the captured bytes only).
    snapshotSize: r.int("snapshotsize", 1500, 128, 262_144),
    ...(use?.text ? { useethfilter: use.text } : {}),
    ethfilters,
  };
}

/** `metrics` (issue #15): where the Prometheus endpoint listens; absent when the key is. */
function readMetrics(r: SectionReader<Val>): DaemonConfig["metrics"] {
  const v = r.text("metrics");
  if (v == null || v.text === "") return undefined;
  const parsed = parseListenAddress(v.text.trim());
  if (!parsed.ok) {
    r.error(
      "CONFIG_BAD_ADDRESS",
      v.where,
      `metrics must be PORT, IPv4:PORT or [IPv6]:PORT (${parsed.reason}), got ${quoteValue(v.text)}`,
    );
    return undefined;
  }
  return parsed.address;
}

/**
 * Read a `DaemonConfig` from a parse tree; problems go to `sink`. `readFile` reads the files that
 * `<cluster>` names (`passwordfile`, `tlsca`); without it they are errors.
 */
export function readDaemonConfig(
  tree: GeneralBlock,
  file: string,
  overrides: ConfigOverrides | undefined,
  sink: Sink,
  readFile?: ReadFileFn,
): DaemonConfig {
  const entries = withOverrides(tree.entries, overrides);
  const fileWhere: ConfigWhere = { kind: "config", file, line: 0 };
  const r = createSectionReader(entries, fileWhere, "", sink);

  const userBlocks = r.named("user");
  const users = readUsers(userBlocks, sink);
  const knock = readKnockSettings(r, userBlocks.size > 0);
  const runmode = r.choice("runmode", ["file", "network"] as const, "file");
  const fileMode = readFileMode(r, sink);
  const networkMode = readNetworkMode(r, sink);
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
  const metrics = readMetrics(r);
  const flags = readOptionFlags(r, ["debug", "quiet", "test"] as const);
  const firewall = readFirewall(r.anonymous("firewall"), sink);
  if (firewall?.nflog !== undefined && runmode === "network") {
    r.warn(
      "CONFIG_FIREWALL_IGNORED",
      firewall.where,
      "nflog in <firewall> logs knocks for file mode; runmode = network captures them and ignores it",
    );
  }
  if (
    firewall !== undefined &&
    firewall.backend !== "none" &&
    firewall.nflog === undefined &&
    runmode === "file"
  ) {
    r.warn(
      "CONFIG_FIREWALL_HIDES_KNOCKS",
      firewall.where,
      "runmode = file with a managed <firewall> and no nflog: the firewall drops the knock span " +
        "before any LOG rule of yours sees it, so no knock reaches the log; set nflog = GROUP " +
        "and follow ulogd2's file (knockd -man, RECIPES.md)",
    );
  }
  const clusterBlocks = r.anonymous("cluster");
  const cluster = readCluster(clusterBlocks, sink, readFile);
  const actionBlocks = r.anonymous("actions");
  const actions = readActions(
    actionBlocks,
    sink,
    firewall,
    clusterBlocks[0]?.where,
  );
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
    ...fileMode,
    ...networkMode,
    knockTimeoutMs,
    maxSources,
    ...(statefile ? { statefile } : {}),
    actions,
    users,
    windowMs,
    requireSource,
    ...(metrics ? { metrics } : {}),
    ...(firewall ? { firewall } : {}),
    ...(cluster ? { cluster } : {}),
    ...flags,
    where: whereMap(entries),
  };
}
