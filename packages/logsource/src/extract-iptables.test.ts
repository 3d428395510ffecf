/**
 * The hand-written extractor against the regexes it stands for, on generated lines: pieces of
 * records and look-alikes in any order, and nearly well-formed records (the sticky fast path).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { CompiledLogFormat } from "./log-format.ts";
import { builtinLogFormat } from "./log-format.ts";
import type { ParseLogLineResult } from "./parse-log-line.ts";
import { parseLogLine } from "./parse-log-line.ts";

// Runs of the property tests: a bounded number in CI, more with
// PORTKNOCK_LOGFORMAT_FUZZ_RUNS=100000 (issue #16).
const SCALE =
  Number(process.env.PORTKNOCK_LOGFORMAT_FUZZ_RUNS ?? 10_000) / 10_000;
const runs = (n: number): number => Math.max(1, Math.round(n * SCALE));
const builtin = builtinLogFormat("iptables");
// The built-in regexes run as regexes (V8's: they use lookarounds, which a <logformat> block
// cannot, issue #16), against the hand-written extractor.
const viaRegex: CompiledLogFormat = { ...builtin, builtin: undefined };
const parse = (line: string): ParseLogLineResult =>
  parseLogLine(line, builtin, "fw:1", 1000);

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
  // Line heads of the real formats (issue #16), and pieces of them.
  "ulogd[812]: ",
  "ulogd: ",
  "ulogd[]: ",
  ":  ",
  "[12345.678901] ",
  "[Wed Nov 25 08:23:27 2026] ",
  "<4>1 2026-11-25T08:23:27Z gw kernel - - - ",
  "<38>1 2026-11-25T08:23:27Z gw sshd 1 - - ",
  "<4>1 ",
  "knock: ",
  "filter_IN_public_REJECT: ",
  "Wed Nov 25 08:23:27 2026 kern.warn kernel: ",
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
      "[ 12.345678] ",
      "[Wed Nov 25 08:23:27 2026] ",
      "<4>1 2026-11-25T08:23:27.1+01:00 gw kernel - - - ",
      "<12>1 2026-11-25T08:23:27Z gw ulogd 812 - - ",
      "<38>1 2026-11-25T08:23:27Z gw sshd 2 - - ",
      "Nov 25 08:23:27 gw ulogd[812]: ",
      "1795591407.123456 gw kernel: ",
      "Wed 2026-11-25 08:23:27 CET gw kernel: ",
    ),
    prefix: fc.constantFrom(
      "",
      "KNOCK ",
      "portknock",
      "[UFW BLOCK] ",
      "knock: ",
      "knock:  ",
      "fw: drop in: ",
      "filter_IN_public_REJECT: ",
      "SRC=6.6.6.6 ",
      "IN=x OUT= SRC=6.6.6.6 DST=6.6.6.6 PROTO=TCP SPT=1 DPT=1 ",
    ),
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
      { numRuns: runs(3000) },
    );
  }, 60_000); // the regexes are the slow oracle

  it(
    "the hand-written extractor equals the built-in regexes",
    () => {
      fc.assert(
        fc.property(fc.oneof(piecesLine, recordLine), (line) => {
          expect(comparable(parse(line))).toEqual(
            comparable(parseLogLine(line, viaRegex, "fw:1", 1000)),
          );
        }),
        { numRuns: runs(10_000) },
      );
    },
    60_000 * Math.max(1, SCALE),
  );

  it(
    "never takes a record from another program's message",
    () => {
      // Whatever another program logs (a user name, a request), its line is noise: its tag comes
      // first, and its message does not start with a space (issue #16). RFC 5424 lines of other
      // programs, whose message follows the APP-NAME without ": ", whatever it starts with.
      const message = fc
        .oneof(piecesLine, recordLine)
        .map((m) => m.replace(/[\n\r]/g, ""))
        .filter((m) => !/^\s/.test(m));
      const head = fc.constantFrom(
        "Nov 25 08:23:27 gw sshd[2201]: ",
        "Nov 25 08:23:27 gw alice: ",
        "2026-11-25T08:23:27.1+01:00 gw postfix/smtpd[3301]: ",
        "Wed Nov 25 08:23:27 2026 daemon.info dnsmasq[1234]: ",
        "Nov 25 08:23:27 gw kernel[1]: ",
        "Nov 25 08:23:27 gw xulogd[1]: ",
      );
      const rfc5424 = fc.constantFrom(
        "<38>1 2026-11-25T08:23:27Z gw sshd 2201 - - ",
        "<38>1 2026-11-25T08:23:27Z gw kernelx - - - ",
        "<38>1 - gw - - - - ",
      );
      fc.assert(
        fc.property(
          fc.oneof(
            fc.tuple(head, message),
            fc.tuple(
              rfc5424,
              message.map((m) => ` ${m}`),
            ),
            fc.tuple(rfc5424, message),
          ),
          ([h, m]) => {
            expect(parse(h + m)).toEqual({ kind: "skip" });
          },
        ),
        { numRuns: runs(3000) },
      );
    },
    60_000 * Math.max(1, SCALE),
  );

  it(
    "reads every field from the record itself, whatever text comes before it",
    () => {
      // A trusted head (the kernel's tag, a dmesg stamp), then any text (a log prefix, a host
      // name, pieces of records), then the kernel's record: the hit is the record's, and no
      // earlier text can stand for one of its fields (issue #16).
      const before = fc.oneof(piecesLine, recordLine);
      const head = fc.constantFrom(
        "Nov 25 08:23:27 gw kernel: ",
        "[12345.678901] ",
        "<4>1 2026-11-25T08:23:27Z gw kernel - - - ",
        "Nov 25 08:23:27 gw ulogd[1]: ",
      );
      fc.assert(
        fc.property(
          head,
          before,
          fc.ipV4(),
          fc.ipV4(),
          fc.integer({ min: 0, max: 65535 }),
          fc.integer({ min: 0, max: 65535 }),
          fc.boolean(),
          (h, text, src, dst, sport, dport, glued) => {
            const prefix = text.replace(/[\n\r]/g, "") + (glued ? "" : " ");
            const line = `${h}${prefix}IN=eth0 OUT= MAC=00:11 SRC=${src} DST=${dst} LEN=60 TTL=5 PROTO=TCP SPT=${sport} DPT=${dport} WINDOW=1 SYN URGP=0`;
            const r = parse(line);
            expect(r).toMatchObject({
              kind: "hit",
              hit: { srcIp: src, dstIp: dst, srcPort: sport, dstPort: dport },
            });
            expect(r.kind === "hit" && r.hit.iface).toBe("eth0");
          },
        ),
        { numRuns: runs(3000) },
      );
    },
    60_000 * Math.max(1, SCALE),
  );
});
