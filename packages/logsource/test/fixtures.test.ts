/**
 * Real line shapes (kernel nf_log_syslog through rsyslog and journald, ufw, nftables `log`,
 * ulogd2 LOGEMU), other programs' lines, and the client's `-logtofile` templates.
 */
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { CompiledLogFormat } from "../src/log-format.ts";
import { builtinLogFormat } from "../src/log-format.ts";
import { parseLogLine, parseLogRecord } from "../src/parse-log-line.ts";
import { readLogFile } from "../src/read-log-file.ts";
import { fixture } from "./helpers.ts";
import { viaColumns } from "./replay-helpers.ts";

const builtin = builtinLogFormat("iptables");
// The built-in regexes run as regexes (V8's: they use lookarounds, which a <logformat> block
// cannot, issue #16), against the hand-written extractor.
const viaRegex: CompiledLogFormat = { ...builtin, builtin: undefined };
const expected = JSON.parse(
  readFileSync(fixture("expected.json"), "utf8"),
) as Record<string, Record<string, object>>;
const files = Object.keys(expected).filter((k) => !k.startsWith("$"));

describe.each(files)("%s", (file) => {
  it.each([
    ["the built-in format", builtin],
    ["its regexes as a <logformat> block", viaRegex],
  ])("parses every line as expected with %s", async (_, format) => {
    const path = fixture(file);
    const clock = { now: () => 5 };
    const got: Record<string, object> = {};
    for await (const line of readLogFile(path)) {
      const r = parseLogRecord(line, format, clock);
      if (r.kind === "reject") got[line.lineNo] = { reject: r.code };
      if (r.kind === "hit") {
        expect(r.hit.origin).toBe(`${path}:${line.lineNo}`);
        expect(r.hit.timeMs).toBe(5);
        const { origin: _o, timeMs: _t, ...rest } = r.hit;
        got[line.lineNo] = Object.fromEntries(
          Object.entries(rest).filter(([, v]) => v !== undefined),
        );
      }
    }
    expect(got).toEqual(expected[file]);
  });
});

describe("a replay of each real format (issue #16)", () => {
  // Through the replay's columns: the WebAssembly scanner's fast lane, JavaScript for the rest,
  // on this thread and on two workers.
  it.each(files.flatMap((file) => [0, 2].map((w) => [file, w] as const)))(
    "%s with %i workers gives exactly the expected hits and counted rejections",
    async (file, workers) => {
      const want = expected[file]!;
      const hits = Object.entries(want)
        .filter(([, v]) => !("reject" in v))
        .map(([line, v]) => ({ ...v, origin: `${fixture(file)}:${line}` }));
      const counts: Record<string, number> = {};
      for (const v of Object.values(want)) {
        if ("reject" in v) {
          const code = (v as { reject: string }).reject;
          counts[code] = (counts[code] ?? 0) + 1;
        }
      }
      const got = await viaColumns(fixture(file), builtin, workers, 512);
      expect(got.hits).toEqual(hits);
      expect(
        Object.fromEntries(Object.entries(got.counts).filter(([, n]) => n > 0)),
      ).toEqual(counts);
    },
    30_000,
  );
});

describe("the client's -logtofile lines (knock's DEFAULT_*_FORMAT)", () => {
  const templates = readFileSync(fixture("client-formats.txt"), "utf8")
    .trim()
    .split("\n");
  const fill = (template: string, values: Record<string, unknown>): string =>
    template.replace(/\{(\w+)\}/g, (_, name: string) => String(values[name]));

  it("has the four templates (TCP, TCP6, UDP6, UDP)", () => {
    expect(templates).toHaveLength(4);
  });

  it("parses every template filled with any addresses, ports and names", () => {
    const value = fc.record({
      date: fc.constantFrom("Nov 25 08:23:27", "Jan  1 00:00:00"),
      host: fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/),
      interface: fc.stringMatching(/^[a-z][a-z0-9.@-]{0,14}$/),
      port: fc.integer({ min: 0, max: 65535 }),
      sport: fc.integer({ min: 0, max: 65535 }),
      v4: fc.tuple(fc.ipV4(), fc.ipV4()),
      v6: fc.tuple(fc.ipV6(), fc.ipV6()),
    });
    fc.assert(
      fc.property(value, fc.nat(3), (v, which) => {
        const template = templates[which] ?? "";
        const six = template.includes("HOPLIMIT");
        const [ipclient, ipserver] = six ? v.v6 : v.v4;
        const line = fill(template, { ...v, ipclient, ipserver });
        for (const format of [builtin, viaRegex]) {
          const r = parseLogLine(line, format, "knock.log:1", 0);
          expect(r).toMatchObject({
            kind: "hit",
            hit: {
              srcPort: v.sport,
              dstPort: v.port,
              iface: v.interface,
              protocol: template.includes("PROTO=UDP") ? "udp" : "tcp",
            },
          });
          if (r.kind === "hit" && !six)
            expect([r.hit.srcIp, r.hit.dstIp]).toEqual(v.v4);
        }
      }),
    );
  });
});
