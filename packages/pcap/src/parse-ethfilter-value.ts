/**
 * Reading `<ethfilter>` values (rules in ethfilter.ts): `flags` masks, and which values are plain
 * literals (exact texts: a fast path, and what BPF can express). Pure.
 */
import { isIpv4 } from "@portknock/core";
import type { EthFilterProperty } from "./ethfilter.ts";
import { TCP_FLAGS } from "./tcp-flags.ts";

const NUMERIC = new Set<EthFilterProperty>([
  "proto",
  "src_port",
  "dest_port",
  "ttl",
  "tos",
  "len",
  "id",
  "winsize",
]);

const IPV6_LITERAL = /^[0-9a-fA-F:]*:[0-9a-fA-F:]*$/;

/** The exact texts of a `|`-list of literals, or undefined when VALUE is a real regex. */
export function literalTexts(
  property: EthFilterProperty,
  value: string,
): Set<string> | undefined {
  const tokens = value.split("|");
  const numeric = NUMERIC.has(property);
  for (const t of tokens) {
    const literal = numeric
      ? /^\d+$/.test(t)
      : isIpv4(t) || IPV6_LITERAL.test(t);
    if (!literal) return undefined;
  }
  return new Set(tokens);
}

/** The mask of a `flags` value, or the first term that is not a flag. */
export function parseFlags(value: string): { mask: number } | { bad: string } {
  let mask = 0;
  for (const raw of value.split("|")) {
    const term = raw.trim();
    const bit = TCP_FLAGS[term.toUpperCase()];
    if (bit !== undefined) {
      mask |= bit;
    } else if (/^(?:\d+|0x[0-9a-f]+)$/i.test(term) && Number(term) <= 0xff) {
      mask |= Number(term);
    } else {
      return { bad: term };
    }
  }
  return { mask };
}
