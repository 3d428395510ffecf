import type { LocatedText, LogFormatConfig } from "@portknock/config";
import { describe, expect, it } from "vitest";
import { IPTABLES_LOG_FORMAT } from "./builtin-iptables.ts";
import {
  builtinLogFormat,
  compileLogFormat,
  selectLogFormat,
} from "./log-format.ts";
import { parseLogLine } from "./parse-log-line.ts";

const FILE = "/etc/knockdaemon.conf";
const at = (line: number, text: string): LocatedText => ({
  text,
  where: { kind: "config", file: FILE, line },
});
const block = (
  keys: Partial<Record<string, LocatedText>>,
): LogFormatConfig => ({
  name: "mine",
  where: { kind: "config", file: FILE, line: 10 },
  ipclient: at(12, "SRC=([0-9.]+)"),
  port: at(13, "DPT=([0-9]+)"),
  ...keys,
});

describe("compileLogFormat", () => {
  it("compiles the manual's example: required prefix and port = DPT=([0-9]+)", () => {
    const { format, diagnostics } = compileLogFormat(
      block({ required: at(11, "portknock") }),
    );
    expect(diagnostics).toEqual([]);
    if (!format) throw new Error("no format");
    const line =
      "Nov 25 08:23:27 gw kernel: portknockIN=eth0 OUT= SRC=10.1.2.3 DST=10.0.0.1 PROTO=TCP SPT=4000 DPT=883 WINDOW=5";
    expect(parseLogLine(line, format, "fw:1", 7)).toEqual({
      kind: "hit",
      hit: { srcIp: "10.1.2.3", dstPort: 883, timeMs: 7, origin: "fw:1" },
    });
    expect(parseLogLine("… DPT=883 …", format, "fw:2", 7)).toEqual({
      kind: "skip",
    });
    expect(
      parseLogLine("portknock but no ports", format, "fw:3", 7),
    ).toMatchObject({
      kind: "reject",
      code: "LOG_NO_MATCH",
    });
  });

  it.each([
    [
      "invalid regex",
      { port: at(13, "DPT=([0-9]+") },
      "LOG_FORMAT_BAD_REGEX",
      13,
    ],
    [
      "Perl-only escape",
      { required: at(11, "\\Aportknock") },
      "LOG_FORMAT_BAD_REGEX",
      11,
    ],
    [
      "no capture group",
      { ipserver: at(14, "DST=[0-9.]+") },
      "LOG_FORMAT_NO_CAPTURE",
      14,
    ],
    [
      "a lookahead (the linear-time engine has none)",
      { port: at(13, "DPT=(\\d+)(?= )") },
      "LOG_FORMAT_BAD_REGEX",
      13,
    ],
    [
      "a back-reference",
      { required: at(11, "(\\w)\\1") },
      "LOG_FORMAT_BAD_REGEX",
      11,
    ],
    [
      "a repetition count over 1000",
      { required: at(11, "x{1001}") },
      "LOG_FORMAT_BAD_REGEX",
      11,
    ],
    ["missing ipclient", { ipclient: undefined }, "LOG_FORMAT_MISSING_KEY", 10],
  ])("%s is an error naming the key's line", (_, keys, code, line) => {
    const { format, diagnostics } = compileLogFormat(block(keys));
    expect(format).toBeUndefined();
    expect(diagnostics).toMatchObject([
      { code, severity: "error", where: { kind: "config", file: FILE, line } },
    ]);
  });

  it("names the construct the linear-time engine cannot run (#16)", () => {
    const { diagnostics } = compileLogFormat(
      block({ port: at(13, "DPT=(\\d+)(?!\\d)") }),
    );
    expect(diagnostics[0]?.message).toContain(
      "uses a lookahead (?!…) at character 10, which the linear-time regex engine cannot run",
    );
  });

  it("accepts nested and polynomial repetitions: they run in linear time (#16)", () => {
    const { format, diagnostics } = compileLogFormat(
      block({
        required: at(11, "(\\w+\\s?)*$"),
        port: at(13, "^.*,.*,.*,.*,.*,(\\d+)$"),
      }),
    );
    expect(diagnostics).toEqual([]);
    if (!format) throw new Error("no format");
    const hostile = "a,".repeat(2000);
    expect(parseLogLine(hostile, format, "f", 0)).toMatchObject({
      kind: "reject",
      code: "LOG_NO_MATCH",
    });
    expect(
      parseLogLine("SRC=10.0.0.1 x,y,z,w,v,2222", format, "f", 0),
    ).toMatchObject({ kind: "hit", hit: { srcIp: "10.0.0.1", dstPort: 2222 } });
  });

  it("reports every bad key, not only the first", () => {
    const { diagnostics } = compileLogFormat(
      block({ port: at(13, "("), interface: at(15, "IN=\\S+") }),
    );
    expect(diagnostics.map((d) => [d.code, d.where])).toEqual([
      ["LOG_FORMAT_NO_CAPTURE", { kind: "config", file: FILE, line: 15 }],
      ["LOG_FORMAT_BAD_REGEX", { kind: "config", file: FILE, line: 13 }],
    ]);
  });

  it("takes a literal # as Config::General left it (written \\# in the file)", () => {
    const { format } = compileLogFormat(block({ required: at(11, "#knock") }));
    if (!format) throw new Error("no format");
    expect(parseLogLine("#knock SRC=1.2.3.4 DPT=5", format, "f", 0).kind).toBe(
      "hit",
    );
  });
});

describe("built-in formats", () => {
  it("keeps V8's RegExp for the built-in format only; its lookarounds are refused in a block", () => {
    const built = builtinLogFormat("iptables");
    expect(built.builtin).toBe("iptables");
    expect(builtinLogFormat("iptables")).toBe(built);
    expect(built.ipclient).toBeInstanceOf(RegExp);
    expect(built.ipclient.source).toBe(IPTABLES_LOG_FORMAT.ipclient!.text);
    // #16: written as a <logformat> block, the same regexes are refused, naming the construct.
    const { format, diagnostics } = compileLogFormat(IPTABLES_LOG_FORMAT);
    expect(format).toBeUndefined();
    expect(diagnostics.map((d) => d.code)).toContain("LOG_FORMAT_BAD_REGEX");
    expect(diagnostics[0]?.message).toMatch(/a look(ahead|behind) \(\?/);
  });

  it("refuses an unknown built-in name", () => {
    expect(() => builtinLogFormat("ipchains")).toThrow(
      expect.objectContaining({ code: "LOG_UNKNOWN_FORMAT" }),
    );
  });

  it("selects a <logformat> block before a built-in of the same name", () => {
    const mine = { ...block({}), name: "iptables" };
    expect(
      selectLogFormat("iptables", new Map([["iptables", mine]])).format
        ?.builtin,
    ).toBe(undefined);
    expect(selectLogFormat("iptables", new Map()).format?.builtin).toBe(
      "iptables",
    );
  });
});
