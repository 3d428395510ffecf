/**
 * The built-in `iptables` log format (spec: daemon.md §1): netfilter LOG lines as the kernel's
 * nf_log_syslog writes them (iptables `LOG`, nftables `log`, ufw) and as ulogd2's LOGEMU writes
 * NFLOG packets, IPv4 and IPv6, TCP and UDP. Pure.
 *
 * Anchoring: a line is a firewall record only if `IN=… OUT=… ` (then the optional `PHYSIN=`,
 * `PHYSOUT=`, `MAC=`/`MACSRC= MACDST= MACPROTO=`, `TUNNEL=` fields) and `SRC=` start either
 * - before the line's first `": "`: lines with no syslog tag, i.e. ulogd LOGEMU
 *   (`Nov 25 08:23:27 vm PREFIX IN=…`) and bare `dmesg` records; or
 * - after a first `": "` that ends the tag `kernel` (`… host kernel: [12.3] PREFIX IN=…`), with
 *   any log prefix in between (`--log-prefix "portknock"` glues to `IN=`).
 * Any other program's line has its own tag (`sshd[123]: `) before its message, so text such as
 * `Invalid user IN=x OUT= SRC=1.2.3.4 DPT=22` inside it is never a hit. Every field is read from
 * the record itself (the first one, left to right, where that field's regex matches): `SRC=`
 * right after the record start, `DST=` after it, then the first `PROTO=` field must be
 * `TCP`/`UDP` with `SPT=` and `DPT=` (so ICMP errors, which quote a packet after `PROTO=ICMP`,
 * and fragments without ports are `LOG_NO_MATCH`).
 *
 * `parseLogLine` does not run these regexes for the built-in format: `extractIptables`
 * (`extract-iptables.ts`) is a faster equivalent (a fast-check property test holds the two equal).
 */
import type { LocatedText, LogFormatConfig } from "@portknock/config";
import type { CompiledLogFormat } from "./log-format.ts";

// Where a record may start: before the line's first ": " (no syslog tag), or after a first ": "
// that closes the tag `kernel`. Candidates are tried left to right.
const HEAD =
  "^(?:(?:[^:]|:(?! ))*?|(?:[^:]|:(?! ))*?(?<![^ ])kernel: [\\s\\S]*?)";
const record = (iface: string): string =>
  `IN=${iface} OUT=\\S* (?:PHYSIN=\\S* )?(?:PHYSOUT=\\S* )?` +
  "(?:MAC=\\S* |MACSRC=\\S* MACDST=\\S* MACPROTO=\\S* )?(?:TUNNEL=\\S* )?SRC=";
const RECORD = HEAD + record("\\S*");
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
  record("(\\S*)") +
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
  interface: HEAD + record("(\\S*)"),
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
