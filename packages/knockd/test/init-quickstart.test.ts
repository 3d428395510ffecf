/**
 * The root README's gateway quick start, as written (issue #17), on real packets: two network
 * namespaces joined by a veth pair (a client, and a gateway with a TCP service on port 22).
 * `knockd -init` and `knockd -check` in the gateway, the built knockd started on the written file,
 * the real `knock` client run with the written client file, then a connection to port 22.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { KNOCK, KNOCKD, tempDir } from "./helpers.ts";
import {
  createNetns,
  execIn,
  gateRootTests,
  spawnDaemonIn,
  spawnIn,
} from "./netns.ts";

const gate = gateRootTests(["ip", "iptables"]);

/** Connects from `ns` to `host`:22; resolves with what the service said, or the error. */
async function connect22(ns: string, host: string): Promise<string> {
  const r = await execIn(ns, [
    process.execPath,
    "-e",
    `const s = require("node:net").connect({ host: ${JSON.stringify(host)}, port: 22, timeout: 2000 });
     s.on("data", (d) => { process.stdout.write(d); s.destroy(); });
     s.on("timeout", () => { process.stdout.write("timeout"); s.destroy(); });
     s.on("error", (e) => process.stdout.write(e.code));`,
  ]);
  return r.stdout;
}

describe.skipIf(gate.skip)(
  "the gateway quick start: knockd -init, -check, start, knock, connect (root)",
  { timeout: 60_000 },
  () => {
    it.each([
      ["IPv4", "10.202.0.1", "10.202.0.2"],
      ["IPv6", "fd77:202::1", "fd77:202::2"],
    ])("%s", async (_family, clientIp, gatewayIp) => {
      const client = createNetns();
      const gw = createNetns();
      const a = `pia${client.name.slice(3, 9)}`;
      const b = `pib${client.name.slice(3, 9)}`;
      client.exec(["ip", "link", "add", a, "type", "veth", "peer", "name", b]);
      client.exec(["ip", "link", "set", b, "netns", gw.name]);
      for (const [ns, dev, ip] of [
        [client, a, clientIp],
        [gw, b, gatewayIp],
      ] as const) {
        ns.exec(
          ip.includes(":")
            ? ["ip", "-6", "addr", "add", `${ip}/64`, "dev", dev, "nodad"]
            : ["ip", "addr", "add", `${ip}/24`, "dev", dev],
        );
        ns.exec(["ip", "link", "set", dev, "up"]);
      }
      // The service the knock opens: says a banner and closes.
      const service = spawnIn(gw.name, [
        process.execPath,
        "-e",
        `require("node:net").createServer((s) => s.end("SSH-2.0-portknock-test\\n"))
           .listen({ host: "::", port: 22 }, () => console.error("listening"));`,
      ]);
      await service.waitForLine(/listening/);

      const dir = tempDir();
      const init = await execIn(gw.name, [
        process.execPath,
        KNOCKD,
        "-init",
        "-protect",
        "tcp/22",
        "-interface",
        b,
        "-remote",
        gatewayIp,
        "-dir",
        dir,
        "-statefile",
        join(dir, "state", "state.json"),
      ]);
      expect(init.stderr).toBe("");
      expect(init.code).toBe(0);
      const conf = join(dir, "knockdaemon.conf");
      const check = await execIn(gw.name, [
        process.execPath,
        KNOCKD,
        "-check",
        "-conf",
        conf,
      ]);
      expect(check.code).toBe(0);
      expect(check.stdout).toContain("security audit: nothing to report");

      const d = await spawnDaemonIn(gw.name, ["-conf", conf, "-logjson"]);
      if (d.stderr().includes('"firewall.installed"')) {
        // Once knockd installs the managed firewall, port 22 is closed before the knock.
        expect(await connect22(client.name, gatewayIp)).toBe("timeout");
      }
      const from = d.stderr().length;
      const knock = await execIn(client.name, [
        process.execPath,
        KNOCK,
        "-conf",
        join(dir, "knockclient.conf"),
        "-port",
        "22",
      ]);
      expect(knock.stderr).toBe("");
      expect(knock.code).toBe(0);
      const accepted = JSON.parse(
        await d.waitForLine(/"event":"knock\.accepted"/, 15_000, from),
      ) as Record<string, unknown>;
      expect(accepted).toMatchObject({ ip: clientIp, port: 22 });
      expect(await connect22(client.name, gatewayIp)).toBe(
        "SSH-2.0-portknock-test\n",
      );
      expect(await d.stop()).toBe(0);
    });
  },
);
