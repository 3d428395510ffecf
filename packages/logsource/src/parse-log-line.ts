/**
 * One log line to a knock hit (spec: daemon.md §1). Pure and total: every string gives a hit, a
 * skip (not a firewall record: `required` did not match) or a counted rejection; nothing throws.
 * The hot path allocates only the hit and its strings; skips return a shared object.
 */
import { quoteValue } from "@portknock/core";
import type { Extracted } from "./extract-iptables.ts";
import { extractIptables } from "./extract-iptables.ts";
import type { RejectCode } from "./errors.ts";
import type { CompiledLogFormat } from "./log-format.ts";
import { normalizeIp } from "@portknock/core";
import type { Clock, KnockHit } from "@portknock/core";
import type { LogLine } from "./types.ts";
import type { LineRegex } from "./user-regex.ts";

/** What one line is. */
export type ParseLogLineResult =
  | { kind: "hit"; hit: KnockHit }
  | { kind: "skip" }
  | { kind: "reject"; code: RejectCode; message: string };

const SKIP: ParseLogLineResult = Object.freeze({ kind: "skip" });

/**
 * Longer lines are not parsed: kernel records are under 1 KiB, and the cap bounds the time a user
 * regex takes on a crafted line (user regexes run in linear time, issue #16: the cap makes that a
 * few milliseconds at worst, see tools/bench/regex.bench.js). One that looks like a record is a
 * `LOG_LINE_TOO_LONG` rejection (`isLongCandidate`), others are skipped.
 */
export const MAX_RECORD_CHARS: number = 4096;

/**
 * Whether a line over `MAX_RECORD_CHARS` would have been a candidate (issue #16): for the
 * built-in format, an `IN=` anywhere in it (its own pre-filter, linear); for a `<logformat>`,
 * `required` (else `ipclient` and `port`) matching within its first `MAX_RECORD_CHARS`
 * characters, so a user regex never runs on more than that. A long line of another program is
 * not noise; a long forged record is never dropped silently.
 */
function isLongCandidate(
  text: string,
  format: CompiledLogFormat,
  firstIn: number,
): boolean {
  if (format.builtin === "iptables") {
    return (firstIn === -2 ? text.indexOf("IN=") : firstIn) >= 0;
  }
  const head = text.slice(0, MAX_RECORD_CHARS);
  if (format.required !== undefined) return format.required.test(head);
  return format.ipclient.test(head) && format.port.test(head);
}

// One scratch record, reused by every call (the parse is synchronous and not re-entrant).
const scratch: Extracted = {
  required: false,
  recordStart: -1,
  ipclient: undefined,
  port: undefined,
  ipserver: undefined,
  iface: undefined,
  protocol: undefined,
  srcport: undefined,
  portValue: -1,
  srcportValue: -1,
  ipclientIsV4: false,
  ipserverIsV4: false,
};

function firstGroup(
  regex: LineRegex | undefined,
  line: string,
): string | undefined {
  return regex === undefined ? undefined : regex.exec(line)?.[1];
}

function extractByRegex(
  line: string,
  f: CompiledLogFormat,
  out: Extracted,
): void {
  out.required = f.required === undefined || f.required.test(line);
  out.recordStart = -1;
  const on = out.required;
  out.ipclient = on ? firstGroup(f.ipclient, line) : undefined;
  out.port = on ? firstGroup(f.port, line) : undefined;
  out.ipserver = on ? firstGroup(f.ipserver, line) : undefined;
  out.iface = on ? firstGroup(f.interface, line) : undefined;
  out.protocol = on ? firstGroup(f.protocol, line) : undefined;
  out.srcport = on ? firstGroup(f.srcport, line) : undefined;
  out.portValue = out.srcportValue = -1;
  out.ipclientIsV4 = out.ipserverIsV4 = false;
}

/** A port 0–65535 written as 1–5 ASCII digits, or -1. */
function toPort(text: string): number {
  const n = text.length;
  if (n === 0 || n > 5) return -1;
  let value = 0;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return -1;
    value = value * 10 + (c - 48);
  }
  return value <= 65535 ? value : -1;
}

function lowerProtocol(text: string | undefined): string | undefined {
  if (text === undefined || text === "") return undefined;
  if (text === "TCP") return "tcp";
  if (text === "UDP") return "udp";
  return text.toLowerCase();
}

/**
 * Why a built-in firewall record gave no hit: no port or source at all (ICMP, a fragment, another
 * protocol), or a `DPT=` whose value does not parse (searched in the record that starts at
 * `start`, before an ICMP error's quoted packet, `[SRC=… DPT=…]`, which is not this record's).
 * Only on the rejection path.
 */
function builtinNoMatch(
  line: string,
  start: number,
  missing: "ipclient" | "port",
): string {
  if (missing === "port") {
    const text = line.slice(Math.max(0, start));
    const quoted = text.indexOf(" [SRC=");
    const own = quoted < 0 ? text : text.slice(0, quoted);
    const at = own.indexOf(" DPT=");
    if (at >= 0) {
      const value = own.slice(at + 5).split(" ", 1)[0] ?? "";
      return `firewall record whose DPT does not parse: ${quoteValue(value)}`;
    }
  }
  return `firewall record without a TCP or UDP ${missing === "port" ? "port" : "source address"} (ICMP, a fragment, another protocol)`;
}

/** A rejected line: its code and one sentence. */
export interface Rejection {
  code: RejectCode;
  message: string;
}

// Reused for every rejection `decodeLogLine` returns (callers copy what they keep).
const rejection: Rejection = { code: "LOG_NO_MATCH", message: "" };

function reject(code: RejectCode, message: string): Rejection {
  rejection.code = code;
  rejection.message = message;
  return rejection;
}

/**
 * The allocation-light body of `parseLogLine`: the hit, a `Rejection` (a shared object, valid
 * until the next call) or undefined for a skipped line. The hit's origin is `origin` when
 * `lineNo` < 0, else `origin + lineNo` (pass `file + ":"`), built only for hits; the time is
 * `clock.now()` when a clock is given. `firstIn`: where the first `IN=` of `text` is, when known.
 */
export function decodeLogLine(
  text: string,
  format: CompiledLogFormat,
  origin: string,
  lineNo: number,
  timeMs: number,
  clock: Clock | undefined,
  firstIn = -2,
): KnockHit | Rejection | undefined {
  if (text.length > MAX_RECORD_CHARS) {
    if (!isLongCandidate(text, format, firstIn)) return undefined;
    return reject(
      "LOG_LINE_TOO_LONG",
      `line of ${text.length} characters, over ${MAX_RECORD_CHARS}: not parsed (a firewall record is under 1 KiB)`,
    );
  }
  const ex = scratch;
  if (format.builtin === "iptables") {
    extractIptables(text, ex, firstIn === -2 ? text.indexOf("IN=") : firstIn);
  } else extractByRegex(text, format, ex);
  if (!ex.required) return undefined;
  const { ipclient, port } = ex;
  if (ipclient === undefined || port === undefined) {
    if (format.required === undefined) return undefined;
    const missing = ipclient === undefined ? "ipclient" : "port";
    return reject(
      "LOG_NO_MATCH",
      format.builtin === undefined
        ? `line matches required but not ${missing}`
        : builtinNoMatch(text, ex.recordStart, missing),
    );
  }
  const srcIp = ex.ipclientIsV4 ? ipclient : normalizeIp(ipclient);
  if (srcIp === undefined) {
    return reject(
      "LOG_BAD_IP",
      `client address must be IPv4 or IPv6, got ${quoteValue(ipclient)}`,
    );
  }
  const dstPort = ex.portValue >= 0 ? ex.portValue : toPort(port);
  if (dstPort < 0) {
    return reject(
      "LOG_BAD_PORT",
      `port must be an integer 0-65535, got ${quoteValue(port)}`,
    );
  }
  let dstIp: string | undefined;
  if (ex.ipserver !== undefined) {
    dstIp = ex.ipserverIsV4 ? ex.ipserver : normalizeIp(ex.ipserver);
    if (dstIp === undefined) {
      return reject(
        "LOG_BAD_IP",
        `server address must be IPv4 or IPv6, got ${quoteValue(ex.ipserver)}`,
      );
    }
  }
  let srcPort: number | undefined;
  if (ex.srcport !== undefined) {
    srcPort = ex.srcportValue >= 0 ? ex.srcportValue : toPort(ex.srcport);
    if (srcPort < 0) {
      return reject(
        "LOG_BAD_PORT",
        `source port must be an integer 0-65535, got ${quoteValue(ex.srcport)}`,
      );
    }
  }
  if (lineNo < 0) {
    return {
      srcIp,
      dstPort,
      protocol: lowerProtocol(ex.protocol),
      iface: ex.iface === "" ? undefined : ex.iface,
      dstIp,
      srcPort,
      timeMs: clock === undefined ? timeMs : clock.now(),
      origin,
    };
  }
  return new LineHit(
    srcIp,
    dstPort,
    lowerProtocol(ex.protocol),
    ex.iface === "" ? undefined : ex.iface,
    dstIp,
    srcPort,
    clock === undefined ? timeMs : clock.now(),
    origin,
    lineNo,
  );
}

/**
 * A hit read from a numbered line, whose `origin` (`file:line`) is built when first read: most
 * hits are never logged, and making the string was a fifth of the cost of a hit. `toJSON` gives
 * the plain hit.
 */
class LineHit implements KnockHit {
  srcIp: string;
  dstPort: number;
  protocol: string | undefined;
  iface: string | undefined;
  dstIp: string | undefined;
  srcPort: number | undefined;
  timeMs: number;
  #origin: string | undefined;
  readonly #prefix: string;
  readonly #lineNo: number;
  constructor(
    srcIp: string,
    dstPort: number,
    protocol: string | undefined,
    iface: string | undefined,
    dstIp: string | undefined,
    srcPort: number | undefined,
    timeMs: number,
    prefix: string,
    lineNo: number,
  ) {
    this.srcIp = srcIp;
    this.dstPort = dstPort;
    this.protocol = protocol;
    this.iface = iface;
    this.dstIp = dstIp;
    this.srcPort = srcPort;
    this.timeMs = timeMs;
    this.#prefix = prefix;
    this.#lineNo = lineNo;
  }
  get origin(): string {
    return (this.#origin ??= this.#prefix + this.#lineNo);
  }
  toJSON(): KnockHit {
    return {
      srcIp: this.srcIp,
      dstPort: this.dstPort,
      protocol: this.protocol,
      iface: this.iface,
      dstIp: this.dstIp,
      srcPort: this.srcPort,
      timeMs: this.timeMs,
      origin: this.origin,
    };
  }
}

function toResult(r: KnockHit | Rejection | undefined): ParseLogLineResult {
  if (r === undefined) return SKIP;
  if (r === rejection)
    return { kind: "reject", code: r.code, message: r.message };
  return { kind: "hit", hit: r as KnockHit };
}

/**
 * Decodes one log line with `format` (spec: daemon.md §1). `required` not matching is a `skip`
 * (cheap: one `indexOf` for the built-in format); `required` matching but `ipclient` or `port`
 * not is `LOG_NO_MATCH` (a format without `required` skips such lines instead); an address that
 * is not IPv4/IPv6 is `LOG_BAD_IP`, a port that is not 0–65535 `LOG_BAD_PORT`. IPv6 addresses are
 * normalised (RFC 5952), the protocol lower-cased, an empty interface left out. `origin` and
 * `timeMs` are copied into the hit. Never throws.
 */
export function parseLogLine(
  line: string,
  format: CompiledLogFormat,
  origin: string,
  timeMs: number,
): ParseLogLineResult {
  return toResult(decodeLogLine(line, format, origin, -1, timeMs, undefined));
}

/**
 * `parseLogLine` for a `LogLine`: the origin (`file:lineNo`) and the time (`clock.now()`) are
 * computed only for hits, so lines that are skipped cost no allocation at all.
 */
export function parseLogRecord(
  line: LogLine,
  format: CompiledLogFormat,
  clock: Clock,
): ParseLogLineResult {
  return toResult(
    decodeLogLine(line.text, format, `${line.file}:`, line.lineNo, 0, clock),
  );
}
