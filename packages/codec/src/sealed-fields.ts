/**
 * The sealed plaintext (spec: sealed.md "Plaintext"): the `knock` fields with their compat widths,
 * except that CLIENT/IP is one family byte (4 or 6) followed by 4 or 16 address bytes. TIME and
 * CHECKSUM are not allowed (the time is in the nonce; the tag replaces the checksum).
 */
import type { KnockLayout, KnockValues } from "./knock-fields.ts";
import {
  formatIpv6,
  parseIpv4,
  parseIpv6,
  quoteValue as quote,
} from "@portknock/core";
import { CodecError } from "./errors.ts";

/** An address family of the CLIENT field. */
export type IpFamily = 4 | 6;

/**
 * The layout of the sealed plaintext when CLIENT has address family `family` (the only layout
 * when the list has no CLIENT): same fields and order, CLIENT/IP 5 or 17 bytes wide.
 */
export function sealedLayout(base: KnockLayout, family: IpFamily): KnockLayout {
  let offset = 0;
  const fields = base.fields.map((f) => {
    const width = f.kind === "ip" ? (family === 4 ? 5 : 17) : f.width;
    const spec = { name: f.name, kind: f.kind, offset, width };
    offset += width;
    return spec;
  });
  return { text: base.text, fields, length: offset, hasChecksum: false };
}

/** The CLIENT value of `values` for field `name` (CLIENT and IP are one field), as compat does. */
function ipValue(
  values: KnockValues,
  name: string,
): string | number | undefined {
  return values[name] ?? values.CLIENT ?? values.IP;
}

/**
 * The address family of the CLIENT value, or undefined when the layout has no CLIENT. Throws
 * `CodecError` (`CODEC_BAD_VALUE`, naming the field) for a missing value or one that is not a
 * strict IPv4 dotted quad or IPv6 address.
 */
export function clientFamily(
  layout: KnockLayout,
  values: KnockValues,
): IpFamily | undefined {
  const f = layout.fields.find((x) => x.kind === "ip");
  if (f == null) return undefined;
  const v = ipValue(values, f.name);
  if (v == null) {
    throw new CodecError("CODEC_BAD_VALUE", `${f.name} has no value`, f.name);
  }
  if (typeof v === "string" && parseIpv4(v) != null) return 4;
  if (typeof v === "string" && parseIpv6(v) != null) return 6;
  throw new CodecError(
    "CODEC_BAD_VALUE",
    `${f.name} must be an IPv4 address like 10.3.2.1 or an IPv6 address like 2001:db8::1, got ${quote(String(v))}`,
    f.name,
  );
}

const MAX = { port: 0xffff, flag: 0xff, mask: 32 } as const;

/**
 * Packs `values` into a sealed plaintext of `layout` (from `sealedLayout`, for the family of
 * the CLIENT value). Throws `CodecError` (`CODEC_BAD_VALUE`, naming the field) for a missing
 * value or one out of range for its width: nothing is truncated.
 */
export function packSealedFields(
  layout: KnockLayout,
  values: KnockValues,
): Uint8Array {
  const out = new Uint8Array(layout.length);
  for (const f of layout.fields) {
    if (f.kind === "ip") {
      const v = String(ipValue(values, f.name));
      const addr = f.width === 5 ? parseIpv4(v) : parseIpv6(v);
      if (addr == null) {
        throw new CodecError(
          "CODEC_BAD_VALUE",
          `${f.name} must be an IPv${f.width === 5 ? 4 : 6} address, got ${quote(v)}`,
          f.name,
        );
      }
      out[f.offset] = f.width === 5 ? 4 : 6;
      out.set(addr, f.offset + 1);
      continue;
    }
    if (f.kind !== "port" && f.kind !== "flag" && f.kind !== "mask") {
      // compileKnockConfig refuses TIME and CHECKSUM in a sealed list.
      throw new CodecError(
        "CODEC_BAD_CONFIG",
        `${f.name} is not allowed in a sealed knock`,
        f.name,
      );
    }
    const v = values[f.name];
    if (v == null) {
      throw new CodecError("CODEC_BAD_VALUE", `${f.name} has no value`, f.name);
    }
    const max = MAX[f.kind];
    if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > max) {
      throw new CodecError(
        "CODEC_BAD_VALUE",
        `${f.name} must be an integer from 0 to ${max}, got ${quote(String(v))}`,
        f.name,
      );
    }
    if (f.width === 2) out[f.offset] = v >>> 8;
    out[f.offset + f.width - 1] = v & 0xff;
  }
  return out;
}

/**
 * Reads a sealed plaintext of `layout`. The CLIENT family byte must match the layout's width and
 * MASK must be at most 32, else `KNOCK_BAD_FIELD` (an authenticated knock from a broken encoder).
 */
export function unpackSealedFields(
  layout: KnockLayout,
  bytes: Uint8Array,
):
  | { ok: true; values: Record<string, string | number> }
  | { ok: false; code: "KNOCK_BAD_FIELD" } {
  const values: Record<string, string | number> = {};
  for (const f of layout.fields) {
    const o = f.offset;
    switch (f.kind) {
      case "ip":
        if (f.width === 5) {
          if (bytes[o] !== 4) return { ok: false, code: "KNOCK_BAD_FIELD" };
          values[f.name] =
            `${bytes[o + 1]}.${bytes[o + 2]}.${bytes[o + 3]}.${bytes[o + 4]}`;
        } else {
          if (bytes[o] !== 6) return { ok: false, code: "KNOCK_BAD_FIELD" };
          values[f.name] = formatIpv6(bytes, o + 1);
        }
        break;
      case "port":
        values[f.name] = (bytes[o]! << 8) | bytes[o + 1]!;
        break;
      case "mask":
        if (bytes[o]! > 32) return { ok: false, code: "KNOCK_BAD_FIELD" };
        values[f.name] = bytes[o]!;
        break;
      default:
        values[f.name] = bytes[o]!;
        break;
    }
  }
  return { ok: true, values };
}
