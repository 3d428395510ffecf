/**
 * `<ethfilter NAME>` blocks (spec: daemon.md §1, config.md; prototype manual "Network Mode
 * Operation"): packet properties named as in Perl's NetPacket, each tested against every
 * captured packet. Pure: compiled once at start-up (here), matched per packet without allocation
 * on the fast paths (match-ethfilter.ts).
 *
 * Matching rules:
 * - `flags` is a mask: TCP flag names (`FIN SYN RST PSH ACK URG ECE CWR`, any case) or numbers
 *   (`18`, `0x12`) joined with `|`; a packet passes when `flags & mask` is non-zero (compat: the
 *   prototype's `flags & SYN`). A UDP packet has no flags and never passes.
 * - Every other property is tested as an anchored regex: the property's text must match
 *   `^(?:VALUE)$` as a whole (compat: the prototype's `=~`, anchored so that `127.0.0.1` does not
 *   also match `127.0.0.10`). Its text is the decimal number for `proto`, ports, `ttl`, `tos`,
 *   `len`, `id` and `winsize`, and the canonical address for `src_ip`/`dest_ip` (dotted quad, or
 *   RFC 5952 lower-case compressed IPv6). A property the packet does not have (`winsize` of UDP,
 *   `id` of IPv6 without a fragment header) never matches.
 * - In `proto`, `IP_PROTO_*` constant names are replaced by their numbers first
 *   (`IP_PROTO_TCP|IP_PROTO_UDP` → `^(?:6|17)$`).
 * - All properties must pass (AND).
 */
import type { LocatedText } from "@portknock/config";
import type { Diagnostic } from "@portknock/core";
import type { EthFilterConfig } from "@portknock/config";
import { quoteValue, sortDiagnostics } from "@portknock/core";
import { normalizeIp } from "@portknock/core";
import type { LinearRegex } from "./linear-regex.ts";
import { compileLinearRegex } from "./linear-regex.ts";
import type { EthFilterCode } from "./errors.ts";
import { literalTexts, parseFlags } from "./parse-ethfilter-value.ts";
import { IP_PROTOCOLS, TCP_FLAGS } from "./tcp-flags.ts";

/** The properties an `<ethfilter>` may test (NetPacket::IP/IPv6/TCP/UDP names). */
export type EthFilterProperty =
  | "proto"
  | "flags"
  | "src_ip"
  | "dest_ip"
  | "src_port"
  | "dest_port"
  | "ttl"
  | "tos"
  | "len"
  | "id"
  | "winsize";

/** Every `EthFilterProperty`, in documentation order. */
export const ETHFILTER_PROPERTIES: readonly EthFilterProperty[] = [
  "proto",
  "flags",
  "src_ip",
  "dest_ip",
  "src_port",
  "dest_port",
  "ttl",
  "tos",
  "len",
  "id",
  "winsize",
];

/** One compiled regex property. */
export interface EthFilterTest {
  property: Exclude<EthFilterProperty, "flags">;
  /** The value as written. */
  value: string;
  /**
   * `^(?:VALUE)$` (after constant substitution for `proto`), on the linear-time engine (re2js,
   * issue #16): no value and no packet can make it backtrack.
   */
  regex: LinearRegex;
  /**
   * When VALUE is a `|`-list of literals (decimal numbers, IPv4 dotted quads, IPv6 addresses
   * without regex characters), the texts it can match: the fast path and what BPF can express.
   */
  exact: ReadonlySet<string> | undefined;
}

/** A compiled `<ethfilter>`: use with `matchEthFilter` and `buildBpfFilter`. */
export interface CompiledEthFilter {
  readonly name: string;
  /** `flags`: a packet passes when its TCP flags `& flagsMask` is non-zero. */
  readonly flagsMask: number | undefined;
  readonly tests: readonly EthFilterTest[];
}

/** Options of `compileEthFilter`. */
export interface CompileEthFilterOptions {
  /** The capture's protocol: enables `ETHFILTER_NEVER_MATCHES` warnings. */
  protocol?: "tcp" | "udp";
}

/** `compileEthFilter`'s result: the filter when there is no error, and every finding. */
export interface CompileEthFilterResult {
  filter?: CompiledEthFilter;
  diagnostics: Diagnostic<EthFilterCode>[];
}

/**
 * Compiles an `<ethfilter NAME>` block (rules in the module comment). Every problem is reported,
 * each as a diagnostic naming the property's file and line: an unknown property
 * (`ETHFILTER_UNKNOWN_PROPERTY`), flag (`ETHFILTER_UNKNOWN_FLAG`) or `IP_PROTO_*` constant
 * (`ETHFILTER_UNKNOWN_CONSTANT`), an empty or invalid regex, or one the linear-time engine cannot
 * run (a lookaround, a back-reference: `ETHFILTER_BAD_REGEX`); warnings for an address
 * not written in canonical form (`ETHFILTER_ADDRESS_NOT_CANONICAL`) and, given the capture's
 * `protocol`, for a filter no packet can pass (`ETHFILTER_NEVER_MATCHES`). `filter` is set when
 * there is no error. Never throws.
 */
export function compileEthFilter(
  config: EthFilterConfig,
  options: CompileEthFilterOptions = {},
): CompileEthFilterResult {
  const diagnostics: Diagnostic<EthFilterCode>[] = [];
  const block = `<ethfilter ${config.name}>`;
  const report = (
    code: EthFilterCode,
    at: LocatedText,
    message: string,
    severity: "error" | "warning" = "error",
  ): void => {
    diagnostics.push({ code, severity, message, where: at.where });
  };
  let flagsMask: number | undefined;
  const tests: EthFilterTest[] = [];
  for (const [key, located] of config.properties) {
    const property = ETHFILTER_PROPERTIES.find((p) => p === key);
    if (property === undefined) {
      report(
        "ETHFILTER_UNKNOWN_PROPERTY",
        located,
        `unknown property ${quoteValue(key)} in ${block}; expected one of ${ETHFILTER_PROPERTIES.join(", ")}`,
      );
      continue;
    }
    const value = located.text.trim();
    if (property === "flags") {
      const flags = parseFlags(value);
      if ("bad" in flags) {
        report(
          "ETHFILTER_UNKNOWN_FLAG",
          located,
          `flags in ${block}: unknown flag ${quoteValue(flags.bad)}; expected names from ${Object.keys(TCP_FLAGS).join(" ")} (or numbers) joined with |`,
        );
      } else {
        flagsMask = flags.mask;
      }
      continue;
    }
    const test = compileTest(property, value, located, block, report);
    if (test !== undefined) tests.push(test);
  }
  if (options.protocol !== undefined) {
    warnNeverMatches(config, options.protocol, flagsMask, tests, report, block);
  }
  const sorted = sortDiagnostics(diagnostics);
  const failed = sorted.some((d) => d.severity === "error");
  return failed
    ? { diagnostics: sorted }
    : { filter: { name: config.name, flagsMask, tests }, diagnostics: sorted };
}

type Report = (
  code: EthFilterCode,
  at: LocatedText,
  message: string,
  severity?: "error" | "warning",
) => void;

function compileTest(
  property: EthFilterTest["property"],
  value: string,
  located: LocatedText,
  block: string,
  report: Report,
): EthFilterTest | undefined {
  if (value === "") {
    report(
      "ETHFILTER_BAD_REGEX",
      located,
      `${property} in ${block} is empty; expected a value or a regex`,
    );
    return undefined;
  }
  let source = value;
  if (property === "proto") {
    let unknown: string | undefined;
    source = value.replace(/\bIP_PROTO_\w+/gi, (name) => {
      const n = IP_PROTOCOLS[name.toUpperCase()];
      if (n === undefined) unknown ??= name;
      return String(n ?? name);
    });
    if (unknown !== undefined) {
      report(
        "ETHFILTER_UNKNOWN_CONSTANT",
        located,
        `proto in ${block}: unknown constant ${quoteValue(unknown)}; expected one of ${Object.keys(IP_PROTOCOLS).join(", ")} or a number`,
      );
      return undefined;
    }
  }
  const compiled = compileLinearRegex(`^(?:${source})$`);
  if (!compiled.ok) {
    report(
      "ETHFILTER_BAD_REGEX",
      located,
      `${property} in ${block}: ${quoteValue(value)} ${compiled.message}`,
    );
    return undefined;
  }
  const regex = compiled.regex;
  const exact = literalTexts(property, source);
  if (
    exact !== undefined &&
    (property === "src_ip" || property === "dest_ip")
  ) {
    for (const address of exact) {
      const canonical = normalizeIp(address);
      if (canonical !== address) {
        report(
          "ETHFILTER_ADDRESS_NOT_CANONICAL",
          located,
          `${property} in ${block}: ${quoteValue(address)} is compared as text with ${canonical === undefined ? "valid addresses and can never match" : `the canonical form; write ${quoteValue(canonical)}`}`,
          "warning",
        );
      }
    }
  }
  return { property, value, regex, exact };
}

function warnNeverMatches(
  config: EthFilterConfig,
  protocol: "tcp" | "udp",
  flagsMask: number | undefined,
  tests: readonly EthFilterTest[],
  report: Report,
  block: string,
): void {
  const flags = config.properties.get("flags");
  const ack = TCP_FLAGS.ACK ?? 16;
  if (flags !== undefined && flagsMask !== undefined) {
    if (protocol === "udp") {
      report(
        "ETHFILTER_NEVER_MATCHES",
        flags,
        `flags in ${block}: UDP packets have no flags, so no packet can pass`,
        "warning",
      );
    } else if ((flagsMask & ~ack) === 0) {
      report(
        "ETHFILTER_NEVER_MATCHES",
        flags,
        `flags in ${block}: knock packets are SYNs without ACK, and a mask of ${quoteValue(flags.text)} passes none of them; include SYN`,
        "warning",
      );
    }
  }
  const number = protocol === "tcp" ? "6" : "17";
  for (const t of tests) {
    const at = config.properties.get(t.property);
    if (at === undefined) continue;
    const never =
      (t.property === "proto" &&
        !(t.exact !== undefined
          ? t.exact.has(number)
          : t.regex.test(number))) ||
      (t.property === "winsize" && protocol === "udp");
    if (never) {
      report(
        "ETHFILTER_NEVER_MATCHES",
        at,
        `${t.property} in ${block}: no ${protocol.toUpperCase()} packet can match ${quoteValue(t.value)}`,
        "warning",
      );
    }
  }
}
