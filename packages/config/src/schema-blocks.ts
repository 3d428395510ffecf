/**
 * The daemon's named blocks: `<logformat NAME>`, `<ethfilter NAME>` and `<user NAME>` (spec:
 * config.md "Daemon keys", daemon.md §1, sealed.md "Keys"). Regexes and packet properties are
 * carried as written: the log source and the pcap package validate them.
 */
import { quoteValue } from "@portknock/core";
import type { GeneralBlock, GeneralValue } from "./general-tree.ts";
import type {
  EthFilterConfig,
  LocatedText,
  LogFormatConfig,
  UserConfig,
} from "./types.ts";
import type { SectionReader, Sink } from "./schema-reader.ts";
import { createSectionReader } from "./schema-reader.ts";

/** Log formats built into the log source, usable without a `<logformat>` block. */
export const BUILTIN_LOGFORMATS: readonly string[] = ["iptables"];

/**
 * The regex keys of a `<logformat NAME>` block. `srcport` (the source port, so that the detector
 * can tell a kernel SYN retransmit, issue #16) is ours, not the prototype's.
 */
export const LOGFORMAT_KEYS: readonly [
  "required",
  "interface",
  "protocol",
  "ipserver",
  "ipclient",
  "port",
  "srcport",
] = [
  "required",
  "interface",
  "protocol",
  "ipserver",
  "ipclient",
  "port",
  "srcport",
];

/** A value as `LocatedText` (without the key's location). */
export function located(v: GeneralValue): LocatedText {
  return { text: v.text, where: v.where };
}

/** A reader over a block's entries, labelled `<type NAME>` in messages. */
export function blockReader(
  block: GeneralBlock,
  sink: Sink,
): SectionReader<GeneralValue> {
  const label =
    block.name === undefined
      ? `<${block.type}>`
      : `<${block.type} ${block.name}>`;
  return createSectionReader(block.entries, block.where, label, sink);
}

/** Read `<logformat NAME>` blocks; `ipclient` and `port` are required (daemon.md §1). */
export function readLogFormats(
  blocks: ReadonlyMap<string, GeneralBlock>,
  sink: Sink,
): Map<string, LogFormatConfig> {
  const out = new Map<string, LogFormatConfig>();
  for (const [name, block] of blocks) {
    const r = blockReader(block, sink);
    const format: LogFormatConfig = { name, where: block.where };
    for (const key of LOGFORMAT_KEYS) {
      const v = r.text(key);
      if (v) format[key] = located(v);
    }
    for (const key of ["ipclient", "port"] as const) {
      if (!format[key]) {
        r.error(
          "CONFIG_MISSING_KEY",
          block.where,
          `<logformat ${name}> needs ${key}, a regex whose first group captures the ${
            key === "port" ? "destination port" : "client address"
          }`,
        );
      }
    }
    r.finish();
    out.set(name, format);
  }
  return out;
}

/** Read `<ethfilter NAME>` blocks: every key is a packet property (names checked by pcap). */
export function readEthFilters(
  blocks: ReadonlyMap<string, GeneralBlock>,
  sink: Sink,
): Map<string, EthFilterConfig> {
  const out = new Map<string, EthFilterConfig>();
  for (const [name, block] of blocks) {
    const r = blockReader(block, sink);
    const properties = new Map<string, LocatedText>();
    for (const [key, entry] of r.rest()) {
      if (entry.kind !== "values") {
        const first =
          entry.kind === "blocks"
            ? entry.blocks[0]
            : entry.blocks.values().next().value;
        r.error(
          "CONFIG_UNKNOWN_BLOCK",
          first?.where ?? block.where,
          `unknown block <${key}> in <ethfilter ${name}>`,
        );
        continue;
      }
      const [first, second] = entry.values;
      if (second) {
        r.error(
          "CONFIG_REPEATED_KEY",
          second.where,
          `${quoteValue(key)} is set twice in <ethfilter ${name}>: at line ${
            first?.where.line ?? "?"
          } and line ${second.where.line}`,
        );
      }
      const last = entry.values.at(-1);
      if (last) properties.set(key, located(last));
    }
    out.set(name, { name, where: block.where, properties });
  }
  return out;
}

/** Read `<user NAME>` blocks (sealed.md "Keys"): each needs a `key`. */
export function readUsers(
  blocks: ReadonlyMap<string, GeneralBlock>,
  sink: Sink,
): Map<string, UserConfig> {
  const out = new Map<string, UserConfig>();
  for (const [name, block] of blocks) {
    const r = blockReader(block, sink);
    const key = r.text("key");
    r.finish();
    if (!key) {
      r.error("CONFIG_MISSING_KEY", block.where, `<user ${name}> needs a key`);
      continue;
    }
    out.set(name, { name, where: block.where, key: located(key) });
  }
  return out;
}
