/**
 * Top-level helpers shared by the daemon and client schemas: command-line overrides, the `where`
 * map, and the booleans that mirror command-line options.
 */
import type { ConfigWhere } from "./types.ts";
import type { ReaderEntry, SectionReader, Val } from "./schema-reader.ts";

/** Command-line values that replace the file's keys of the same name (`{ iv: "yes" }`). */
export type ConfigOverrides = Readonly<Record<string, string>>;

/** Merge command-line overrides into the top-level entries; their `where` is the flag. */
export function withOverrides(
  entries: ReadonlyMap<string, ReaderEntry<Val>>,
  overrides: ConfigOverrides | undefined,
): Map<string, ReaderEntry<Val>> {
  const out = new Map(entries);
  for (const [name, text] of Object.entries(overrides ?? {})) {
    const key = name.toLowerCase();
    out.set(key, {
      kind: "values",
      values: [{ text, where: { kind: "argv", flag: `-${key}` } }],
    });
  }
  return out;
}

/** Key → where its (last) value was written in a file; command-line values are left out. */
export function whereMap(
  entries: ReadonlyMap<string, ReaderEntry<Val>>,
): Map<string, ConfigWhere> {
  const out = new Map<string, ConfigWhere>();
  for (const [key, entry] of entries) {
    const where =
      entry.kind === "values" ? entry.values.at(-1)?.where : undefined;
    if (where?.kind === "config") out.set(key, where);
  }
  return out;
}

/** Read the optional booleans that mirror command-line options. */
export function readOptionFlags<K extends string>(
  r: SectionReader<Val>,
  keys: readonly K[],
): Partial<Record<K, boolean>> {
  const out: Partial<Record<K, boolean>> = {};
  for (const key of keys) {
    if (r.whereOf(key) !== undefined) out[key] = r.bool(key, false);
  }
  return out;
}
