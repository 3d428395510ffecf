/**
 * knockd against a real firewall (issue #6): inside a throw-away network namespace, iptables or
 * nftables NFLOGs (and DROPs) the TCP SYNs to the knock span on `lo`, ulogd2 writes them as
 * LOGEMU lines to a file, the built `knockd` follows that file with the built-in `iptables`
 * format, and the real client knocks with real SYNs. The action is a real script whose output is
 * the assertion. No machine-wide setting is touched (NFLOG groups are per namespace).
 * The rules and ulogd.conf here are the ones RECIPES.md documents (recipes b and c).
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  KNOCK,
  KNOCK_SETTINGS,
  recorder,
  tempDir,
  waitFor,
} from "./helpers.ts";
import {
  createNetns,
  execIn,
  gateRootTests,
  spawnDaemonIn,
  spawnIn,
  type Netns,
} from "./netns.ts";

const GROUP = 5;
// A port outside every span below, logged but not dropped: its line is a barrier that proves every
// earlier packet's line has been written (NFLOG and ulogd keep order).
const MARKER_PORT = 40000;

/** A knock span as knockd's `portspan`, an iptables port list and an nftables port expression. */
interface Span {
  portspan: string;
  iptables: string[];
  nft: string;
}
// KNOCK_SETTINGS' span: contiguous, one --dport range.
const CONTIGUOUS: Span = {
  portspan: "1024-33791",
  iptables: ["--dport", "1024:33791"],
  nft: "1024-33791",
};
// The prototype manual's non-contiguous span (256 ports): multiport and an anonymous set.
const SPLIT: Span = {
  portspan: "600-699,800-898,900,968-1023",
  iptables: ["-m", "multiport", "--dports", "600:699,800:898,900,968:1023"],
  nft: "{ 600-699, 800-898, 900, 968-1023 }",
};

/** The directory holding ulogd2's plugins (Debian: the multiarch path), or undefined. */
function ulogdPluginDir(): string | undefined {
  const dpkg = spawnSync("dpkg", ["-L", "ulogd2"], { encoding: "utf8" });
  const fromDpkg = (dpkg.stdout ?? "")
    .split("\n")
    .find((p) => p.endsWith("/ulogd_output_LOGEMU.so"));
  if (fromDpkg != null) return dirname(fromDpkg);
  return [
    "/usr/lib/x86_64-linux-gnu/ulogd",
    "/usr/lib/aarch64-linux-gnu/ulogd",
    "/usr/lib64/ulogd",
    "/usr/lib/ulogd",
    "/usr/local/lib/ulogd",
  ].find((d) => existsSync(join(d, "ulogd_output_LOGEMU.so")));
}

const PLUGIN_DIR = ulogdPluginDir();
const gate = gateRootTests(
  ["ip", "iptables", "ip6tables", "nft", "ulogd"],
  () =>
    PLUGIN_DIR == null
      ? "needs ulogd2's plugins (apt-get install ulogd2)"
      : undefined,
);

/**
 * ulogd.conf: NFLOG group → LOGEMU lines in `logfile`, each packet handed over at once
 * (netlink_qthreshold=1) and written at once (sync=1).
 */
function ulogdConf(plugins: string, dir: string, logfile: string): string {
  return `[global]
logfile="${join(dir, "ulogd.log")}"
loglevel=3
plugin="${plugins}/ulogd_inppkt_NFLOG.so"
plugin="${plugins}/ulogd_raw2packet_BASE.so"
plugin="${plugins}/ulogd_filter_IFINDEX.so"
plugin="${plugins}/ulogd_filter_IP2STR.so"
plugin="${plugins}/ulogd_filter_PRINTPKT.so"
plugin="${plugins}/ulogd_output_LOGEMU.so"
stack=log1:NFLOG,base1:BASE,ifi1:IFINDEX,ip2str1:IP2STR,print1:PRINTPKT,emu1:LOGEMU

[log1]
group=${GROUP}
netlink_qthreshold=1

[emu1]
file="${logfile}"
sync=1
`;
}

/** The firewalls under test: each installs its rules for `span` in a fresh namespace. */
const FIREWALLS: Record<
  "iptables" | "nftables",
  (ns: Netns, span: Span) => void
> = {
  iptables(ns, span) {
    const syn = ["-A", "INPUT", "-i", "lo", "-p", "tcp", "--syn"];
    const nflog = (prefix: string): string[] => [
      "-j",
      "NFLOG",
      "--nflog-group",
      `${GROUP}`,
      "--nflog-prefix",
      prefix,
    ];
    for (const cmd of ["iptables", "ip6tables"]) {
      ns.exec([cmd, ...syn, ...span.iptables, ...nflog("KNOCK")]);
      ns.exec([cmd, ...syn, ...span.iptables, "-j", "DROP"]);
      ns.exec([cmd, ...syn, "--dport", `${MARKER_PORT}`, ...nflog("MARK")]);
    }
  },
  nftables(ns, span) {
    ns.exec(
      ["nft", "-f", "-"],
      `table inet portknock {
  chain input {
    type filter hook input priority filter; policy accept;
    iifname "lo" tcp flags & (fin|syn|rst|ack) == syn tcp dport ${span.nft} log prefix "KNOCK " group ${GROUP} drop
    iifname "lo" tcp flags & (fin|syn|rst|ack) == syn tcp dport ${MARKER_PORT} log prefix "MARK " group ${GROUP}
  }
}
`,
    );
  },
};

/** KNOCK_SETTINGS with `span`. */
function knockSettings(span: Span): string {
  return KNOCK_SETTINGS.replace(
    /^portspan = .*$/m,
    `portspan = ${span.portspan}`,
  );
}

/** Knock settings as client options. */
function clientOptions(settings: string): string[] {
  return settings.split("\n").flatMap((l) => {
    const [k, v] = l.split(" = ") as [string, string];
    return k === "encrypt" || k === "iv" ? [`-${k}=${v}`] : [`-${k}`, v];
  });
}

// One connect to the marker port from inside the namespace; the RST ends it.
const MARKER_SCRIPT = `const s = require("node:net").connect({ host: process.argv[1], port: ${MARKER_PORT} });
s.on("error", () => {}); s.on("close", () => process.exit(0)); setTimeout(() => s.destroy(), 500);`;

/** One LOGEMU line's fields. */
interface Logged {
  prefix: string;
  in: string;
  src: string;
  dport: number;
}
const LOGEMU =
  /^\w{3} [ \d]\d \d\d:\d\d:\d\d \S+ (\S+) +IN=(\S*) .*? SRC=(\S+) .*? DPT=(\d+) /;

/** The complete lines of a LOGEMU file (a line still being written is left out). */
function readLog(file: string): Logged[] {
  return readFileSync(file, "utf8")
    .split("\n")
    .slice(0, -1)
    .map((line) => {
      const m = LOGEMU.exec(line);
      if (m == null) throw new Error(`not a LOGEMU line: ${line}`);
      return { prefix: m[1]!, in: m[2]!, src: m[3]!, dport: Number(m[4]) };
    });
}

const V4 = { remote: "127.0.0.1", condition: "CLIENT eq SOURCE" } as const;
// IPv6: the compat CLIENT field is IPv4 only, so it cannot equal SOURCE (::1).
const V6 = { remote: "::1", condition: "PORT == 22" } as const;
const CASES = [
  { firewall: "iptables", span: CONTIGUOUS, what: "1024-33791", ...V4 },
  { firewall: "nftables", span: CONTIGUOUS, what: "1024-33791", ...V4 },
  { firewall: "iptables", span: CONTIGUOUS, what: "1024-33791", ...V6 },
  { firewall: "nftables", span: CONTIGUOUS, what: "1024-33791", ...V6 },
  { firewall: "iptables", span: SPLIT, what: "multiport", ...V4 },
  { firewall: "nftables", span: SPLIT, what: "a port set", ...V4 },
] as const;

describe.skipIf(gate.skip)(
  "knockd against a real firewall: NFLOG → ulogd2 → file mode (root)",
  { timeout: 20_000 },
  () => {
    it.each(CASES)(
      "$firewall ($what), knock to $remote: one log line per SYN, the action runs",
      async ({ firewall, span, remote, condition }) => {
        const dir = tempDir();
        const ns = createNetns();
        FIREWALLS[firewall](ns, span);

        // ulogd2 in the namespace, in the foreground (no -d): its pid is ours to kill.
        const log = join(dir, "firewall.log");
        writeFileSync(log, "");
        const conf = join(dir, "ulogd.conf");
        writeFileSync(conf, ulogdConf(PLUGIN_DIR!, dir, log));
        const ulogd = spawnIn(ns.name, ["ulogd", "-c", conf]);
        const ulogdLog = join(dir, "ulogd.log");
        await waitFor(() => {
          if (ulogd.child.exitCode != null || ulogd.child.signalCode != null)
            throw new Error(
              `ulogd exited: ${ulogd.stderr()}${existsSync(ulogdLog) ? readFileSync(ulogdLog, "utf8") : ""}`,
            );
          return (
            existsSync(ulogdLog) &&
            readFileSync(ulogdLog, "utf8").includes("entering main loop")
          );
        }, "ulogd to enter its main loop");

        const rec = recorder(dir);
        const settings = knockSettings(span);
        const daemonConf = join(dir, "knockdaemon.conf");
        writeFileSync(
          daemonConf,
          `${settings}
fileinterval = 0.05
runmode = file
logfile = ${log}
uselogformat = iptables
statefile = ${join(dir, "state.json")}
<actions>
  <action>
    condition = ${condition}
    template = record
  </action>
  <template record>
    system = "${rec.path} CLIENT PORT"
  </template>
</actions>
`,
        );
        const daemon = await spawnDaemonIn(ns.name, ["-conf", daemonConf]);

        const knock = await execIn(ns.name, [
          process.execPath,
          KNOCK,
          ...clientOptions(settings),
          "-remote",
          remote,
          "-client",
          "127.0.0.1",
          "-port",
          "22",
          "-flag0",
          "1",
          "-json",
        ]);
        expect(knock.stderr).toBe("");
        expect(knock.code).toBe(0);
        const { ports } = JSON.parse(knock.stdout) as { ports: number[] };

        await waitFor(() => rec.lines().length > 0, "the action", 15_000).catch(
          (e: Error) => {
            throw new Error(
              `${e.message}\nknockd stderr:\n${daemon.stderr()}\nfirewall.log:\n${readFileSync(log, "utf8")}`,
            );
          },
        );
        expect(rec.lines()).toEqual(["127.0.0.1 22"]);

        // The client has exited, so every knock socket is gone: once the marker's line is in
        // the file, no knock line can still come. Exactly one line per port: no retransmits.
        const marker = await execIn(ns.name, [
          process.execPath,
          "-e",
          MARKER_SCRIPT,
          remote,
        ]);
        expect(marker.code).toBe(0);
        await waitFor(
          () => readLog(log).some((l) => l.dport === MARKER_PORT),
          "the marker's log line",
        );
        const knocks = readLog(log).filter((l) => l.dport !== MARKER_PORT);
        expect(knocks.map((l) => l.dport)).toEqual(ports);
        expect(
          new Set(knocks.map((l) => `${l.prefix} IN=${l.in} SRC=${l.src}`)),
        ).toEqual(new Set([`KNOCK IN=lo SRC=${remote}`]));

        expect(await daemon.stop()).toBe(0);
        expect(rec.lines()).toEqual(["127.0.0.1 22"]);
        await ulogd.stop();
      },
    );
  },
);
