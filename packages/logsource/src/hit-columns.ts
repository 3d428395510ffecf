/**
 * Hits in columns, for consumers that go as fast as a log can be read (`knockd -replay`): the
 * usual netfilter record (an IPv4 packet with valid ports, in the built-in format) becomes three
 * numbers — one sticky regex test on the text, no line string, no match array, no hit object.
 * Whatever this fast lane does not take (IPv6, another layout, CRLF endings, a bad port, a user
 * `<logformat>`) goes through `decodeLogLine` and is carried as a finished hit. A hit of the
 * fast lane is built on demand by decoding its line again: the very hit `nextBatch` gives.
 */
import { FULL_RECORD_SOURCE } from "./builtin-iptables.ts";
import { MAX_RECORD_CHARS } from "./parse-log-line.ts";
import type { HitColumns, KnockHit } from "@portknock/core";

/**
 * `FULL_RECORD` run on a whole batch instead of one line: the record's end may be followed by
 * the `\n` that ends its line (end of string, for a single line). `\S`, `\d` and the literals
 * never match `\n`, so a match never leaves its line.
 */
const RECORD_IN_TEXT = new RegExp(
  FULL_RECORD_SOURCE.replace(/\(\?!\[\^ \]\)$/, "(?![^ \\n])"),
  "y",
);
if (RECORD_IN_TEXT.source === FULL_RECORD_SOURCE) {
  throw new Error("hit-columns: FULL_RECORD_SOURCE no longer ends in (?![^ ])");
}

/**
 * A strict dotted quad (`OCTET` of builtin-iptables.ts: 0–255, no leading zero) at `i`, followed
 * by a space: its value (0 to 2^32 - 1), or -1 (then the regex took the `\S+` branch).
 */
function dottedQuadAt(s: string, i: number): number {
  let value = 0;
  for (let part = 0; part < 4; part++) {
    const first = s.charCodeAt(i);
    if (!(first >= 48 && first <= 57)) return -1;
    let octet = first - 48;
    let c = s.charCodeAt(++i);
    if (c >= 48 && c <= 57) {
      if (octet === 0) return -1; // a leading zero
      octet = octet * 10 + c - 48;
      c = s.charCodeAt(++i);
      if (c >= 48 && c <= 57) {
        octet = octet * 10 + c - 48;
        if (octet > 255) return -1;
        c = s.charCodeAt(++i);
      }
    }
    value = value * 256 + octet;
    if (part < 3) {
      if (c !== 46) return -1;
      i++;
    } else if (c !== 32) return -1;
  }
  return value;
}

/** The start of the run of ASCII digits that ends at `end`. */
function digitsBefore(s: string, end: number): number {
  let i = end;
  while (i > 0) {
    const c = s.charCodeAt(i - 1);
    if (c < 48 || c > 57) break;
    i--;
  }
  return i;
}

/** `s[start, end)` as a port (1–5 digits, at most 65535), else -1. */
function portAt(s: string, start: number, end: number): number {
  if (end - start > 5 || end === start) return -1;
  let value = 0;
  for (let i = start; i < end; i++) value = value * 10 + s.charCodeAt(i) - 48;
  return value <= 65535 ? value : -1;
}

/**
 * The fast lane: when the line `[start, end)` of `s`, with its first `IN=` at `firstIn` and its
 * first `": "` at `colon` (-1: none), is a record that the built-in format decodes to an IPv4
 * hit with valid ports, writes [source, destination port, source port] into `out` and returns
 * true; otherwise returns false (then `decodeLogLine` decides). `s` may hold other lines.
 */
export function readIptablesV4(
  s: string,
  start: number,
  end: number,
  firstIn: number,
  colon: number,
  out: Float64Array,
): boolean {
  if (end - start > MAX_RECORD_CHARS) return false;
  // extract-iptables.ts: the whole-record regex applies at the first `IN=` when it is the
  // line's only one (the record is the last that starts where one may), the line is not
  // RFC 5424, and the `IN=` comes before any syslog tag or after the tag `kernel: `; other
  // lines are searched record by record.
  if (s.charCodeAt(start) === 60) return false;
  if (
    colon >= 0 &&
    colon < firstIn &&
    !(
      colon - 6 >= start &&
      s.startsWith("kernel", colon - 6) &&
      (colon - 6 === start || s.charCodeAt(colon - 7) === 32)
    )
  ) {
    return false;
  }
  const another = s.indexOf("IN=", firstIn + 1);
  if (another >= 0 && another < end) return false;
  RECORD_IN_TEXT.lastIndex = firstIn;
  if (!RECORD_IN_TEXT.test(s)) return false;
  const stop = RECORD_IN_TEXT.lastIndex;
  // The first ` SRC=` after `IN=` is the record's: the fields before it are `KEY=\S*` tokens.
  const src = s.indexOf(" SRC=", firstIn) + 5;
  const ip = dottedQuadAt(s, src);
  if (ip < 0) return false;
  // ` DST=` not a dotted quad: decodeLogLine checks it.
  if (dottedQuadAt(s, s.indexOf(" ", src) + 5) < 0) return false;
  const dp = digitsBefore(s, stop);
  const spEnd = dp - 5; // " DPT="
  const sp = digitsBefore(s, spEnd);
  const dstPort = portAt(s, dp, stop);
  const srcPort = portAt(s, sp, spEnd);
  if (dstPort < 0 || srcPort < 0) return false;
  out[0] = ip;
  out[1] = dstPort;
  out[2] = srcPort;
  return true;
}

/** Columns of finished hits only (sources other than a replayed file). */
export class FinishedColumns implements HitColumns {
  length = 0;
  v4: Float64Array = new Float64Array(0);
  dstPort: Int32Array = new Int32Array(0);
  srcPort: Int32Array = new Int32Array(0);
  timeMs = 0;
  #hits: readonly KnockHit[] = [];

  /** Starts a batch of `hits` (kept, not copied), read at `timeMs`. */
  reset(hits: readonly KnockHit[], timeMs: number): void {
    this.#hits = hits;
    this.length = hits.length;
    this.timeMs = timeMs;
    if (this.v4.length < hits.length) {
      this.v4 = new Float64Array(Math.max(hits.length, 2 * this.v4.length));
      this.v4.fill(-1);
      this.dstPort = new Int32Array(this.v4.length);
      this.srcPort = new Int32Array(this.v4.length);
    }
  }

  hit(i: number): KnockHit {
    const h = this.#hits[i];
    if (h === undefined || !Number.isInteger(i)) {
      throw new RangeError(`hit ${i} of a batch of ${this.length}`);
    }
    return h;
  }
}
