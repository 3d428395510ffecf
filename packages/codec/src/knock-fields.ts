/**
 * The knock field list (spec: knock-format.md §1, README decision 1): CLIENT/IP 4 bytes, PORT 2
 * bytes big-endian, FLAGn 1 byte, TIME 4 bytes big-endian Unix seconds, MASK 1 byte (0–32),
 * CHECKSUM 1 byte = sum of all preceding plaintext bytes mod 256, and last.
 */
import type { CodecIssue } from "./errors.ts";
import { parseIpv4, quoteValue as quote } from "@portknock/core";
import { CodecError } from "./errors.ts";

/** What a field holds. */
export type FieldKind = "ip" | "port" | "flag" | "time" | "mask" | "checksum";

/** One field of the layout: its name as configured, kind, byte offset and width. */
export interface FieldSpec {
  readonly name: string;
  readonly kind: FieldKind;
  readonly offset: number;
  readonly width: number;
}

/** The plaintext layout a `knock` field list describes. */
export interface KnockLayout {
  /** The list normalised: upper-case names joined by commas. */
  readonly text: string;
  readonly fields: readonly FieldSpec[];
  /** Plaintext length in bytes. */
  readonly length: number;
  readonly hasChecksum: boolean;
}

/** Field values by field name: a dotted-quad string for CLIENT/IP, numbers for the rest. */
export type KnockValues = Readonly<Record<string, string | number>>;

/** Result of `parseKnockFields`. */
export type ParseKnockFieldsResult =
  { ok: true; layout: KnockLayout } | { ok: false; issues: CodecIssue[] };

const WIDTH: Record<FieldKind, number> = {
  ip: 4,
  port: 2,
  flag: 1,
  time: 4,
  mask: 1,
  checksum: 1,
};

function kindOf(name: string): FieldKind | undefined {
  if (name === "CLIENT" || name === "IP") return "ip";
  if (name === "PORT") return "port";
  if (name === "TIME") return "time";
  if (name === "MASK") return "mask";
  if (name === "CHECKSUM") return "checksum";
  if (/^FLAG(?:0|[1-9]\d?)$/.test(name)) return "flag";
  return undefined;
}

/**
 * Parses a `knock` field list such as `CLIENT,PORT,FLAG0,CHECKSUM`. Names are case-insensitive
 * and whitespace is ignored. Unknown names, duplicates (CLIENT and IP are the same field), an
 * empty list, and a CHECKSUM that is not last are issues naming the field.
 */
export function parseKnockFields(text: string): ParseKnockFieldsResult {
  const issues: CodecIssue[] = [];
  const err = (code: CodecIssue["code"], message: string): void => {
    issues.push({ code, severity: "error", key: "knock", message });
  };
  const names = text
    .split(",")
    .map((s) => s.trim().toUpperCase())
    .filter((s) => s !== "");
  if (names.length === 0) {
    err(
      "FIELDS_EMPTY",
      "knock lists no fields; expected e.g. CLIENT,PORT,CHECKSUM",
    );
    return { ok: false, issues };
  }
  const fields: FieldSpec[] = [];
  const seen = new Set<string>();
  let offset = 0;
  names.forEach((name, i) => {
    const kind = kindOf(name);
    if (kind == null) {
      err(
        "FIELDS_UNKNOWN",
        `knock: unknown field ${quote(name)}; expected CLIENT, IP, PORT, FLAG0…FLAG99, TIME, MASK or CHECKSUM`,
      );
      return;
    }
    const identity = kind === "ip" ? "CLIENT/IP" : name;
    if (seen.has(identity)) {
      err("FIELDS_DUPLICATE", `knock: field ${name} appears twice`);
      return;
    }
    seen.add(identity);
    if (kind === "checksum" && i !== names.length - 1) {
      err("FIELDS_CHECKSUM_NOT_LAST", "knock: CHECKSUM must be the last field");
      return;
    }
    fields.push({ name, kind, offset, width: WIDTH[kind] });
    offset += WIDTH[kind];
  });
  if (issues.length > 0) return { ok: false, issues };
  return {
    ok: true,
    layout: {
      text: names.join(","),
      fields,
      length: offset,
      hasChecksum: fields.at(-1)?.kind === "checksum",
    },
  };
}

const MAX: Record<Exclude<FieldKind, "ip" | "checksum">, number> = {
  port: 0xffff,
  flag: 0xff,
  time: 0xffffffff,
  mask: 32,
};

/**
 * Packs `values` into plaintext bytes. Throws `CodecError` (`CODEC_BAD_VALUE`, naming the field)
 * for a missing value or one out of range for its width: never truncates silently.
 */
export function packFields(
  layout: KnockLayout,
  values: KnockValues,
): Uint8Array {
  const out = new Uint8Array(layout.length);
  let sum = 0;
  for (const f of layout.fields) {
    if (f.kind === "checksum") {
      out[f.offset] = sum & 0xff;
      continue;
    }
    const v =
      values[f.name] ??
      (f.kind === "ip" ? (values.CLIENT ?? values.IP) : undefined);
    if (v == null) {
      throw new CodecError("CODEC_BAD_VALUE", `${f.name} has no value`, f.name);
    }
    if (f.kind === "ip") {
      const ip = typeof v === "string" ? parseIpv4(v) : undefined;
      if (ip == null) {
        throw new CodecError(
          "CODEC_BAD_VALUE",
          `${f.name} must be an IPv4 address like 10.3.2.1, got ${quote(String(v))}`,
          f.name,
        );
      }
      out.set(ip, f.offset);
    } else {
      const max = MAX[f.kind];
      if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > max) {
        throw new CodecError(
          "CODEC_BAD_VALUE",
          `${f.name} must be an integer from 0 to ${max}, got ${quote(String(v))}`,
          f.name,
        );
      }
      for (let i = f.width - 1, x = v; i >= 0; i--, x = Math.floor(x / 256)) {
        out[f.offset + i] = x & 0xff;
      }
    }
    for (let i = 0; i < f.width; i++) sum += out[f.offset + i]!;
  }
  return out;
}

/**
 * Reads the fields of a plaintext (`bytes[0 … layout.length)`), checking CHECKSUM and MASK.
 * Returns the values, or the reason they are invalid.
 */
export function unpackFields(
  layout: KnockLayout,
  bytes: Uint8Array,
):
  | { ok: true; values: Record<string, string | number> }
  | {
      ok: false;
      code: "KNOCK_BAD_CHECKSUM" | "KNOCK_BAD_FIELD";
    } {
  if (layout.hasChecksum) {
    let sum = 0;
    const end = layout.length - 1;
    for (let i = 0; i < end; i++) sum += bytes[i]!;
    if ((sum & 0xff) !== bytes[end])
      return { ok: false, code: "KNOCK_BAD_CHECKSUM" };
  }
  const values: Record<string, string | number> = {};
  for (const f of layout.fields) {
    const o = f.offset;
    switch (f.kind) {
      case "ip":
        values[f.name] =
          `${bytes[o]}.${bytes[o + 1]}.${bytes[o + 2]}.${bytes[o + 3]}`;
        break;
      case "port":
        values[f.name] = (bytes[o]! << 8) | bytes[o + 1]!;
        break;
      case "time":
        values[f.name] =
          bytes[o]! * 0x1000000 +
          ((bytes[o + 1]! << 16) | (bytes[o + 2]! << 8) | bytes[o + 3]!);
        break;
      case "mask":
        if (bytes[o]! > 32) return { ok: false, code: "KNOCK_BAD_FIELD" };
        values[f.name] = bytes[o]!;
        break;
      case "flag":
        values[f.name] = bytes[o]!;
        break;
      case "checksum":
        break;
    }
  }
  return { ok: true, values };
}
