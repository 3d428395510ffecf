/**
 * The built-in `iptables` format applied by hand (see `builtin-iptables.ts` for what it matches):
 * the same captures as its regexes, found faster. Pure. The usual line takes one `indexOf` (no
 * `IN=`: skipped) or one sticky regex over the record; anything unusual is scanned record by
 * record, field by field, with the regexes' exact semantics (`\S` is JavaScript's).
 */
import { FULL_RECORD_SOURCE } from "./builtin-iptables.ts";

const FULL_RECORD = new RegExp(FULL_RECORD_SOURCE, "y");

/** The captures of one line: each the first group of its regex, or undefined. */
export interface Extracted {
  /** Whether `required` matched (true when the format has none). */
  required: boolean;
  /** Where the record's `IN=` is (the built-in format), else -1. */
  recordStart: number;
  ipclient: string | undefined;
  port: string | undefined;
  ipserver: string | undefined;
  iface: string | undefined;
  protocol: string | undefined;
  srcport: string | undefined;
  /** `port` and `srcport` as numbers when already known valid (0–65535), else -1. */
  portValue: number;
  srcportValue: number;
  /** Whether `ipclient`/`ipserver` are already known to be dotted quads (no check needed). */
  ipclientIsV4: boolean;
  ipserverIsV4: boolean;
}

/** `s[start, end)` as a port when it is 1–5 digits worth at most 65535, else -1. */
function portAt(s: string, start: number, end: number): number {
  if (end - start > 5) return -1;
  let value = 0;
  for (let i = start; i < end; i++) value = value * 10 + s.charCodeAt(i) - 48;
  return value <= 65535 ? value : -1;
}

/** The start of the run of ASCII digits that ends at `end`. */
function digitsBefore(s: string, end: number): number {
  let i = end;
  for (
    let c = s.charCodeAt(i - 1);
    c >= 48 && c <= 57;
    c = s.charCodeAt(--i - 1)
  );
  return i;
}

/** Reads the ports of a `FULL_RECORD` match that ends at `end` (`… SPT=1 DPT=2`). */
function readPorts(s: string, end: number, out: Extracted): void {
  const dp = digitsBefore(s, end);
  const spEnd = dp - 5; // " DPT="
  const sp = digitsBefore(s, spEnd);
  out.portValue = portAt(s, dp, end);
  out.srcportValue = portAt(s, sp, spEnd);
  // Kept as text for the message when out of range (then counted as LOG_BAD_PORT).
  out.port = out.portValue < 0 ? s.slice(dp, end) : "";
  out.srcport = out.srcportValue < 0 ? s.slice(sp, spEnd) : "";
}

/** JavaScript's `\s`. */
function isSpace(c: number): boolean {
  if (c > 32 && c < 0xa0) return false;
  return (
    c === 32 ||
    (c >= 9 && c <= 13) ||
    c === 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000 ||
    c === 0xfeff
  );
}

/** The end of the run of non-`\s` characters starting at `i`. */
function skipNonSpace(s: string, i: number): number {
  const n = s.length;
  while (i < n && !isSpace(s.charCodeAt(i))) i++;
  return i;
}

/** `key\S* ` at `i`: the index after it, or -1. */
function token(s: string, i: number, key: string): number {
  if (!s.startsWith(key, i)) return -1;
  const e = skipNonSpace(s, i + key.length);
  return s.charCodeAt(e) === 32 ? e + 1 : -1;
}

/**
 * Where the record regex (`IN=… SRC=`) ends when it matches at `q`, the end of the non-space
 * run that starts with `IN=`; -1 when it does not match. It depends on `q` only, so every `IN=`
 * of one run gives the same answer: callers test a run once (which keeps the scan linear on
 * lines like `IN=IN=IN=…`).
 */
function recordEnd(s: string, q: number): number {
  if (!s.startsWith(" OUT=", q)) return -1;
  q = skipNonSpace(s, q + 5);
  if (s.charCodeAt(q) !== 32) return -1;
  q++;
  // Each optional field is taken when present: leaving it out could not match `SRC=` there.
  q = Math.max(q, token(s, q, "PHYSIN="));
  q = Math.max(q, token(s, q, "PHYSOUT="));
  const mac = token(s, q, "MAC=");
  if (mac >= 0) q = mac;
  else {
    const a = token(s, q, "MACSRC=");
    const b = a < 0 ? -1 : token(s, a, "MACDST=");
    const c = b < 0 ? -1 : token(s, b, "MACPROTO=");
    if (c >= 0) q = c;
  }
  q = Math.max(q, token(s, q, "TUNNEL="));
  return s.startsWith("SRC=", q) ? q + 4 : -1;
}

/** The end of the run of ASCII digits at `i` (`i` itself when there is none). */
function skipDigits(s: string, i: number): number {
  const n = s.length;
  while (i < n) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) break;
    i++;
  }
  return i;
}

const IFACE = 1;
const IPCLIENT = 2;
const IPSERVER = 4;
const TRANSPORT = 8;
const ALL = IFACE | IPCLIENT | IPSERVER | TRANSPORT;

/**
 * Reads the fields still `missing` from the record whose `IN=` value is `[inStart, inEnd)` and
 * whose `SRC=` value starts at `src`; returns the fields still missing after it.
 */
function readRecord(
  s: string,
  inStart: number,
  inEnd: number,
  src: number,
  missing: number,
  out: Extracted,
): number {
  if (missing & IFACE) {
    out.iface = s.slice(inStart, inEnd);
    missing &= ~IFACE;
  }
  const srcEnd = skipNonSpace(s, src);
  if (srcEnd === src) return missing; // `\S+` needs a character
  if (missing & IPCLIENT) {
    out.ipclient = s.slice(src, srcEnd);
    missing &= ~IPCLIENT;
  }
  if (!s.startsWith(" DST=", srcEnd)) return missing;
  const dst = srcEnd + 5;
  const dstEnd = skipNonSpace(s, dst);
  if (dstEnd === dst) return missing;
  if (missing & IPSERVER) {
    out.ipserver = s.slice(dst, dstEnd);
    missing &= ~IPSERVER;
  }
  if (!(missing & TRANSPORT) || s.charCodeAt(dstEnd) !== 32) return missing;
  // Fields separated by single spaces up to the first one that starts with `PROTO=`.
  let q = dstEnd + 1;
  while (!s.startsWith("PROTO=", q)) {
    const end = skipNonSpace(s, q);
    if (end === q || s.charCodeAt(end) !== 32) return missing;
    q = end + 1;
  }
  const tcp = s.startsWith("TCP SPT=", q + 6);
  if (!tcp && !s.startsWith("UDP SPT=", q + 6)) return missing;
  const sp = q + 14;
  const spEnd = skipDigits(s, sp);
  if (spEnd === sp || !s.startsWith(" DPT=", spEnd)) return missing;
  const dp = spEnd + 5;
  const dpEnd = skipDigits(s, dp);
  if (dpEnd === dp || (dpEnd < s.length && s.charCodeAt(dpEnd) !== 32)) {
    return missing;
  }
  out.protocol = tcp ? "TCP" : "UDP";
  out.srcport = s.slice(sp, spEnd);
  out.port = s.slice(dp, dpEnd);
  return missing & ~TRANSPORT;
}

const DMESG = /^\[ *\d+\.\d+\] /;
const DMESG_T =
  /^\[[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4}\] /;
const RFC5424 = /^<\d{1,3}>1 /;
const RFC5424_TRUSTED = /^<\d{1,3}>1 \S+ \S+ (?:kernel|ulogd(?:\[\d+\])?) /;

/** Whether a first `": "` at `c` closes the syslog tag `kernel`, `ulogd` or `ulogd[pid]`. */
function isTrustedTag(s: string, c: number): boolean {
  let t = c;
  if (s.charCodeAt(c - 1) === 93) {
    // `ulogd[123]`
    const open = digitsBefore(s, c - 1) - 1;
    if (open === c - 2 || s.charCodeAt(open) !== 91) return false;
    t = open;
    if (!(t >= 5 && s.startsWith("ulogd", t - 5))) return false;
    return t === 5 || s.charCodeAt(t - 6) === 32;
  }
  const n =
    s.startsWith("kernel", c - 6) && c >= 6
      ? 6
      : s.startsWith("ulogd", c - 5) && c >= 5
        ? 5
        : 0;
  return n > 0 && (c === n || s.charCodeAt(c - n - 1) === 32);
}

/** Whether `s[0, end)` holds a JavaScript `\s` character. */
function hasSpaceBefore(s: string, end: number): boolean {
  for (let i = 0; i < end; i++) if (isSpace(s.charCodeAt(i))) return true;
  return false;
}

// Where a record may start in a line (builtin-iptables.ts, `ALLOWED`).
const ANYWHERE = 0; // a trusted line
const NOWHERE = 1; // an RFC 5424 line of another program
const UNTAGGED = 2; // before the first ": ", or right after it (see `isAllowed`)

/** Which positions of `s` (first `": "` at `c`) may start a record. */
function lineKind(s: string, c: number): number {
  const first = s.charCodeAt(0);
  if (first === 60 && RFC5424.test(s)) {
    return RFC5424_TRUSTED.test(s) ? ANYWHERE : NOWHERE;
  }
  if (first === 91 && (DMESG.test(s) || DMESG_T.test(s))) return ANYWHERE;
  if (c >= 0 && isTrustedTag(s, c)) return ANYWHERE;
  return UNTAGGED;
}

/**
 * The last place in the run `[p, q)` (of non-space characters, its first `IN=` at `p`) where a
 * record may start in a line of `kind` whose first `": "` is at `c`, or -1. Every `IN=` of a run
 * starts a record or none (`recordEnd` depends on `q` only), so a few index calls decide.
 */
function lastAllowedIn(
  s: string,
  p: number,
  q: number,
  kind: number,
  c: number,
  noSpaceHead: boolean,
): number {
  if (kind === ANYWHERE || c < 0) return s.lastIndexOf("IN=", q - 3);
  // In a run that ends at or after `c + 2`, ulogd's `":  IN="` (c + 3) and a `-o cat` prefix's
  // `": IN="` (c + 2) come after any `IN=` before `c`.
  if (
    q - 3 >= c + 3 &&
    p <= c + 3 &&
    s.charCodeAt(c + 2) === 32 &&
    s.startsWith("IN=", c + 3)
  ) {
    return c + 3;
  }
  if (
    noSpaceHead &&
    p <= c + 2 &&
    q - 3 >= c + 2 &&
    s.startsWith("IN=", c + 2)
  ) {
    return c + 2;
  }
  if (p >= c) return -1;
  return s.lastIndexOf("IN=", Math.min(c - 1, q - 3)); // >= p: p itself is one
}

/**
 * The record of the line: the last `IN=` where a record starts (`recordEnd`) at a place where
 * one may. Writes its position into `at` ([IN= value start, its end, SRC= value]); false if none.
 */
function findRecord(s: string, firstIn: number, at: number[]): boolean {
  const c = s.indexOf(": ");
  const kind = lineKind(s, c);
  if (kind === NOWHERE) return false;
  const noSpaceHead = kind === UNTAGGED && c >= 0 && !hasSpaceBefore(s, c);
  let found = false;
  // Run by run of non-space characters (each `IN=` of a run ends at the same `q`): linear on
  // lines like `IN=IN=IN=…` or `IN= OUT= IN= OUT= …`.
  // In an untagged line no record starts after `c + 3`.
  const stop = kind === ANYWHERE || c < 0 ? s.length : c + 3;
  for (let p = firstIn; p >= 0 && p <= stop;) {
    const q = skipNonSpace(s, p + 3);
    const src = recordEnd(s, q);
    if (src >= 0) {
      const best = lastAllowedIn(s, p, q, kind, c, noSpaceHead);
      if (best >= 0) {
        at[0] = best + 3;
        at[1] = q;
        at[2] = src;
        found = true;
      }
    }
    p = s.indexOf("IN=", q);
  }
  return found;
}

const where = [0, 0, 0];

/**
 * Applies the built-in format to `line`, writing into `out` exactly what the regexes of
 * `IPTABLES_REGEX_SOURCES` would capture: every field from one record, the last one that starts
 * where a record may (see builtin-iptables.ts). Lines without `IN=` are rejected by one
 * `indexOf`. The usual line (one `IN=`, no RFC 5424 header, its first `": "` after it or
 * closing the tag `kernel`) takes one sticky regex; others are searched record by record.
 * `firstIn`: where the line's first `IN=` is, when the caller already knows.
 */
export function extractIptables(
  line: string,
  out: Extracted,
  firstIn: number = line.indexOf("IN="),
): void {
  out.required = false;
  out.recordStart = -1;
  out.ipclient = out.port = out.ipserver = undefined;
  out.iface = out.protocol = out.srcport = undefined;
  out.portValue = out.srcportValue = -1;
  out.ipclientIsV4 = out.ipserverIsV4 = false;
  if (firstIn < 0) return;
  const c = line.indexOf(": ");
  if (
    (c < 0 || firstIn < c || isTrustedTag(line, c)) &&
    line.charCodeAt(0) !== 60 &&
    line.indexOf("IN=", firstIn + 1) < 0
  ) {
    // The only `IN=`, at a place a record may start.
    FULL_RECORD.lastIndex = firstIn;
    const m = FULL_RECORD.exec(line);
    if (m !== null) {
      out.required = true;
      out.recordStart = firstIn;
      out.iface = m[1];
      out.ipclientIsV4 = m[2] !== undefined;
      out.ipclient = m[2] ?? m[3];
      out.ipserverIsV4 = m[4] !== undefined;
      out.ipserver = m[4] ?? m[5];
      out.protocol = m[6] === undefined ? "UDP" : "TCP";
      readPorts(line, FULL_RECORD.lastIndex, out);
      return;
    }
  }
  if (!findRecord(line, firstIn, where)) return;
  out.required = true;
  out.recordStart = where[0]! - 3;
  readRecord(line, where[0]!, where[1]!, where[2]!, ALL, out);
}
