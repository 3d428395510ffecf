/**
 * The built-in `iptables` log format (spec: daemon.md §1): netfilter LOG lines as the kernel's
 * nf_log_syslog writes them (iptables `LOG`, nftables `log`, ufw) and as ulogd2's LOGEMU writes
 * NFLOG packets, IPv4 and IPv6, TCP and UDP. Pure.
 *
 * The record is found by its own structure (issue #16): `IN=… OUT=… ` (then the optional
 * `PHYSIN=`, `PHYSOUT=`, `MAC=`/`MACSRC= MACDST= MACPROTO=`, `TUNNEL=` fields) and `SRC=`, after
 * any log prefix (`--log-prefix "portknock"` glues to `IN=`; `"fw: drop in: "` holds `": "`).
 * Where it may start depends on whose line it is (`ALLOWED_IN` below): anywhere in a line of the
 * kernel or of ulogd (syslog tag `kernel: ` / `ulogd[pid]: `, a `dmesg` stamp, an RFC 5424
 * APP-NAME); in other lines only before the first `": "` (no tag: ulogd LOGEMU, `journalctl -o
 * cat`) or right after it when the prefix ends there. Any other program's line has its own tag
 * (`sshd[123]: `) before its message, so text such as `Invalid user IN=x OUT= SRC=1.2.3.4 …`
 * inside it is never a hit. Every field is read from one record: the last that starts where
 * one may, so no text before it (a prefix `SRC=1.2.3.4 `) can stand for its fields. `SRC=`
 * comes right after the record start, `DST=` after it, then the first `PROTO=` field must be
 * `TCP`/`UDP` with `SPT=` and `DPT=` (so ICMP errors, which quote a packet after `PROTO=ICMP`,
 * and fragments without ports are `LOG_NO_MATCH`).
 *
 * `parseLogLine` does not run these regexes for the built-in format: `extractIptables`
 * (`extract-iptables.ts`) is a linear-time equivalent (a fast-check property test holds the two
 * equal); the regexes are quadratic (their lookbehinds scan back to the line's start) and are
 * the tests' oracle, and a readable statement of the format.
 */
import type { LocatedText, LogFormatConfig } from "@portknock/config";
import type { CompiledLogFormat } from "./log-format.ts";

// A syslog tag after which any text is the kernel's (or ulogd's) own message: `kernel: `,
// `ulogd[123]: ` (ulogd2's SYSLOG output), `ulogd: `.
const TAG = "(?:kernel|ulogd(?:\\[\\d+\\])?)";
// Text without `": "`: up to the line's first `": "`.
const UPTO_FIRST = "(?:[^:]|:(?! ))*";
// An RFC 5424 line (`<PRI>1 TIMESTAMP HOST APP-NAME …`): it has no `": "` after its tag.
const NOT_5424 = "(?!<\\d{1,3}>1 )";
/**
 * Where a record may start (`IN=` at P): a condition on `line[0, P)`, a lookbehind.
 * - trusted lines, any P: the first `": "` closes the tag `kernel` or `ulogd[pid]`; a `dmesg`
 *   (`[ 12.345678] `) or `dmesg -T` (`[Wed Nov 25 08:23:27 2026] `) stamp starts the line; an
 *   RFC 5424 line whose APP-NAME is one of those tags.
 * - other lines (never RFC 5424 ones, whose message follows the APP-NAME without `": "`):
 *   before the first `": "` (no tag: ulogd LOGEMU, `journalctl -o cat`); right after a first
 *   `": "` with no whitespace before it (`journalctl -k -o cat` with a prefix such as
 *   `filter_IN_public_REJECT: `); after `":  "` (ulogd2 writes a space after the prefix, so
 *   `log prefix "knock: "` gives `knock:  IN=`).
 */
const ALLOWED_IN =
  "(?<=(?:" +
  [
    `^(?=${NOT_5424}${UPTO_FIRST}(?<![^ ])${TAG}: )[\\s\\S]*`,
    "^\\[ *\\d+\\.\\d+\\] [\\s\\S]*",
    "^\\[[A-Z][a-z]{2} [A-Z][a-z]{2} [ \\d]\\d \\d\\d:\\d\\d:\\d\\d \\d{4}\\] [\\s\\S]*",
    `^<\\d{1,3}>1 \\S+ \\S+ ${TAG} [\\s\\S]*`,
    `^${NOT_5424}${UPTO_FIRST}`,
    `^${NOT_5424}(?:[^\\s:]|:(?=\\S))*: `,
    `^${NOT_5424}${UPTO_FIRST}:  `,
  ].join("|") +
  ")IN=)";
// The rest of a record start after its `IN=`.
const recordRest = (iface: string): string =>
  `${iface} OUT=\\S* (?:PHYSIN=\\S* )?(?:PHYSOUT=\\S* )?` +
  "(?:MAC=\\S* |MACSRC=\\S* MACDST=\\S* MACPROTO=\\S* )?(?:TUNNEL=\\S* )?SRC=";
// The record is the last one that starts where a record may: no other starts after it, so
// nothing before it (a log prefix `SRC=1.2.3.4 `, a host name) can stand for its fields.
const record = (iface: string): string =>
  `IN=${ALLOWED_IN}(?![\\s\\S]*?IN=${ALLOWED_IN}${recordRest("\\S*")})${recordRest(iface)}`;
const RECORD = record("\\S*");
// The packet's own transport header: the first `PROTO=` field of the record (an ICMP error's
// quoted packet, `[SRC=… PROTO=TCP SPT=… DPT=…]`, comes after `PROTO=ICMP`).
const transport = (proto: string, sport: string, dport: string): string =>
  `${RECORD}\\S+ DST=\\S+ (?:(?!PROTO=)\\S+ )*?PROTO=${proto} SPT=${sport} DPT=${dport}(?![^ ])`;

// A strict dotted quad (0–255, no leading zeros): the language of `isIpv4`.
const OCTET = "(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)";
// `(\S+) ` when followed by a space, with the value in the first group when it is a dotted quad.
const ADDRESS = `(?:(${OCTET}(?:\\.${OCTET}){3})(?= )|(\\S+))`;

/**
 * The whole record from its `IN=` to the end of `DPT=`, with the captures the fast path of
 * `extract-iptables.ts` needs: 1 the `IN=` value, 2|3 `SRC=`, 4|5 `DST=` (2 and 4 when already
 * known to be dotted quads: no JavaScript check needed), 6 `T` for TCP. Ports are not captured
 * but read where the match ends, and the protocol is a one-letter marker (V8 does not allocate
 * one-character strings): fewer strings per hit. It matches exactly what the record regexes do.
 */
export const FULL_RECORD_SOURCE: string =
  "IN=" +
  recordRest("(\\S*)") +
  `${ADDRESS} DST=${ADDRESS} (?:(?!PROTO=)\\S+ )*?PROTO=(?:(T)CP|UDP) SPT=\\d+ DPT=\\d+(?![^ ])`;

/** The regex sources of the built-in format, by `<logformat>` key, plus `srcport`. */
export const IPTABLES_REGEX_SOURCES: {
  readonly required: string;
  readonly interface: string;
  readonly protocol: string;
  readonly ipserver: string;
  readonly ipclient: string;
  readonly port: string;
  readonly srcport: string;
} = {
  required: RECORD,
  interface: record("(\\S*)"),
  protocol: transport("(TCP|UDP)", "\\d+", "\\d+"),
  ipserver: `${RECORD}\\S+ DST=(\\S+)`,
  ipclient: `${RECORD}(\\S+)`,
  port: transport("(?:TCP|UDP)", "\\d+", "(\\d+)"),
  srcport: transport("(?:TCP|UDP)", "(\\d+)", "\\d+"),
};

const BUILTIN_WHERE = {
  kind: "config",
  file: "<built-in logformat iptables>",
  line: 0,
} as const;

const at = (text: string): LocatedText => ({ text, where: BUILTIN_WHERE });

/**
 * The built-in format as a `<logformat iptables>` block (plus `srcport`, which is not a
 * `<logformat>` key): what a test means by "a regex equal to the daemon's built-in format".
 */
export const IPTABLES_LOG_FORMAT: LogFormatConfig & { srcport: LocatedText } = {
  name: "iptables",
  where: BUILTIN_WHERE,
  required: at(IPTABLES_REGEX_SOURCES.required),
  interface: at(IPTABLES_REGEX_SOURCES.interface),
  protocol: at(IPTABLES_REGEX_SOURCES.protocol),
  ipserver: at(IPTABLES_REGEX_SOURCES.ipserver),
  ipclient: at(IPTABLES_REGEX_SOURCES.ipclient),
  port: at(IPTABLES_REGEX_SOURCES.port),
  srcport: at(IPTABLES_REGEX_SOURCES.srcport),
};

// Compiled once: the regexes have no `g` flag, so they keep no state and can be shared.
let compiled: CompiledLogFormat | undefined;

/**
 * The built-in format compiled: our own regexes, without the user-regex checks (a test holds
 * them to `compileLogFormat`; the safety analysis of these long regexes was ~10 ms of every
 * start). Here rather than in log-format.ts so that a replay worker loads only the parser.
 */
export function compiledIptablesFormat(): CompiledLogFormat {
  const f = IPTABLES_LOG_FORMAT;
  compiled ??= {
    name: f.name,
    required: new RegExp(f.required!.text),
    interface: new RegExp(f.interface!.text),
    protocol: new RegExp(f.protocol!.text),
    ipserver: new RegExp(f.ipserver!.text),
    ipclient: new RegExp(f.ipclient!.text),
    port: new RegExp(f.port!.text),
    srcport: new RegExp(f.srcport.text),
    builtin: "iptables",
  };
  return compiled;
}
