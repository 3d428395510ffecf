/**
 * The client schema (spec: config.md "Client keys", client.md): a parse tree → a typed
 * `ClientConfig` with the defaults of config.md, or diagnostics.
 */
import type { GeneralBlock } from "./general-tree.ts";
import type { ClientConfig, ConfigWhere } from "./types.ts";
import type { Sink } from "./schema-reader.ts";
import { createSectionReader } from "./schema-reader.ts";
import { readKnockSettings } from "./schema-knock.ts";
import type { ConfigOverrides } from "./schema-overrides.ts";
import {
  readOptionFlags,
  whereMap,
  withOverrides,
} from "./schema-overrides.ts";

const FLAG_KEY = /^flag(0|[1-9]\d{0,2})$/;

/** Read a `ClientConfig` from a parse tree; problems go to `sink`. */
export function readClientConfig(
  tree: GeneralBlock,
  file: string,
  overrides: ConfigOverrides | undefined,
  sink: Sink,
): ClientConfig {
  const entries = withOverrides(tree.entries, overrides);
  const fileWhere: ConfigWhere = { kind: "config", file, line: 0 };
  const r = createSectionReader(entries, fileWhere, "", sink);

  const knock = readKnockSettings(r, false);
  const remote = r.text("remote")?.text;
  const client = r.text("client")?.text;
  const port = r.optionalInt("port", 0, 65_535);
  const flags = new Map<number, number>();
  for (const key of entries.keys()) {
    const m = FLAG_KEY.exec(key);
    const index = Number(m?.[1]);
    if (!m || index > 255) continue;
    const value = r.optionalInt(key, 0, 255);
    if (value !== undefined) flags.set(index, value);
  }
  const time = r.optionalInt("time", 0, 0xffff_ffff);
  const mask = r.optionalInt("mask", 0, 32);
  const logtofile = r.bool("logtofile", false);
  const logfile = r.text("logfile")?.text;
  const fileformat = r.text("fileformat")?.text;
  const protocol = r.choice("protocol", ["tcp", "udp"] as const, "tcp");
  const method = r.choice("method", ["connect", "raw"] as const, "connect");
  const knockDelayMs = r.int("knockdelay", 10, 0, 60_000);
  const options = readOptionFlags(r, [
    "test",
    "json",
    "debug",
    "quiet",
  ] as const);
  r.finish();

  return {
    ...knock,
    file,
    ...(remote ? { remote } : {}),
    ...(client ? { client } : {}),
    ...(port !== undefined ? { port } : {}),
    flags,
    ...(time !== undefined ? { time } : {}),
    ...(mask !== undefined ? { mask } : {}),
    logtofile,
    ...(logfile ? { logfile } : {}),
    ...(fileformat ? { fileformat } : {}),
    protocol,
    method,
    knockDelayMs,
    ...options,
    where: whereMap(entries),
  };
}
