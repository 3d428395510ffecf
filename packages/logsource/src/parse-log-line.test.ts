import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { IPTABLES_LOG_FORMAT } from "./builtin-iptables.ts";
import type { CompiledLogFormat } from "./log-format.ts";
import { builtinLogFormat, compileLogFormat } from "./log-format.ts";
import type { ParseLogLineResult } from "./parse-log-line.ts";
import {
  MAX_RECORD_CHARS,
  parseLogLine,
  parseLogRecord,
} from "./parse-log-line.ts";

const builtin = builtinLogFormat("iptables");
const viaRegex = compileLogFormat(IPTABLES_LOG_FORMAT)
  .format as CompiledLogFormat;
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
      "longer than a kernel record can be",
      `${HEAD}IN=lo OUT= SRC=1.2.3.4 DST=1.1.1.1 PROTO=TCP SPT=1 DPT=22 ${"x".repeat(MAX_RECORD_CHARS)}`,
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

// Pieces of records and of things that look like them, to build tricky lines from.
const PIECES = [
  "IN=",
  "IN=eth0",
  "IN=lo",
  " OUT=",
  "OUT=",
  " ",
  "  ",
  "MAC=",
  "MAC=00:11:22",
  "MACSRC=aa",
  " MACDST=bb",
  " MACPROTO=0800",
  "PHYSIN=br0 ",
  "PHYSOUT=br1 ",
  "TUNNEL=1.2.3.4->5.6.7.8 ",
  "SRC=",
  " SRC=",
  "SRC=10.1.2.3",
  "SRC=::1",
  " DST=",
  "DST=10.0.0.1",
  "PROTO=",
  "PROTO=TCP",
  "PROTO=UDP",
  "PROTO=ICMP",
  " SPT=",
  "SPT=123",
  " DPT=",
  "DPT=99999",
  "DPT=80",
  "LEN=60 ",
  "kernel: ",
  "kernel:",
  " kernel: ",
  ": ",
  ":",
  "[",
  "]",
  "\t",
  "\r",
  "\u2028",
  "\u00a0",
  "é",
  "0",
  "12",
  "65535",
  "2001:db8::1",
  "0000:0000:0000:0000:0000:0000:0000:0001",
  "x",
  "1.2.3.4",
  "sshd[1]: ",
  "Nov 25 08:23:27 gw ",
];
const piecesLine = fc
  .array(fc.oneof(fc.constantFrom(...PIECES), fc.string({ maxLength: 3 })), {
    maxLength: 40,
  })
  .map((parts) => parts.join(""));

const ip = fc.oneof(
  fc.ipV4(),
  fc.ipV6(),
  fc.constantFrom("1.2.3.256", "", "0000:0000:0000:0000:0000:0000:0000:0001"),
);
const port = fc.oneof(
  fc.integer({ min: 0, max: 65535 }).map(String),
  fc.constantFrom("", "99999", "0123456", "x"),
);
// Nearly well-formed records, so that the fast path (one sticky regex) is exercised too.
const recordLine = fc
  .record({
    head: fc.constantFrom(
      "Nov 25 08:23:27 gw kernel: ",
      "Nov 25 08:23:27 vm DCNFLOG ",
      "",
      "[ 12.345] ",
      "gw kernel: [1.2] knock: ",
      "x: ",
      "gw sshd[2]: ",
    ),
    prefix: fc.constantFrom("", "KNOCK ", "portknock", "[UFW BLOCK] "),
    iface: fc.constantFrom("eth0", "lo", "", "IN=x"),
    mid: fc.constantFrom(
      "MAC= ",
      "MAC=00:11:22:33:44:55:66:77:88:99:aa:bb:08:00 ",
      "",
      "PHYSIN=a PHYSOUT=b ",
      "MACSRC=a MACDST=b MACPROTO=0800 ",
      "TUNNEL=1.2.3.4->5.6.7.8 ",
      "MAC=x  ",
    ),
    src: ip,
    dst: ip,
    extra: fc.constantFrom(
      "LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=1 DF ",
      "",
      "LEN=80 TC=0 HOPLIMIT=64 FLOWLBL=0 ",
      "OPT (0101) ",
      "a  b ",
      "LEN=60\tTTL=1 ",
      "a\u00a0b ",
    ),
    proto: fc.constantFrom("TCP", "UDP", "ICMP", "UDPLITE", "SCTP"),
    sport: port,
    dport: port,
    tail: fc.constantFrom(
      "",
      " WINDOW=64240 RES=0x00 SYN URGP=0",
      " LEN=8",
      "x",
      " ]",
      " [SRC=1.1.1.1 PROTO=TCP SPT=1 DPT=2 ]",
    ),
  })
  .map(
    (r) =>
      `${r.head}${r.prefix}IN=${r.iface} OUT= ${r.mid}SRC=${r.src} DST=${r.dst} ${r.extra}PROTO=${r.proto} SPT=${r.sport} DPT=${r.dport}${r.tail}`,
  );

/** A result without the human-facing message (which names the fast path's reason better). */
const comparable = (r: ParseLogLineResult): unknown =>
  r.kind === "reject" ? { kind: r.kind, code: r.code } : r;

describe("parseLogLine properties", () => {
  it("never throws, and rejections carry a LOG_ code", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: "binary", maxLength: 300 }),
          piecesLine,
          recordLine,
        ),
        (line) => {
          for (const format of [builtin, viaRegex]) {
            const r = parseLogLine(line, format, "o", 0);
            if (r.kind === "reject") expect(r.code).toMatch(/^LOG_/);
          }
        },
      ),
      { numRuns: 3000 },
    );
  });

  it("the hand-written extractor equals the built-in regexes", () => {
    fc.assert(
      fc.property(fc.oneof(piecesLine, recordLine), (line) => {
        expect(comparable(parse(line))).toEqual(
          comparable(parseLogLine(line, viaRegex, "fw:1", 1000)),
        );
      }),
      { numRuns: 10_000 },
    );
  });
});
