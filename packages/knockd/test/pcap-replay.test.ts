/**
 * knockd -replay of a .pcap capture in network mode (issue #7): the committed fixture was made by
 * the project's own client (fixtures/make-knock-pcap.sh: a knock to 127.0.0.1 and one to ::1,
 * with noise SYNs from 127.0.0.2). No root needed: replay reads the file.
 */
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { writeFileSync } from "node:fs";
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

  it("drops a kernel SYN retransmit by the same rule as file mode (#14)", async () => {
    // pcap's fixture: record #18 is the retransmit of #17 (10.9.8.7:4321 → 1005).
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
    const r = await runMain([
      "-conf",
      conf,
      "-replay",
      fixture,
      "-quiet",
      "-logjson",
    ]);
    expect(r.code, r.stderr).toBe(0);
    const counters = JSON.parse(r.stdout) as {
      hits: number;
      retransmitsDropped: number;
    };
    expect(counters.retransmitsDropped).toBe(1);
  });
});
