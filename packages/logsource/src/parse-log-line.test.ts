import { describe, expect, it } from "vitest";
import type { CompiledLogFormat } from "./log-format.ts";
import { builtinLogFormat, compileLogFormat } from "./log-format.ts";
import type { ParseLogLineResult } from "./parse-log-line.ts";
import {
  MAX_RECORD_CHARS,
  parseLogLine,
  parseLogRecord,
} from "./parse-log-line.ts";

const builtin = builtinLogFormat("iptables");
// The built-in regexes run as regexes (V8's: they use lookarounds, which a <logformat> block
// cannot, issue #16), against the hand-written extractor.
const viaRegex: CompiledLogFormat = { ...builtin, builtin: undefined };
const parse = (line: string): ParseLogLineResult =>
  parseLogLine(line, builtin, "fw:1", 1000);

const HEAD = "Nov 25 08:23:27 gw kernel: [12345.678901] KNOCK ";
const v4 = (fields: string): string =>
  `${HEAD}IN=eth0 OUT= MAC=00:11:22:33:44:55:66:77:88:99:aa:bb:08:00 ${fields}`;

describe("parseLogLine with the built-in format", () => {
  it("decodes a TCP record into a hit", () => {
    expect(
      parse(
        v4(
          "SRC=192.0.2.7 DST=198.51.100.1 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=1 DF PROTO=TCP SPT=40000 DPT=1234 WINDOW=64240 RES=0x00 SYN URGP=0",
        ),
      ),
    ).toEqual({
      kind: "hit",
      hit: {
        srcIp: "192.0.2.7",
        dstPort: 1234,
        protocol: "tcp",
        iface: "eth0",
        dstIp: "198.51.100.1",
        srcPort: 40000,
        timeMs: 1000,
        origin: "fw:1",
      },
    });
  });

  // `logcommand = journalctl -k -f -n 0 -o short-iso` (#15): systemd before 250 writes the
  // offset as +0100, later versions as +01:00; -precise adds microseconds.
  it.each([
    "2026-11-25T09:19:32+0100",
    "2026-11-25T09:19:32+01:00",
    "2026-11-25T09:19:32.123456+01:00",
  ])("reads a journalctl short-iso kernel line stamped %s", (stamp) => {
    const line = `${stamp} gw kernel: portknock IN=eth0 OUT= MAC=52:54:00:12:34:56:52:54:00:65:43:21:08:00 SRC=203.0.113.9 DST=192.0.2.1 LEN=60 TOS=0x00 PREC=0x00 TTL=52 ID=48213 DF PROTO=TCP SPT=51234 DPT=2345 WINDOW=64240 RES=0x00 SYN URGP=0`;
    const hit = {
      kind: "hit",
      hit: {
        srcIp: "203.0.113.9",
        dstPort: 2345,
        protocol: "tcp",
        iface: "eth0",
        dstIp: "192.0.2.1",
        srcPort: 51234,
        timeMs: 1000,
        origin: "fw:1",
      },
    };
    expect(parse(line)).toEqual(hit);
    expect(parseLogLine(line, viaRegex, "fw:1", 1000)).toEqual(hit);
  });

  it("makes the kernel's full IPv6 form and ::1 one source", () => {
    const line = (src: string): string =>
      `${HEAD}IN=lo OUT= MAC= SRC=${src} DST=0000:0000:0000:0000:0000:0000:0000:0001 LEN=80 TC=0 HOPLIMIT=64 FLOWLBL=0 PROTO=UDP SPT=5 DPT=1000 LEN=8`;
    const full = parse(line("0000:0000:0000:0000:0000:0000:0000:0001"));
    expect(full).toMatchObject({
      kind: "hit",
      hit: { srcIp: "::1", dstIp: "::1", protocol: "udp" },
    });
    expect(parse(line("::1"))).toEqual(full);
  });

  it.each([
    [
      "no IN= at all",
      "Nov 25 08:23:27 gw sshd[1]: Accepted publickey for root",
    ],
    [
      "sshd quoting record text",
      "Nov 25 08:23:27 gw sshd[123]: Invalid user IN=x OUT= SRC=1.2.3.4 DST=1.1.1.1 PROTO=TCP SPT=1 DPT=22 from 1.2.3.4",
    ],
    [
      "a fake kernel tag inside a message",
      "Nov 25 08:23:27 gw sshd[9]: kernel: IN=lo OUT= SRC=1.2.3.4 DST=1.1.1.1 PROTO=TCP SPT=1 DPT=22",
    ],
    [
      "cron echoing text",
      "Nov 25 08:23:27 gw CRON[456]: (root) CMD (echo SRC=1.2.3.4 DPT=22)",
    ],
    [
      "a tag that merely ends in kernel",
      "Nov 25 08:23:27 gw mykernel: IN=lo OUT= SRC=1.2.3.4 DST=1.1.1.1 PROTO=TCP SPT=1 DPT=22",
    ],
    [
      "IN= without the record shape",
      `${HEAD}IN=eth0 SRC=1.2.3.4 DST=1.1.1.1 PROTO=TCP SPT=1 DPT=22`,
    ],
    [
      "another program's line longer than a record can be",
      `Nov 25 08:23:27 gw app[1]: ${"x".repeat(MAX_RECORD_CHARS)}`,
    ],
  ])("skips %s", (_, line) => {
    expect(parse(line)).toEqual({ kind: "skip" });
    expect(parseLogLine(line, viaRegex, "fw:1", 1000)).toEqual({
      kind: "skip",
    });
  });

  it.each([
    [
      "an ICMP error quoting a TCP packet",
      v4(
        "SRC=192.0.2.7 DST=198.51.100.1 LEN=88 TOS=0x00 PREC=0xC0 TTL=64 ID=1 PROTO=ICMP TYPE=3 CODE=3 [SRC=198.51.100.1 DST=192.0.2.7 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=1 DF PROTO=TCP SPT=1 DPT=2 WINDOW=1 RES=0x00 SYN URGP=0 ]",
      ),
      "LOG_NO_MATCH",
    ],
    [
      "a fragment without ports",
      v4(
        "SRC=192.0.2.7 DST=198.51.100.1 LEN=1500 TOS=0x00 PREC=0x00 TTL=64 ID=7 FRAG:185 PROTO=TCP",
      ),
    ],
    [
      "an out-of-range port",
      v4("SRC=192.0.2.7 DST=198.51.100.1 PROTO=TCP SPT=1 DPT=70000 WINDOW=1"),
      "LOG_BAD_PORT",
    ],
    [
      "a bad source address",
      v4("SRC=192.0.2.700 DST=198.51.100.1 PROTO=TCP SPT=1 DPT=7 WINDOW=1"),
      "LOG_BAD_IP",
    ],
    [
      "a bad server address",
      v4("SRC=192.0.2.7 DST=nowhere PROTO=TCP SPT=1 DPT=7 WINDOW=1"),
      "LOG_BAD_IP",
    ],
    [
      "an out-of-range source port",
      v4("SRC=192.0.2.7 DST=198.51.100.1 PROTO=UDP SPT=123456 DPT=7 LEN=8"),
      "LOG_BAD_PORT",
    ],
  ])("rejects %s", (_, line, code = "LOG_NO_MATCH") => {
    expect(parse(line)).toMatchObject({ kind: "reject", code });
    expect(parseLogLine(line, viaRegex, "fw:1", 1000)).toMatchObject({
      kind: "reject",
      code,
    });
  });

  it("says which field of a record does not parse, not that it has no port (#16)", () => {
    const bad = parse(
      v4("SRC=192.0.2.7 DST=198.51.100.1 PROTO=TCP SPT=1 DPT=x22 WINDOW=1"),
    );
    expect(bad).toMatchObject({ kind: "reject", code: "LOG_NO_MATCH" });
    expect((bad as { message: string }).message).toBe(
      'firewall record whose DPT does not parse: "x22"',
    );
    // An ICMP error quoting a TCP packet has no port of its own: the quoted DPT is not it.
    const icmp = parse(
      v4(
        "SRC=192.0.2.7 DST=198.51.100.1 PROTO=ICMP TYPE=3 CODE=3 [SRC=198.51.100.1 DST=192.0.2.7 PROTO=TCP SPT=1 DPT=2 ]",
      ),
    );
    expect((icmp as { message: string }).message).toContain(
      "(ICMP, a fragment",
    );
  });

  it("builds the origin and time lazily from a LogLine", () => {
    const line = v4("SRC=10.0.0.1 DST=10.0.0.2 PROTO=TCP SPT=1 DPT=2 WINDOW=1");
    const r = parseLogRecord(
      { text: line, file: "/var/log/firewall", lineNo: 1234 },
      builtin,
      {
        now: () => 42,
      },
    );
    expect(r).toMatchObject({
      kind: "hit",
      hit: { origin: "/var/log/firewall:1234", timeMs: 42 },
    });
  });
});

// Issue #16: an over-long line that looks like a record is counted, not dropped silently.
describe("a line over MAX_RECORD_CHARS", () => {
  const long = `${HEAD}IN=lo OUT= SRC=1.2.3.4 DST=1.1.1.1 PROTO=TCP SPT=1 DPT=22 ${"x".repeat(MAX_RECORD_CHARS)}`;

  it("is LOG_LINE_TOO_LONG when it holds a record, in both built-in lanes", () => {
    for (const f of [builtin, viaRegex]) {
      expect(parseLogLine(long, f, "fw:1", 1000)).toMatchObject({
        kind: "reject",
        code: "LOG_LINE_TOO_LONG",
      });
    }
    // The built-in pre-filter is `IN=` anywhere, even past the first 4,096 characters.
    expect(parse(`${"x".repeat(MAX_RECORD_CHARS)} IN=`)).toMatchObject({
      kind: "reject",
      code: "LOG_LINE_TOO_LONG",
    });
  });

  it("is parsed as usual up to MAX_RECORD_CHARS characters", () => {
    const line = v4(
      "SRC=192.0.2.7 DST=198.51.100.1 PROTO=TCP SPT=40000 DPT=1234 ",
    );
    const exact = line + "x".repeat(MAX_RECORD_CHARS - line.length);
    expect(exact.length).toBe(MAX_RECORD_CHARS);
    expect(parse(exact).kind).toBe("hit");
    expect(parse(`${exact}x`)).toMatchObject({ code: "LOG_LINE_TOO_LONG" });
  });

  it("of a <logformat> counts when required matches its first MAX_RECORD_CHARS characters", () => {
    const at = (line: number, text: string) => ({
      text,
      where: { kind: "config" as const, file: "t.conf", line },
    });
    const mine = compileLogFormat({
      name: "mine",
      where: { kind: "config", file: "t.conf", line: 1 },
      required: at(2, "portknock"),
      ipclient: at(3, "SRC=([0-9.]+)"),
      port: at(4, "DPT=([0-9]+)"),
    }).format as CompiledLogFormat;
    const pad = "x".repeat(MAX_RECORD_CHARS);
    expect(
      parseLogLine(`portknock SRC=1.2.3.4 DPT=1 ${pad}`, mine, "f:1", 0),
    ).toMatchObject({ kind: "reject", code: "LOG_LINE_TOO_LONG" });
    // `required` only past the head: not a candidate (the regex never sees more than the head).
    expect(
      parseLogLine(`${pad} portknock SRC=1.2.3.4 DPT=1`, mine, "f:1", 0),
    ).toEqual({ kind: "skip" });
  });
});

describe("the built-in format finds the record by its structure (issue #16)", () => {
  const REC =
    "IN=eth0 OUT= MAC=52:54:00:12:34:56:52:54:00:65:43:21:08:00 SRC=203.0.113.9 DST=192.0.2.1 LEN=60 TOS=0x00 PREC=0x00 TTL=52 ID=1 DF PROTO=TCP SPT=51234 DPT=2345 WINDOW=64240 RES=0x00 SYN URGP=0";
  const HIT = {
    srcIp: "203.0.113.9",
    dstIp: "192.0.2.1",
    srcPort: 51234,
    dstPort: 2345,
    iface: "eth0",
  };
  const both = (line: string): ParseLogLineResult[] => [
    parse(line),
    parseLogLine(line, viaRegex, "fw:1", 1000),
  ];

  it.each([
    ["a prefix of fields", "Nov 25 08:23:27 gw kernel: SRC=1.2.3.4 "],
    ["glued fields", "Nov 25 08:23:27 gw kernel: SRC=1.2.3.4 DPT=9"],
    [
      "a whole record",
      "Nov 25 08:23:27 gw kernel: IN=x OUT= SRC=1.2.3.4 DST=1.2.3.4 PROTO=TCP SPT=1 DPT=9 ",
    ],
    ["an untagged line", "[12345.678901] SRC=1.2.3.4 DST=5.6.7.8 "],
    ["a LOGEMU line", "Nov 25 08:23:27 gw SRC=1.2.3.4 "],
  ])("the record's own fields win over %s before it", (_, head) => {
    for (const r of both(`${head}${REC}`)) {
      expect(r).toMatchObject({ kind: "hit", hit: HIT });
    }
  });

  it.each([
    // Another program's RFC 5424 line: its message follows the APP-NAME with no ": ".
    `<38>1 2026-11-25T08:23:28Z gw sshd 2201 - - Invalid user ${REC}`,
    `<38>1 2026-11-25T08:23:28Z gw sshd 2201 - - kernel: ${REC}`,
    // ulogd's tag only as the line's tag
    `Nov 25 08:23:28 gw sshd[2201]: Invalid user ulogd[1]: ${REC}`,
    // Limits: a prefix holding ": " before its end, where no tag says whose line it is; and a
    // LOGEMU prefix ending in ":" (no space): both read like another program's tag.
    `fw: drop: ${REC}`,
    `Nov 25 08:23:28 gw knock: ${REC}`,
    `Nov 25 08:23:28 gw alice:  x ${REC}`,
  ])("skips %s", (line) => {
    for (const r of both(line)) expect(r).toEqual({ kind: "skip" });
  });

  it("takes the record of an ICMP line as the line's, not a look-alike in its prefix", () => {
    const line = `[1.0] IN=x OUT= SRC=1.2.3.4 DST=1.2.3.4 PROTO=TCP SPT=1 DPT=x9 ${REC.replace("PROTO=TCP SPT=51234 DPT=2345", "PROTO=ICMP TYPE=8 CODE=0")}`;
    for (const r of both(line)) {
      expect(r).toMatchObject({ kind: "reject", code: "LOG_NO_MATCH" });
    }
    // The message is about the record, not the prefix's `DPT=x9`.
    expect(parse(line)).toMatchObject({
      message: expect.stringContaining("without a TCP or UDP port") as string,
    });
  });
});

describe("a <logformat> with srcport (issue #16)", () => {
  const at = (line: number, text: string) => ({
    text,
    where: { kind: "config" as const, file: "t.conf", line },
  });
  const mine = (srcport?: string): CompiledLogFormat =>
    compileLogFormat({
      name: "mine",
      where: { kind: "config", file: "t.conf", line: 1 },
      ipclient: at(2, "SRC=(\\S+)"),
      port: at(3, "DPT=(\\d+)"),
      ...(srcport === undefined ? {} : { srcport: at(4, srcport) }),
    }).format as CompiledLogFormat;
  const line =
    "portknock SRC=10.0.0.1 DST=10.0.0.2 PROTO=TCP SPT=40000 DPT=2345";

  it("gives hits a source port (the detector's retransmit rule needs one)", () => {
    expect(parseLogLine(line, mine("SPT=(\\d+)"), "f:1", 0)).toMatchObject({
      kind: "hit",
      hit: { srcIp: "10.0.0.1", dstPort: 2345, srcPort: 40000 },
    });
    const without = parseLogLine(line, mine(), "f:1", 0);
    expect(without.kind === "hit" && without.hit.srcPort).toBeUndefined();
  });

  it("rejects a source port that is no port", () => {
    expect(
      parseLogLine(
        line.replace("40000", "70000"),
        mine("SPT=(\\d+)"),
        "f:1",
        0,
      ),
    ).toMatchObject({ kind: "reject", code: "LOG_BAD_PORT" });
  });

  it("needs a capture group", () => {
    const r = compileLogFormat({
      name: "mine",
      where: { kind: "config", file: "t.conf", line: 1 },
      ipclient: at(2, "SRC=(\\S+)"),
      port: at(3, "DPT=(\\d+)"),
      srcport: at(4, "SPT=\\d+"),
    });
    expect(r.diagnostics).toMatchObject([
      { code: "LOG_FORMAT_NO_CAPTURE", where: { line: 4 } },
    ]);
  });
});
