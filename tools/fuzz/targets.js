// The fuzz targets: each builds case i of a run from seed inputs (deterministically, see
// mutate.js) and runs it through the pure parsers the daemon runs on outside input. A target
// throws a `Finding` when a result breaks a rule ("never throws", codes, ranges); any other
// exception is a crash.
import { readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseDaemonConfig } from "@portknock/config";
import {
  compileLogFormat,
  parseLogLine,
  selectLogFormat,
} from "@portknock/logsource";
import {
  compileEthFilter,
  createPacketHitSource,
  decodeFrame,
  parsePcapHeader,
  readPcapRecords,
} from "@portknock/pcap";
import { caseRandom, mutateBytes, mutateText } from "./mutate.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const LINK_TYPES = [
  "ethernet",
  "linux-sll",
  "linux-sll2",
  "raw",
  "null",
  "loop",
];

/** A rule broken by a result (not an exception of the code under test). */
export class Finding extends Error {}

function filesUnder(dir, ext) {
  const out = [];
  for (const e of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...filesUnder(p, ext));
    else if (e.name.endsWith(ext)) out.push(join(ROOT, p));
  }
  return out;
}

const PCAP_FIXTURES = [
  "packages/pcap/test/fixtures/knocks.pcap",
  "packages/knockd/test/fixtures/knock-v4-v6.pcap",
].map((p) => join(ROOT, p));

function checkDiagnostics(diagnostics, prefix) {
  for (const d of diagnostics) {
    if (typeof d.code !== "string" || !/^[A-Z]+(_[A-Z0-9]+)+$/.test(d.code))
      throw new Finding(
        `${prefix}: a diagnostic without a code: ${JSON.stringify(d)}`,
      );
    if (d.where == null) throw new Finding(`${prefix}: ${d.code} has no where`);
  }
}

/** `<logformat>` blocks to run lines through, compiled once. */
function userFormats() {
  const text = [
    "knock = IP,PORT,CHECKSUM",
    "portspan = 1024-2047",
    "key = k",
    "uselogformat = csv",
    "<logformat csv>",
    "required = knock,",
    "ipclient = ^knock,([^,]*),",
    "port = ,(\\d+)$",
    "</logformat>",
  ].join("\n");
  const r = parseDaemonConfig(text, { file: "fuzz.conf" });
  const block = r.config?.logformats.get("csv");
  const f = block && compileLogFormat(block);
  if (!f?.format)
    throw new Error(`fuzz setup: ${JSON.stringify(r.diagnostics)}`);
  return [f.format];
}

export const TARGETS = {
  configs: {
    describe:
      "daemon configs → parseDaemonConfig, then every <ethfilter> and <logformat> compiled",
    setup() {
      return filesUnder("packages/config/test/fixtures", ".conf").map((f) =>
        readFileSync(f, "utf8"),
      );
    },
    input(seeds, seed, i) {
      const r = caseRandom(seed, i);
      return mutateText(r, seeds[Math.floor(r() * seeds.length)], seeds);
    },
    run(text) {
      const r = parseDaemonConfig(text, { file: "fuzz.conf" });
      checkDiagnostics(r.diagnostics, "parseDaemonConfig");
      for (const block of r.config?.ethfilters.values() ?? [])
        checkDiagnostics(
          compileEthFilter(block).diagnostics,
          "compileEthFilter",
        );
      for (const block of r.config?.logformats.values() ?? [])
        checkDiagnostics(
          compileLogFormat(block).diagnostics,
          "compileLogFormat",
        );
    },
  },

  lines: {
    describe:
      "log lines → parseLogLine with the built-in iptables format and a <logformat>",
    setup() {
      const lines = [
        ...readFileSync(
          join(
            ROOT,
            "packages/logsource/test/fixtures/rsyslog-traditional.log",
          ),
          "utf8",
        ).split("\n"),
        ...readFileSync(
          join(ROOT, "packages/logsource/test/fixtures/client-formats.txt"),
          "utf8",
        ).split("\n"),
        "knock,203.0.113.9,2345",
        "knock,2001:db8::9,65535",
      ].filter((l) => l !== "");
      const builtin = selectLogFormat("iptables", new Map()).format;
      return { lines, formats: [builtin, ...userFormats()] };
    },
    input(state, seed, i) {
      const r = caseRandom(seed, i);
      const { lines } = state;
      return mutateText(r, lines[Math.floor(r() * lines.length)], lines);
    },
    run(line, state) {
      for (const format of state.formats) {
        const r = parseLogLine(line, format, "fuzz:1", 0);
        if (r.kind === "reject") {
          if (!/^LOG_[A-Z_]+$/.test(r.code))
            throw new Finding(`reject code ${r.code}`);
        } else if (r.kind === "hit") {
          const { dstPort, srcIp } = r.hit;
          if (!(Number.isInteger(dstPort) && dstPort >= 0 && dstPort <= 65535))
            throw new Finding(`hit with port ${dstPort}`);
          if (typeof srcIp !== "string" || !/^[0-9a-f.:]+$/.test(srcIp))
            throw new Finding(`hit with source ${JSON.stringify(srcIp)}`);
        } else if (r.kind !== "skip") {
          throw new Finding(`result kind ${r.kind}`);
        }
      }
    },
  },

  frames: {
    describe: "captured frames of every link type → decodeFrame",
    setup() {
      const frames = [];
      for (const file of PCAP_FIXTURES) {
        const bytes = readFileSync(file);
        const h = parsePcapHeader(bytes);
        if (!h.ok) continue;
        for (const rec of readPcapRecords(bytes, h.header))
          frames.push(Uint8Array.from(rec.frame));
      }
      return frames;
    },
    input(frames, seed, i) {
      const r = caseRandom(seed, i);
      return mutateBytes(r, frames[Math.floor(r() * frames.length)], frames);
    },
    run(frame) {
      for (const linkType of LINK_TYPES) {
        const r = decodeFrame(frame, linkType, {
          timeMs: 0,
          origin: "fuzz #1",
          iface: "fuzz0",
        });
        if (r.ok) {
          const p = r.packet;
          if (!(
            p.dstPort >= 0 &&
            p.dstPort <= 65535 &&
            p.srcPort >= 0 &&
            p.srcPort <= 65535
          ))
            throw new Finding(`ports ${p.srcPort} → ${p.dstPort}`);
          if (p.protocol !== 6 && p.protocol !== 17)
            throw new Finding(`protocol ${p.protocol}`);
        } else if (!/^FRAME_[A-Z_]+$/.test(r.code)) {
          throw new Finding(`reject code ${r.code}`);
        }
      }
    },
  },

  pcaps: {
    describe:
      "whole .pcap files → createPacketHitSource({ file }) (the -replay path)",
    setup() {
      return {
        files: PCAP_FIXTURES.map((f) => Uint8Array.from(readFileSync(f))),
        path: join(
          tmpdir(),
          `portknock-fuzz-${process.pid}-${Math.random().toString(36).slice(2)}.pcap`,
        ),
      };
    },
    input(state, seed, i) {
      const r = caseRandom(seed, i);
      return mutateBytes(
        r,
        state.files[Math.floor(r() * state.files.length)],
        state.files,
      );
    },
    cleanup(state) {
      rmSync(state.path, { force: true });
    },
    async run(bytes, state) {
      writeFileSync(state.path, bytes);
      const source = createPacketHitSource({
        file: state.path,
        ranges: [[1000, 2023]],
        protocol: "tcp",
      });
      try {
        for await (const hit of source) {
          if (!(hit.dstPort >= 1000 && hit.dstPort <= 2023))
            throw new Finding(`hit outside the span: ${hit.dstPort}`);
        }
      } catch (e) {
        if (e instanceof Finding) throw e;
        // A bad file is a PcapError with its code; anything else is a crash.
        if (!(e?.name === "PcapError" && /^PCAP_[A-Z_]+$/.test(e.code)))
          throw e;
      }
      const s = source.stats.capture;
      const rejected = Object.values(s.rejections).reduce((a, b) => a + b, 0);
      if (s.seen !== s.decoded + rejected)
        throw new Finding(
          `counters: seen ${s.seen} ≠ decoded ${s.decoded} + rejected ${rejected}`,
        );
    },
  },

  selftest: {
    describe:
      "the harness itself: case 1 crashes, case 2 breaks a rule, case 3 hangs",
    setup: () => null,
    input: (_state, _seed, i) => String(i),
    run(input) {
      if (input === "1") throw new TypeError("selftest crash");
      if (input === "2") throw new Finding("selftest finding");
      if (input === "3") for (;;);
    },
  },
};
