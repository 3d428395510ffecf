/**
 * The time stamp a log line starts with, as a command such as `journalctl -f` or `tail -F`
 * prints it: enough to tell a line written before the command started (its backlog) from a new
 * one. Pure. Recognised: syslog and journalctl `short` / `short-precise` (`Nov 25 08:23:27`,
 * `Nov  5 08:23:27.123456`: local time, no year) and ISO 8601 / RFC 3339 with an offset, as
 * journalctl `short-iso` / `short-iso-precise` and rsyslog write it
 * (`2026-11-25T08:23:27+0100`, `2026-11-25T08:23:27.123456+01:00`, `…Z`), also after an
 * RFC 5424 `<PRI>1 ` (rsyslog's RSYSLOG_SyslogProtocol23Format); journalctl `short-full`
 * (`Wed 2026-11-25 08:23:27 CET`: local time, or UTC when the zone says `UTC`/`GMT`) and
 * `short-unix` (`1795591407.123456`: seconds since the epoch); `dmesg -T` and OpenWrt's
 * `logread` (`[Wed Nov 25 08:23:27 2026]`, `Wed Nov 25 08:23:27 2026`: local time). Month and
 * day names are English (the C locale); anything else is "no stamp" (`dmesg`'s seconds since
 * boot, `journalctl -o cat`).
 */

const MONTHS = "JanFebMarAprMayJunJulAugSepOctNovDec";
// `Mmm dd hh:mm:ss[.frac]` then a space or the end; the day may be space-padded or one digit.
const SYSLOG =
  /^([A-Z][a-z]{2}) {1,2}(\d{1,2}) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?(?: |$)/;
// `yyyy-mm-ddThh:mm:ss[.frac](Z|±hh[:]mm)` then a space or the end.
const ISO =
  /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:?\d\d)(?: |$)/;

// journalctl short-full: `Www yyyy-mm-dd hh:mm:ss ZONE` then a space or the end (ZONE: the
// local zone's abbreviation, `CET`, `CEST`, or a number where the zone has none, `+03`).
const FULL =
  /^[A-Z][a-z]{2} (\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))? ([A-Za-z][\w+-]*|[+-]\d\d(?:\d\d)?)(?: |$)/;
// journalctl short-unix: seconds since the epoch, with a fraction, then a space or the end.
const UNIX = /^(\d{9,11})\.(\d{1,9})(?: |$)/;
// dmesg -T (in brackets) and OpenWrt logread: `Www Mmm [ d]d hh:mm:ss yyyy`.
const CTIME =
  /^(\[?)[A-Z][a-z]{2} ([A-Z][a-z]{2}) {1,2}(\d{1,2}) (\d\d):(\d\d):(\d\d) (\d{4})(\]?)(?: |$)/;

const HOUR_MS = 3_600_000;

/**
 * The end (exclusive, epoch ms) of the interval the leading stamp of `line` denotes: a stamp in
 * whole seconds stands for that whole second, one with a fraction for that last digit's unit;
 * a local time repeated by a DST change stands for its later occurrence too. So "the line was
 * written before instant T" is certain exactly when the result is `<= T`. `nearMs` (epoch ms)
 * picks the year of a stamp without one (the year that puts it nearest `nearMs`, so a
 * `Dec 31` line read on 1 January is last year's). Undefined when the line does not start with a
 * recognised, valid stamp (never throws).
 */
export function lineStampEndMs(
  line: string,
  nearMs: number,
): number | undefined {
  const c = line.charCodeAt(0);
  if (c >= 48 && c <= 57) return isoEndMs(line) ?? unixEndMs(line);
  if (c >= 65 && c <= 90) {
    return syslogEndMs(line, nearMs) ?? fullEndMs(line) ?? ctimeEndMs(line);
  }
  if (c === 91) return ctimeEndMs(line);
  if (c === 60) {
    const m = /^<\d{1,3}>1 /.exec(line);
    return m === null ? undefined : isoEndMs(line.slice(m[0].length));
  }
  return undefined;
}

function unixEndMs(line: string): number | undefined {
  const m = UNIX.exec(line);
  if (m === null) return undefined;
  const [, s = "", frac] = m;
  return Number(s) * 1000 + fractionMs(frac) + unitMs(frac);
}

function fullEndMs(line: string): number | undefined {
  const m = FULL.exec(line);
  if (m === null) return undefined;
  const [, y, mo, d, h, mi, s, frac, zone = ""] = m;
  const fields = [y, mo, d, h, mi, s].map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const [year, month, day, ...time] = fields;
  const t =
    zone === "UTC" || zone === "GMT"
      ? utcMs(...fields)
      : localEndMs(year, month - 1, day, ...time);
  return t === undefined ? undefined : t + fractionMs(frac) + unitMs(frac);
}

function ctimeEndMs(line: string): number | undefined {
  const m = CTIME.exec(line);
  if (m === null || (m[1] === "[") !== (m[8] === "]")) return undefined;
  const [, , name = "", d, h, mi, s, y] = m;
  const month = MONTHS.indexOf(name);
  if (month < 0 || month % 3 !== 0) return undefined;
  const [day, hour, minute, second, year] = [d, h, mi, s, y].map(Number) as [
    number,
    number,
    number,
    number,
    number,
  ];
  const t = localEndMs(year, month / 3, day, hour, minute, second);
  return t === undefined ? undefined : t + 1000;
}

/** The length in ms of the last digit of a fraction of `digits` digits (1000 for none). */
function unitMs(digits: string | undefined): number {
  return digits === undefined ? 1000 : 1000 / 10 ** digits.length;
}

function fractionMs(digits: string | undefined): number {
  return digits === undefined ? 0 : Number(`0.${digits}`) * 1000;
}

function isoEndMs(line: string): number | undefined {
  const m = ISO.exec(line);
  if (m === null) return undefined;
  const [, y, mo, d, h, mi, s, frac, zone = "Z"] = m;
  const fields = [y, mo, d, h, mi, s].map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const utc = utcMs(...fields);
  if (utc === undefined) return undefined;
  let offsetMin = 0;
  if (zone !== "Z") {
    const oh = Number(zone.slice(1, 3));
    const om = Number(zone.slice(-2));
    if (oh > 23 || om > 59) return undefined;
    offsetMin = (zone.startsWith("-") ? -1 : 1) * (oh * 60 + om);
  }
  return utc - offsetMin * 60_000 + fractionMs(frac) + unitMs(frac);
}

/** `Date.UTC` of valid fields (a leap second `:60` counts as `:59`), else undefined. */
function utcMs(
  y: number,
  mo: number,
  d: number,
  h: number,
  mi: number,
  s: number,
): number | undefined {
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 60)
    return undefined;
  const t = Date.UTC(y, mo - 1, d, h, mi, Math.min(s, 59));
  return new Date(t).getUTCDate() === d ? t : undefined;
}

function syslogEndMs(line: string, nearMs: number): number | undefined {
  const m = SYSLOG.exec(line);
  if (m === null) return undefined;
  const [, name = "", d, h, mi, s, frac] = m;
  const month = MONTHS.indexOf(name);
  if (month < 0 || month % 3 !== 0) return undefined;
  const fields = [d, h, mi, s].map(Number) as [number, number, number, number];
  const year = new Date(nearMs).getFullYear();
  let best: number | undefined;
  for (const y of [year - 1, year, year + 1]) {
    const t = localEndMs(y, month / 3, ...fields);
    if (t === undefined) continue;
    if (best === undefined || Math.abs(t - nearMs) < Math.abs(best - nearMs))
      best = t;
  }
  return best === undefined
    ? undefined
    : best + fractionMs(frac) + unitMs(frac);
}

/**
 * The latest instant whose local time is these fields (the later occurrence in the hour a DST
 * change repeats), or undefined for an invalid date.
 */
function localEndMs(
  y: number,
  month: number,
  d: number,
  h: number,
  mi: number,
  s: number,
): number | undefined {
  if (d < 1 || h > 23 || mi > 59 || s > 60) return undefined;
  const date = new Date(y, month, d, h, mi, Math.min(s, 59));
  if (date.getMonth() !== month || date.getDate() !== d) return undefined;
  const t = date.getTime();
  // A repeated local time: the same fields again 30 or 60 minutes later (JavaScript picks the
  // earlier occurrence).
  for (const shift of [HOUR_MS, HOUR_MS / 2]) {
    const later = new Date(t + shift);
    if (later.getHours() === h && later.getMinutes() === mi) return t + shift;
  }
  return t;
}
