import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lineStampEndMs } from "./line-stamp.ts";

const REST = " gw kernel: KNOCK IN=eth0 OUT= SRC=203.0.113.9";
const utc = (iso: string): number => Date.parse(iso);

describe("lineStampEndMs: ISO 8601 / RFC 3339 (journalctl short-iso, rsyslog)", () => {
  it.each([
    // journalctl short-iso before systemd 250 (%z), and after (±hh:mm)
    ["2026-11-25T08:23:27+0100", utc("2026-11-25T07:23:28Z")],
    ["2026-11-25T08:23:27+01:00", utc("2026-11-25T07:23:28Z")],
    ["2026-11-25T08:23:27-05:30", utc("2026-11-25T13:53:28Z")],
    ["2026-11-25T08:23:27Z", utc("2026-11-25T08:23:28Z")],
    // short-iso-precise / rsyslog: the end of the last digit's unit
    ["2026-11-25T08:23:27.123456+00:00", utc("2026-11-25T08:23:27Z") + 123.457],
    ["2026-11-25T08:23:27.5Z", utc("2026-11-25T08:23:27.600Z")],
    // a leap second counts as :59
    ["2016-12-31T23:59:60Z", utc("2017-01-01T00:00:00Z")],
  ])("%s ends at %d", (stamp, end) => {
    expect(lineStampEndMs(`${stamp}${REST}`, 0)).toBeCloseTo(end, 6);
  });

  it("a stamp alone on its line counts", () => {
    expect(lineStampEndMs("2026-11-25T08:23:27Z", 0)).toBe(
      utc("2026-11-25T08:23:28Z"),
    );
  });

  it.each([
    "2026-13-25T08:23:27Z", // month
    "2026-02-30T08:23:27Z", // day
    "2026-11-25T24:00:00Z", // hour
    "2026-11-25T08:23:27+2400", // offset
    "2026-11-25T08:23:27", // no offset: unknown zone
    "2026-11-25 08:23:27+00:00", // not the T form
    "2026-11-25T08:23:27+00:00gw kernel:", // no space after it
  ])("%s is not a stamp", (text) => {
    expect(lineStampEndMs(`${text}${REST}`, 0)).toBeUndefined();
  });
});

describe("lineStampEndMs: syslog / journalctl short (local time, no year)", () => {
  const savedTz = process.env.TZ;
  beforeAll(() => {
    process.env.TZ = "Europe/Berlin"; // CET/CEST: a DST change to test
  });
  afterAll(() => {
    process.env.TZ = savedTz;
  });
  const local = (y: number, mo: number, d: number, h = 0, mi = 0, s = 0) =>
    new Date(y, mo - 1, d, h, mi, s).getTime();

  it("reads the local time of the year nearest the reference", () => {
    const near = local(2026, 11, 25, 12);
    expect(lineStampEndMs(`Nov 25 08:23:27${REST}`, near)).toBe(
      local(2026, 11, 25, 8, 23, 28),
    );
    // journalctl pads the day with 0, syslog with a space
    expect(lineStampEndMs(`Nov 05 08:23:27${REST}`, near)).toBe(
      local(2026, 11, 5, 8, 23, 28),
    );
    expect(lineStampEndMs(`Nov  5 08:23:27${REST}`, near)).toBe(
      local(2026, 11, 5, 8, 23, 28),
    );
  });

  it("short-precise: the end of the last digit's unit", () => {
    const got = lineStampEndMs(
      `Nov 25 08:23:27.250000${REST}`,
      local(2026, 11, 25),
    );
    expect(got).toBeCloseTo(local(2026, 11, 25, 8, 23, 27) + 250.001, 6);
  });

  it("rolls the year over: Dec 31 read on 1 January is last year's, Jan 1 read on 31 December next year's", () => {
    expect(
      lineStampEndMs(`Dec 31 23:59:59${REST}`, local(2027, 1, 1, 0, 0, 30)),
    ).toBe(local(2027, 1, 1));
    expect(
      lineStampEndMs(`Jan  1 00:00:00${REST}`, local(2026, 12, 31, 23, 59, 59)),
    ).toBe(local(2027, 1, 1, 0, 0, 1));
  });

  it("a time the DST change repeats stands for its later occurrence", () => {
    // 2026-10-25: 03:00 CEST becomes 02:00 CET, so 02:30 happens at 00:30Z and at 01:30Z.
    expect(
      lineStampEndMs(`Oct 25 02:30:00${REST}`, utc("2026-10-25T01:40:00Z")),
    ).toBe(utc("2026-10-25T01:30:01Z"));
    // An hour without a change: one occurrence.
    expect(
      lineStampEndMs(`Oct 25 05:30:00${REST}`, utc("2026-10-25T06:00:00Z")),
    ).toBe(utc("2026-10-25T04:30:01Z"));
  });

  it.each([
    "Foo 25 08:23:27", // month name
    "nov 25 08:23:27", // lower case
    "Feb 30 08:23:27", // no such day in any year
    "Nov 25 24:23:27", // hour
    "Nov 25 08:23", // no seconds
    "Nov 25 08:23:27gw", // no space after it
  ])("%s is not a stamp", (text) => {
    expect(lineStampEndMs(`${text}${REST}`, local(2026, 11, 25))).toBe(
      undefined,
    );
  });
});

describe("lineStampEndMs: other lines", () => {
  it.each([
    "",
    "-- Journal begins at Mon 2024-11-25 08:00:00 UTC. --",
    "[ 1234.567890] portknock IN=eth0",
    "portknock IN=eth0 OUT= SRC=1.2.3.4",
  ])("%j has no stamp", (line) => {
    expect(lineStampEndMs(line, Date.now())).toBeUndefined();
  });

  it("never throws, and any result is a finite number", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc
            .tuple(
              fc.date({ noInvalidDate: true }),
              fc.constantFrom("Z", "+01:00", "-0930"),
            )
            .map(([d, z]) => `${d.toISOString().slice(0, 19)}${z} x`),
        ),
        fc.integer({ min: 0, max: 4_000_000_000_000 }),
        (line, near) => {
          const r = lineStampEndMs(line, near);
          if (r !== undefined) expect(Number.isFinite(r)).toBe(true);
        },
      ),
    );
  });

  it("an ISO stamp of any instant and offset ends one unit after that instant", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 4_000_000_000 }),
        fc.integer({ min: -12 * 60, max: 14 * 60 }),
        (seconds, offsetMin) => {
          const local = new Date((seconds + offsetMin * 60) * 1000)
            .toISOString()
            .slice(0, 19);
          const sign = offsetMin < 0 ? "-" : "+";
          const abs = Math.abs(offsetMin);
          const zone = `${sign}${String(Math.floor(abs / 60)).padStart(2, "0")}:${String(abs % 60).padStart(2, "0")}`;
          expect(lineStampEndMs(`${local}${zone} gw`, 0)).toBe(
            (seconds + 1) * 1000,
          );
        },
      ),
    );
  });
});

describe("lineStampEndMs: the other real formats (issue #16)", () => {
  const savedTz = process.env.TZ;
  beforeAll(() => {
    process.env.TZ = "Europe/Berlin";
  });
  afterAll(() => {
    process.env.TZ = savedTz;
  });
  const end = utc("2026-11-25T07:23:28Z"); // 08:23:27 CET, to the end of its second

  it.each([
    // rsyslog RFC 5424 (RSYSLOG_SyslogProtocol23Format)
    ["<4>1 2026-11-25T08:23:27+01:00 gw kernel - - - x", end],
    ["<4>1 2026-11-25T08:23:27.5+01:00 gw kernel - - - x", end - 400],
    // journalctl short-full: local time, or UTC by name
    ["Wed 2026-11-25 08:23:27 CET gw kernel: x", end],
    ["Wed 2026-11-25 07:23:27 UTC gw kernel: x", end],
    ["Wed 2026-11-25 08:23:27 +01 gw kernel: x", end], // a zone without a name
    // journalctl short-unix
    ["1795591407.123456 gw kernel: x", utc("2026-11-25T07:23:27Z") + 123.457],
    // dmesg -T and OpenWrt logread: local time
    ["[Wed Nov 25 08:23:27 2026] knock: IN=eth0", end],
    ["Wed Nov 25 08:23:27 2026 kern.warn kernel: [1.0] x", end],
    ["[Wed Nov  5 08:23:27 2026] x", utc("2026-11-05T07:23:28Z")],
  ])("%s ends at %d", (line, want) => {
    expect(lineStampEndMs(line, 0)).toBeCloseTo(want, 6);
  });

  it.each([
    "[12345.678901] knock: IN=eth0", // dmesg: seconds since boot
    "knock: IN=eth0", // journalctl -o cat
    "<4>2026-11-25T08:23:27+01:00 gw kernel: x", // not RFC 5424
    "[Wed Nov 25 08:23:27 2026 x", // an unclosed bracket
    "Wed Nov 25 08:23:27 2026] x",
    "Wed 2026-02-30 08:23:27 CET gw", // no such day
    "17955914071.5x gw", // no space after it
  ])("%s has no stamp", (line) => {
    expect(lineStampEndMs(line, 0)).toBeUndefined();
  });
});
