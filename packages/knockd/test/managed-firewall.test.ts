/**
 * knockd with its managed firewall (issue #17), end to end and as root: the built `knockd` runs in
 * a gateway namespace it shares with a real TCP service on a protected port; the real `knock`
 * client knocks from a client namespace joined by a veth pair. The port is closed before the
 * knock, open to the knocking address only after it (the client's second address stays closed),
 * and closed again after the grant's lifetime even when knockd was killed with SIGKILL. Restarts
 * and a reload leave one copy of the ruleset; `-firewall-remove` takes it away. Network mode
 * (pcap on the veth) with nftables and with iptables + ipset; file mode through NFLOG → ulogd2.
 * Every namespace is the test's own: the host's ruleset is never touched.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { KNOCK, KNOCKD, tempDir, waitFor } from "./helpers.ts";
import { CLIENT, createTopology, GW, PORTS, type Topology } from "./gateway.ts";
import { execIn, gateRootTests, spawnIn, type NsProcess } from "./netns.ts";

const GROUP = 7;
// 256 ports, 8 bits per port; the protected port (2222) is outside it.
const SETTINGS = [
  "knock = CLIENT,PORT,FLAG0,CHECKSUM",
  "portspan = 600-699,800-898,900,968-1023",
  "encrypt = yes",
  "cipher = Blowfish",
  "key = test passphrase for the managed firewall",
  "iv = yes",
].join("\n");
const LIFETIME_S = 3;

function ulogdPluginDir(): string | undefined {
  const dpkg = spawnSync("dpkg", ["-L", "ulogd2"], { encoding: "utf8" });
  const found = (dpkg.stdout ?? "")
    .split("\n")
    .find((p) => p.endsWith("/ulogd_output_LOGEMU.so"));
  return found != null ? dirname(found) : undefined;
}
const PLUGIN_DIR = ulogdPluginDir();
const gate = gateRootTests(["ip", "nft", "iptables", "ipset"]);

/** The knockd config: the managed firewall protecting the service's TCP port. */
function daemonConf(
  dir: string,
  source: string,
  firewall: string,
  grant = `tcp/${PORTS.protectedTcp} to SOURCE`,
): string {
  const path = join(dir, "knockdaemon.conf");
  writeFileSync(
    path,
    `${SETTINGS}
${source}
statefile = ${join(dir, "state.json")}
<firewall>
  protect = tcp/${PORTS.protectedTcp}
  grant = ${LIFETIME_S}s
  reconcile = 1s
${firewall}
</firewall>
<actions>
  <action>
    template = open
  </action>
  <template open>
    grant = ${grant}
  </template>
</actions>
`,
  );
  return path;
}

function clientOptions(): string[] {
  return SETTINGS.split("\n").flatMap((l) => {
    const [k, v] = l.split(" = ") as [string, string];
    return k === "encrypt" || k === "iv" ? [`-${k}=${v}`] : [`-${k}`, v];
  });
}

/** Knocks from the client namespace to the gateway's `family` address; resolves when sent. */
async function knockFrom(t: Topology, family: 4 | 6): Promise<number> {
  const r = await execIn(t.client.name, [
    process.execPath,
    KNOCK,
    ...clientOptions(),
    "-remote",
    family === 4 ? GW.v4 : GW.v6,
    "-client",
    CLIENT.a4,
    "-port",
    String(PORTS.protectedTcp),
    "-flag0",
    "1",
  ]);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  return performance.now();
}

/** Starts knockd in the gateway (JSON log lines) and waits for `ready`. */
async function startKnockd(t: Topology, conf: string): Promise<NsProcess> {
  const d = spawnIn(t.gw.name, [
    process.execPath,
    KNOCKD,
    "-conf",
    conf,
    "-logjson",
  ]);
  await d.waitForLine(/"event":"ready"/, 20_000);
  return d;
}

/** The address of the `n`th grant knockd applied (its `action.granted` line). */
async function grantedAddress(d: NsProcess, n: number): Promise<string> {
  let line = "";
  await waitFor(
    () => {
      const lines = d
        .stderr()
        .split("\n")
        .filter((l) => l.includes('"event":"action.granted"'));
      line = lines[n - 1] ?? "";
      return line !== "";
    },
    `grant #${n}; knockd stderr:\n${d.stderr()}`,
    15_000,
  );
  return (JSON.parse(line) as { ip: string }).ip;
}

/** The other client address of the same family. */
function otherAddress(address: string): string {
  return {
    [CLIENT.a4]: CLIENT.b4,
    [CLIENT.b4]: CLIENT.a4,
    [CLIENT.a6]: CLIENT.b6,
    [CLIENT.b6]: CLIENT.a6,
  }[address]!;
}

/** Probes until `want` or fails after `timeoutMs`; resolves with the ms it took. */
async function probeUntil(
  t: Topology,
  from: string,
  want: "open" | "timeout",
  timeoutMs: number,
): Promise<number> {
  const start = performance.now();
  for (;;) {
    const got = await t.probe("tcp", from, PORTS.protectedTcp, 300);
    if (got === want) return performance.now() - start;
    if (performance.now() - start > timeoutMs) {
      throw new Error(
        `tcp/${PORTS.protectedTcp} from ${from}: ${got}, expected ${want}`,
      );
    }
  }
}

/** `nft list table inet portknock` with counters and set elements left out, or "" when absent. */
function nftTable(t: Topology): string {
  const r = spawnSync(
    "ip",
    ["netns", "exec", t.gw.name, "nft", "list", "table", "inet", "portknock"],
    { encoding: "utf8" },
  );
  if (r.status !== 0) return "";
  return r.stdout
    .replace(/counter packets \d+ bytes \d+/g, "counter")
    .replace(/elements = \{[^}]*\}/g, "");
}

/** Knocks over IPv4 then IPv6 (knockd's grants `first` and `first + 1`); each opens the port to
 * the knocking address only. Resolves with the two granted addresses. */
async function knockBothFamilies(
  t: Topology,
  d: NsProcess,
  first: number,
): Promise<[string, string]> {
  const granted: string[] = [];
  for (const [i, family] of [4, 6].entries()) {
    await knockFrom(t, family as 4 | 6);
    const a = await grantedAddress(d, first + i);
    expect(
      family === 4 ? [CLIENT.a4, CLIENT.b4] : [CLIENT.a6, CLIENT.b6],
    ).toContain(a);
    await probeUntil(t, a, "open", 5000);
    expect(await t.probe("tcp", otherAddress(a), PORTS.protectedTcp)).toBe(
      "timeout",
    );
    granted.push(a);
  }
  return granted as [string, string];
}

/** Fail-closed: knockd dies with SIGKILL, the kernel still closes the port to `granted`. */
async function expectClosedAfterKill9(
  t: Topology,
  d: NsProcess,
  granted: readonly string[],
): Promise<void> {
  expect(await d.stop("SIGKILL")).toBeNull();
  let waitMs = (LIFETIME_S + 3) * 1000;
  for (const a of granted) {
    await probeUntil(t, a, "timeout", waitMs);
    waitMs = 3000;
  }
}

/** Two restarts (each stopped with SIGTERM) and a third start reloaded with SIGHUP; resolves with
 * the running third daemon. */
async function restartTwiceAndReload(
  t: Topology,
  conf: string,
): Promise<NsProcess> {
  for (let i = 0; i < 2; i++) {
    const d = await startKnockd(t, conf);
    expect(await d.stop()).toBe(0);
  }
  const d = await startKnockd(t, conf);
  d.child.kill("SIGHUP");
  await d.waitForLine(/"event":"reload.done"/, 20_000);
  return d;
}

/** The gateway's iptables state: `iptables -S`, `ip6tables -S` and `ipset list -n` lines. */
function iptablesState(t: Topology): {
  v4: string[];
  v6: string[];
  ipsets: string[];
} {
  const lines = (argv: string[]): string[] =>
    t.gw
      .exec(argv)
      .split("\n")
      .filter((l) => l !== "");
  return {
    v4: lines(["iptables", "-w", "5", "-S"]),
    v6: lines(["ip6tables", "-w", "5", "-S"]),
    ipsets: lines(["ipset", "list", "-n"]).sort(),
  };
}

/** One jump from INPUT, one PORTKNOCK chain without a repeated rule, one ipset per family. */
function expectOneIptablesCopy(state: ReturnType<typeof iptablesState>): void {
  for (const rules of [state.v4, state.v6]) {
    expect(rules.filter((r) => r === "-A INPUT -j PORTKNOCK")).toHaveLength(1);
    expect(rules.filter((r) => r === "-N PORTKNOCK")).toHaveLength(1);
    expect(rules.filter((r) => r.startsWith("-A PORTKNOCK ")).length).toBe(
      new Set(rules.filter((r) => r.startsWith("-A PORTKNOCK "))).size,
    );
  }
  expect(state.ipsets).toEqual(["portknock4", "portknock6"]);
}

/** `nftTable` output holding one chain and no repeated rule or set (both sets say `flags timeout`). */
function expectOneNftCopy(table: string): void {
  const statements = table
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && l !== "}" && !l.startsWith("flags "));
  expect(statements.filter((l) => l.startsWith("chain "))).toEqual([
    "chain input {",
  ]);
  expect(statements.filter((l) => l.startsWith("set "))).toEqual([
    "set grants4 {",
    "set grants6 {",
  ]);
  expect(statements.length).toBe(new Set(statements).size);
}

/** Starts ulogd2 in the gateway: NFLOG group `GROUP` → LOGEMU into `dir/firewall.log` (returned). */
async function startUlogd(
  t: Topology,
  dir: string,
): Promise<{ log: string; ulogd: NsProcess }> {
  const log = join(dir, "firewall.log");
  writeFileSync(log, "");
  const ulogdConf = join(dir, "ulogd.conf");
  const p = PLUGIN_DIR!;
  writeFileSync(
    ulogdConf,
    `[global]
logfile="${join(dir, "ulogd.log")}"
loglevel=3
plugin="${p}/ulogd_inppkt_NFLOG.so"
plugin="${p}/ulogd_raw2packet_BASE.so"
plugin="${p}/ulogd_filter_IFINDEX.so"
plugin="${p}/ulogd_filter_IP2STR.so"
plugin="${p}/ulogd_filter_PRINTPKT.so"
plugin="${p}/ulogd_output_LOGEMU.so"
stack=log1:NFLOG,base1:BASE,ifi1:IFINDEX,ip2str1:IP2STR,print1:PRINTPKT,emu1:LOGEMU

[log1]
group=${GROUP}
netlink_qthreshold=1

[emu1]
file="${log}"
sync=1
`,
  );
  const ulogd = spawnIn(t.gw.name, ["ulogd", "-c", ulogdConf]);
  const ulogdLog = join(dir, "ulogd.log");
  await waitFor(
    () =>
      existsSync(ulogdLog) &&
      readFileSync(ulogdLog, "utf8").includes("entering main loop"),
    "ulogd to enter its main loop",
  );
  return { log, ulogd };
}

/** knockd in file mode following ulogd2's log, behind nftables with `nflog = GROUP`. */
function fileModeConf(dir: string, log: string): string {
  return daemonConf(
    dir,
    `runmode = file\nlogfile = ${log}\nfileinterval = 0.05`,
    `  backend = nftables\n  nflog = ${GROUP}`,
  );
}

describe.skipIf(gate.skip)(
  "knockd's managed firewall (root, network namespaces, #17)",
  { timeout: 90_000 },
  () => {
    it("nftables, network mode, IPv4 and IPv6: closed → open for the knocking address only → closed after the lifetime, even after kill -9; restarts and SIGHUP leave one copy; -firewall-remove", async () => {
      const t = await createTopology();
      const dir = tempDir();
      const conf = daemonConf(
        dir,
        "runmode = network\ninterface = veth0",
        "  backend = nftables",
      );
      let d = await startKnockd(t, conf);
      const installed = nftTable(t);
      expect(installed).toContain("@grants4");
      expect(installed).toContain(`tcp . ${PORTS.protectedTcp}`);
      for (const from of [CLIENT.a4, CLIENT.b4, CLIENT.a6, CLIENT.b6]) {
        expect(await t.probe("tcp", from, PORTS.protectedTcp)).toBe("timeout");
      }
      // The unprotected port is untouched.
      expect(await t.probe("tcp", CLIENT.a4, PORTS.openTcp)).toBe("open");

      const sent4 = await knockFrom(t, 4);
      const a4 = await grantedAddress(d, 1);
      expect([CLIENT.a4, CLIENT.b4]).toContain(a4);
      const open4Ms =
        performance.now() - sent4 + (await probeUntil(t, a4, "open", 5000));
      expect(await t.probe("tcp", otherAddress(a4), PORTS.protectedTcp)).toBe(
        "timeout",
      );

      const sent6 = await knockFrom(t, 6);
      const a6 = await grantedAddress(d, 2);
      expect([CLIENT.a6, CLIENT.b6]).toContain(a6);
      const open6Ms =
        performance.now() - sent6 + (await probeUntil(t, a6, "open", 5000));
      expect(await t.probe("tcp", otherAddress(a6), PORTS.protectedTcp)).toBe(
        "timeout",
      );
      console.log(
        `managed firewall (nftables, network mode): knock sent → port open ${open4Ms.toFixed(0)} ms (IPv4), ${open6Ms.toFixed(0)} ms (IPv6), probes included`,
      );

      // Fail-closed: the daemon dies, the kernel still closes the door.
      expect(await d.stop("SIGKILL")).toBeNull();
      await probeUntil(t, a4, "timeout", (LIFETIME_S + 3) * 1000);
      await probeUntil(t, a6, "timeout", 3000);

      // Two restarts and a reload: the same ruleset, once.
      for (let i = 0; i < 2; i++) {
        d = await startKnockd(t, conf);
        expect(await d.stop()).toBe(0);
      }
      d = await startKnockd(t, conf);
      // Someone flushes the firewall: the periodic reconcile (every 1 s here) puts it back.
      t.gw.exec(["nft", "delete", "table", "inet", "portknock"]);
      await waitFor(
        () => nftTable(t) === installed,
        "the ruleset put back",
        10_000,
      );
      await d.waitForLine(/"event":"firewall.reinstalled"/, 5000);
      d.child.kill("SIGHUP");
      await d.waitForLine(/"event":"reload.done"/, 20_000);
      expect(nftTable(t)).toBe(installed);
      expect(await d.stop()).toBe(0);
      const stopLine = d
        .stderr()
        .split("\n")
        .find((l) => l.includes('"msg":"stopping"'));
      const stopped = JSON.parse(stopLine ?? "{}") as {
        firewall?: { installs: number; reinstalls: number };
      };
      expect(stopped.firewall?.reinstalls).toBe(1);
      expect(stopped.firewall?.installs).toBeGreaterThanOrEqual(2);

      const removed = await execIn(t.gw.name, [
        process.execPath,
        KNOCKD,
        "-firewall-remove",
        "-conf",
        conf,
      ]);
      expect(removed.code).toBe(0);
      expect(nftTable(t)).toBe("");
      expect(await t.probe("tcp", CLIENT.b4, PORTS.protectedTcp)).toBe("open");
    });

    it("iptables + ipset, network mode, IPv4 and IPv6: open to the knocking address only, then closed", async () => {
      const t = await createTopology();
      const dir = tempDir();
      const conf = daemonConf(
        dir,
        "runmode = network\ninterface = veth0",
        "  backend = iptables\n  ipset = yes",
      );
      const d = await startKnockd(t, conf);
      expect(t.gw.exec(["ipset", "list", "-n"])).toContain("portknock4");
      expect(await t.probe("tcp", CLIENT.a4, PORTS.protectedTcp)).toBe(
        "timeout",
      );
      const [a4, a6] = await knockBothFamilies(t, d, 1);
      // A reload cannot switch the backend: rejected, the old configuration keeps running.
      writeFileSync(
        conf,
        readFileSync(conf, "utf8").replace(
          "backend = iptables\n  ipset = yes",
          "backend = nftables",
        ),
      );
      d.child.kill("SIGHUP");
      await d.waitForLine(/"event":"reload.rejected"/, 20_000);
      expect(d.stderr()).toMatch(/"event":"reload.firewall".*restart knockd/);
      expect(nftTable(t)).toBe("");
      expect(await d.stop()).toBe(0);
      await probeUntil(t, a4, "timeout", (LIFETIME_S + 3) * 1000);
      await probeUntil(t, a6, "timeout", 3000);
    });

    it.skipIf(PLUGIN_DIR == null)(
      "nftables, file mode, IPv4 and IPv6: the span's SYNs go to NFLOG → ulogd2 → the log knockd follows; the grant opens the port to the knocking address only",
      async () => {
        const t = await createTopology();
        const dir = tempDir();
        const { log, ulogd } = await startUlogd(t, dir);
        const conf = fileModeConf(dir, log);
        const d = await startKnockd(t, conf);
        expect(nftTable(t)).toContain(`group ${GROUP}`);
        expect(await t.probe("tcp", CLIENT.a4, PORTS.protectedTcp)).toBe(
          "timeout",
        );
        const sent = await knockFrom(t, 4);
        const a4 = await grantedAddress(d, 1);
        const openMs =
          performance.now() - sent + (await probeUntil(t, a4, "open", 5000));
        console.log(
          `managed firewall (nftables, file mode via NFLOG + ulogd2): knock sent → port open ${openMs.toFixed(0)} ms, probes included`,
        );
        expect(await t.probe("tcp", otherAddress(a4), PORTS.protectedTcp)).toBe(
          "timeout",
        );
        expect(readFileSync(log, "utf8")).toContain(`SRC=${a4}`);
        await knockFrom(t, 6);
        const a6 = await grantedAddress(d, 2);
        expect([CLIENT.a6, CLIENT.b6]).toContain(a6);
        await probeUntil(t, a6, "open", 5000);
        expect(await t.probe("tcp", otherAddress(a6), PORTS.protectedTcp)).toBe(
          "timeout",
        );
        expect(await d.stop()).toBe(0);
        await ulogd.stop();
      },
    );

    it("iptables + ipset, network mode, IPv4 and IPv6: closed after the lifetime even after kill -9; two restarts and SIGHUP leave one jump from INPUT, one PORTKNOCK chain and one ipset per family", async () => {
      const t = await createTopology();
      const dir = tempDir();
      const conf = daemonConf(
        dir,
        "runmode = network\ninterface = veth0",
        "  backend = iptables\n  ipset = yes",
      );
      const d = await startKnockd(t, conf);
      const installed = iptablesState(t);
      expectOneIptablesCopy(installed);
      const granted = await knockBothFamilies(t, d, 1);
      await expectClosedAfterKill9(t, d, granted);

      const last = await restartTwiceAndReload(t, conf);
      const after = iptablesState(t);
      expectOneIptablesCopy(after);
      expect(after).toEqual(installed);
      // Nothing reopened the door: the expired grants stay expired.
      for (const a of granted) {
        expect(await t.probe("tcp", a, PORTS.protectedTcp)).toBe("timeout");
      }
      expect(await last.stop()).toBe(0);
    });

    it.skipIf(PLUGIN_DIR == null)(
      "nftables, file mode (NFLOG → ulogd2), IPv4 and IPv6: closed after the lifetime even after kill -9; two restarts and SIGHUP leave one copy of the table",
      async () => {
        const t = await createTopology();
        const dir = tempDir();
        const { log, ulogd } = await startUlogd(t, dir);
        const conf = fileModeConf(dir, log);
        const d = await startKnockd(t, conf);
        const installed = nftTable(t);
        expect(installed).toContain(`group ${GROUP}`);
        expectOneNftCopy(installed);
        const granted = await knockBothFamilies(t, d, 1);
        await expectClosedAfterKill9(t, d, granted);

        const last = await restartTwiceAndReload(t, conf);
        const after = nftTable(t);
        expectOneNftCopy(after);
        expect(after).toBe(installed);
        for (const a of granted) {
          expect(await t.probe("tcp", a, PORTS.protectedTcp)).toBe("timeout");
        }
        expect(await last.stop()).toBe(0);
        await ulogd.stop();
      },
    );

    it("fails closed: when the firewall cannot be installed knockd exits 1 naming the backend's error, and reads nothing", async () => {
      const t = await createTopology();
      const dir = tempDir();
      const conf = daemonConf(
        dir,
        "runmode = network\ninterface = veth0",
        "  backend = nftables",
      );
      const r = await execIn(t.gw.name, [
        "env",
        `PATH=${dir}`,
        process.execPath,
        KNOCKD,
        "-conf",
        conf,
        "-logjson",
      ]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('"event":"firewall.failed"');
      expect(r.stderr).toContain("FIREWALL_COMMAND_SPAWN");
      expect(r.stderr).toContain("nft");
      expect(r.stderr).not.toContain('"event":"ready"');
      expect(nftTable(t)).toBe("");
    });
  },
);
