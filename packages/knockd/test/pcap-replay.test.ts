/**
 * knockd -replay of a .pcap capture in network mode (issue #7): the committed fixture was made by
 * the project's own client (fixtures/make-knock-pcap.sh: a knock to 127.0.0.1 and one to ::1,
 * with noise SYNs from 127.0.0.2). No root needed: replay reads the file.
 */
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { readFileSync, writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { recorder, runMain, tempDir } from "./helpers.ts";

const PCAP = fileURLToPath(
  new URL("./fixtures/knock-v4-v6.pcap", import.meta.url),
);

describe("knockd -replay FILE.pcap", () => {
  it("decodes both knocks of the capture and runs their actions", async () => {
    const dir = tempDir();
    const rec = recorder(dir);
    const conf = join(dir, "knockdaemon.conf");
    writeFileSync(
      conf,
      [
        "runmode = network",
        "interface = lo",
        "knock = CLIENT,PORT,FLAG0,CHECKSUM",
        "portspan = 1024-33791",
        "key = password",
        "<actions>",
        "<action>",
        "template = t",
        "</action>",
        "<template t>",
        `system = "${rec.path} CLIENT PORT FLAG0 SOURCE"`,
        "</template>",
        "</actions>",
      ].join("\n"),
    );
    const r = await runMain([
      "-conf",
      conf,
      "-replay",
      PCAP,
      "-quiet",
      "-logjson",
    ]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const counters = JSON.parse(r.stdout) as {
      knocksAccepted: number;
      hits: number;
    };
    expect(counters.knocksAccepted).toBe(2);
    // 9 + 9 knock SYNs and the 5 noise SYNs from 127.0.0.2.
    expect(counters.hits).toBe(23);
    expect(rec.lines()).toEqual([
      "10.3.2.1 3306 5 127.0.0.1",
      "10.3.2.1 22 5 ::1",
    ]);
  });

  it("drops a kernel SYN retransmit: the same SYN again 0.9–10 s later, not at once (#14, #16)", async () => {
    // pcap's fixture: record #18 is a copy of #17 (10.9.8.7:4321 → 1005, the same sequence
    // number), injected at once: a raw sender's repeat, so a hit of its own. Moved 1 s later
    // (and the records after it too), it is what a kernel's retransmit looks like.
    const fixture = fileURLToPath(
      new URL("../../pcap/test/fixtures/knocks.pcap", import.meta.url),
    );
    const dir = tempDir();
    const conf = join(dir, "knockdaemon.conf");
    writeFileSync(
      conf,
      [
        "runmode = network",
        "interface = lo",
        "knock = CLIENT,PORT,FLAG0,CHECKSUM",
        "portspan = 1000-2023",
        "key = password",
      ].join("\n"),
    );
    const bytes = Buffer.from(readFileSync(fixture));
    const le = bytes.readUInt32LE(0) === 0xa1b2c3d4;
    const u32 = (o: number): number =>
      le ? bytes.readUInt32LE(o) : bytes.readUInt32BE(o);
    for (let offset = 24, n = 1; offset + 16 <= bytes.length; n++) {
      if (n >= 18) {
        if (le) bytes.writeUInt32LE(u32(offset) + 1, offset);
        else bytes.writeUInt32BE(u32(offset) + 1, offset);
      }
      offset += 16 + u32(offset + 8);
    }
    const later = join(dir, "retransmit.pcap");
    writeFileSync(later, bytes);
    const replay = async (file: string) => {
      const r = await runMain([
        "-conf",
        conf,
        "-replay",
        file,
        "-quiet",
        "-logjson",
      ]);
      expect(r.code, r.stderr).toBe(0);
      return JSON.parse(r.stdout) as { retransmitsDropped: number };
    };
    expect((await replay(later)).retransmitsDropped).toBe(1);
    expect((await replay(fixture)).retransmitsDropped).toBe(0);
  });

  const KNOCKS = fileURLToPath(
    new URL("../../pcap/test/fixtures/knocks.pcap", import.meta.url),
  );
  const networkConf = (dir: string): string => {
    const conf = join(dir, "knockdaemon.conf");
    writeFileSync(
      conf,
      [
        "runmode = network",
        "interface = lo",
        "knock = CLIENT,PORT,FLAG0,CHECKSUM",
        "portspan = 1000-2023",
        "key = password",
      ].join("\n"),
    );
    return conf;
  };

  it("counts packets as packets, out-of-span and rejected ones included; -debug prints every decision with its reason (#16)", async () => {
    const dir = tempDir();
    const conf = networkConf(dir);
    const plain = await runMain([
      "-conf",
      conf,
      "-replay",
      KNOCKS,
      "-quiet",
      "-logjson",
    ]);
    expect(plain.code, plain.stderr).toBe(0);
    const counters = JSON.parse(plain.stdout) as Record<string, unknown> & {
      packetsSeen: number;
      packetsOutsideSpan: number;
      packetsFiltered: number;
      hits: number;
      rejections: Record<string, number>;
    };
    expect(counters).not.toHaveProperty("linesSeen");
    expect(counters).toHaveProperty("packetsPerSecond");
    expect(counters.packetsSeen).toBeGreaterThan(counters.hits);
    expect(counters.packetsOutsideSpan).toBeGreaterThan(0);
    expect(counters.packetsFiltered).toBe(0);
    const rejected = Object.values(counters.rejections).reduce(
      (a, b) => a + b,
      0,
    );
    expect(rejected).toBeGreaterThan(0);
    // Every packet is a hit, outside the span, filtered or rejected.
    expect(
      counters.hits +
        counters.packetsOutsideSpan +
        counters.packetsFiltered +
        rejected,
    ).toBe(counters.packetsSeen);

    const debug = await runMain([
      "-conf",
      conf,
      "-replay",
      KNOCKS,
      "-debug",
      "-logjson",
    ]);
    expect(debug.code, debug.stderr).toBe(0);
    const events = `${debug.stdout}\n${debug.stderr}`
      .split("\n")
      .filter((l) => l.startsWith("{") && l.includes('"event":"packet.'))
      .map(
        (l) =>
          JSON.parse(l) as {
            event: string;
            source: string;
            code?: string;
            msg: string;
          },
      );
    const count = (e: string): number =>
      events.filter((x) => x.event === e).length;
    expect(count("packet.hit")).toBe(counters.hits);
    expect(count("packet.outside-span")).toBe(counters.packetsOutsideSpan);
    expect(count("packet.rejected")).toBe(rejected);
    // Each names the packet (file and record number) and says why.
    for (const e of events) {
      expect(e.source).toMatch(/^pcap .*knocks\.pcap #\d+$/);
      expect(e.msg.length).toBeGreaterThan(10);
    }
    expect(new Set(events.filter((e) => e.code).map((e) => e.code))).toEqual(
      new Set(Object.keys(counters.rejections)),
    );
  });

  it("a record corrupt mid-file: the counters of the packets before it, exit 1, the record's byte offset (#16)", async () => {
    const dir = tempDir();
    const conf = networkConf(dir);
    // Walk to the 6th record and put an impossible record header there.
    const bytes = readFileSync(KNOCKS);
    const le = bytes.readUInt32LE(0) === 0xa1b2c3d4;
    let offset = 24;
    for (let i = 0; i < 5; i++) {
      const caplen = le
        ? bytes.readUInt32LE(offset + 8)
        : bytes.readUInt32BE(offset + 8);
      offset += 16 + caplen;
    }
    const bad = Buffer.alloc(16);
    bad.writeUInt32LE(0xfffffff0, 8);
    bad.writeUInt32LE(0xfffffff0, 12);
    if (!le) {
      bad.writeUInt32BE(0xfffffff0, 8);
      bad.writeUInt32BE(0xfffffff0, 12);
    }
    const file = join(dir, "corrupt.pcap");
    writeFileSync(
      file,
      Buffer.concat([bytes.subarray(0, offset), bad, bytes.subarray(offset)]),
    );
    const r = await runMain(["-conf", conf, "-replay", file, "-logjson"]);
    expect(r.code).toBe(1);
    const out = `${r.stdout}\n${r.stderr}`;
    expect(out).toContain(`record 6 at byte offset ${offset}`);
    expect(out).toMatch(/PCAP_FILE_CORRUPT/);
    const counters = r.stdout
      .split("\n")
      .filter((l) => l.includes('"packetsSeen"'))
      .map((l) => JSON.parse(l) as { packetsSeen: number })[0];
    expect(counters?.packetsSeen).toBe(5);
  });
});
