/**
 * A live capture whose interface is deleted under it (issue #7): the iteration rejects with
 * `PCAP_READ_FAILED` carrying libpcap's reason instead of hanging or crashing. In a test network
 * namespace (root).
 */
import { fileURLToPath, pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { createNetns, execIn, gateRootTests } from "./netns.ts";

const gate = gateRootTests(["ip"]);
const DIST = fileURLToPath(new URL("../dist/index.js", import.meta.url));

describe.skipIf(gate.skip)("read errors (root)", () => {
  it("an interface that disappears ends the iteration with PCAP_READ_FAILED and libpcap's reason", async () => {
    const ns = createNetns();
    ns.exec([
      "ip",
      "link",
      "add",
      "pk0",
      "type",
      "veth",
      "peer",
      "name",
      "pk1",
    ]);
    ns.exec(["ip", "link", "set", "pk0", "up"]);
    const script = `
      import { execFileSync } from "node:child_process";
      const { openCapture } = await import(${JSON.stringify(pathToFileURL(DIST).href)});
      const capture = openCapture({ interfaces: ["pk0"], filter: "tcp" });
      setImmediate(() => execFileSync("ip", ["link", "del", "pk0"]));
      let result;
      try {
        for await (const _ of capture) void _;
        result = { ended: true };
      } catch (e) {
        result = { name: e.name, code: e.code };
      }
      process.stdout.write(JSON.stringify(result));`;
    const r = await execIn(ns.name, [
      process.execPath,
      "--input-type=module",
      "-e",
      script,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      name: "PcapError",
      code: "PCAP_READ_FAILED",
    });
  });
});
