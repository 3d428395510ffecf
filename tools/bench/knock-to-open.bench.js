// From a knock's last SYN to the protected port accepting a connection (issue #17): the built
// knockd with its managed nftables firewall (`<firewall>`, `protect = tcp/2222`, `grant =
// tcp/2222 to SOURCE`) in a throw-away network namespace, on `lo`. A sender in the namespace
// (knock-to-open-sender.js) serves the protected port, knocks from its own 127.0.1.x address
// (compat, Blowfish + IV, 18 ports; the firewall drops them), and from just before the last SYN
// tries a connection from the same address every millisecond until one is accepted. So each
// sample is: capture or log → decode → engine → `nft -f -` (the grant) → the next try's
// handshake. Rows: network mode (pcap on lo) and file mode (the span's SYNs to NFLOG with
// queue-threshold 1 → ulogd2 with netlink_qthreshold=1 and sync=1 → the file → knockd).
// Root, nft, ulogd2. Run: pnpm build && node tools/bench/run.js knock-to-open
// (PK_OPEN_N=30 samples a row).
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { compileKnockConfigOrThrow, encodeKnock } from "@portknock/codec";
import { formatLatencyTable } from "./harness.js";

const KNOCKD = fileURLToPath(
  new URL("../../packages/knockd/bin/knockd.js", import.meta.url),
);
const SENDER = fileURLToPath(
  new URL("knock-to-open-sender.js", import.meta.url),
);
const N = Number(process.env.PK_OPEN_N ?? 30);
const PROTECTED = 2222;
const GROUP = 5;
const SETTINGS = {
  knock: "CLIENT,PORT,FLAG0,CHECKSUM",
  portspan: "10000-42767",
  encrypt: true,
  cipher: "Blowfish",
  key: "knock-to-open bench passphrase",
  iv: true,
  padding: "right",
};
const codec = compileKnockConfigOrThrow(SETTINGS);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function mustRun(argv) {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${argv.join(" ")}: ${r.stderr}`);
}

function ulogdPlugins() {
  const dpkg = spawnSync("dpkg", ["-L", "ulogd2"], { encoding: "utf8" });
  const so = (dpkg.stdout ?? "")
    .split("\n")
    .find((p) => p.endsWith("/ulogd_output_LOGEMU.so"));
  return so === undefined ? undefined : dirname(so);
}

function daemonConf(dir, source) {
  const path = join(dir, "knockdaemon.conf");
  const settings = Object.entries(SETTINGS)
    .map(([k, v]) => `${k} = ${v === true ? "yes" : v}`)
    .join("\n");
  writeFileSync(
    path,
    `${settings}
${source}
<firewall>
  backend = nftables
  protect = tcp/${PROTECTED}
  grant = 60s
  nflog = ${GROUP}
</firewall>
<actions>
  <action>
    template = open
  </action>
  <template open>
    grant = tcp/${PROTECTED} to SOURCE
  </template>
</actions>
`,
  );
  return path;
}

/** Spawns `argv`; resolves once a stderr line matches `ready`. */
async function start(argv, ready) {
  const child = spawn(argv[0], argv.slice(1), {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let err = "";
  child.stderr.on("data", (d) => (err += d));
  const t0 = Date.now();
  while (!ready.test(err)) {
    if (child.exitCode != null || Date.now() - t0 > 20_000)
      throw new Error(`${argv.join(" ")} did not start:\n${err}`);
    await sleep(20);
  }
  return () =>
    new Promise((resolve) => {
      if (child.exitCode != null) return resolve();
      child.once("exit", resolve);
      child.kill("SIGTERM");
    });
}

async function row(name, mode) {
  const dir = mkdtempSync(join(tmpdir(), "pk-open-"));
  const ns = `pk-open-${randomBytes(4).toString("hex")}`;
  const stops = [];
  const samples = [];
  let lost = 0;
  try {
    mustRun(["ip", "netns", "add", ns]);
    const inNs = (argv) => ["ip", "netns", "exec", ns, ...argv];
    mustRun(inNs(["ip", "link", "set", "lo", "up"]));
    let source = "runmode = network\ninterface = lo";
    if (mode === "file") {
      const log = join(dir, "firewall.log");
      writeFileSync(log, "");
      const p = ulogdPlugins();
      const conf = join(dir, "ulogd.conf");
      writeFileSync(
        conf,
        `[global]\nlogfile="${join(dir, "ulogd.log")}"\nloglevel=3\n` +
          [
            "inppkt_NFLOG",
            "raw2packet_BASE",
            "filter_IFINDEX",
            "filter_IP2STR",
            "filter_PRINTPKT",
            "output_LOGEMU",
          ]
            .map((x) => `plugin="${p}/ulogd_${x}.so"`)
            .join("\n") +
          `\nstack=log1:NFLOG,base1:BASE,ifi1:IFINDEX,ip2str1:IP2STR,print1:PRINTPKT,emu1:LOGEMU\n[log1]\ngroup=${GROUP}\nnetlink_qthreshold=1\n[emu1]\nfile="${log}"\nsync=1\n`,
      );
      const ulogd = spawn("ip", inNs(["ulogd", "-c", conf]).slice(1), {
        stdio: "ignore",
      });
      stops.push(() => ulogd.kill("SIGTERM"));
      for (let t = 0; ; t += 20) {
        const l = join(dir, "ulogd.log");
        if (
          existsSync(l) &&
          readFileSync(l, "utf8").includes("entering main loop")
        )
          break;
        if (t > 10_000) throw new Error("ulogd did not start");
        await sleep(20);
      }
      source = `runmode = file\nlogfile = ${log}\nfileinterval = 0.05`;
    }
    stops.push(
      await start(
        inNs([
          process.execPath,
          KNOCKD,
          "-conf",
          daemonConf(dir, source),
          "-logjson",
        ]),
        /"event":"ready"/,
      ),
    );
    const sender = spawn(
      "ip",
      inNs([process.execPath, SENDER, String(PROTECTED)]).slice(1),
      { stdio: ["pipe", "pipe", "inherit"] },
    );
    stops.push(() => sender.kill("SIGTERM"));
    const lines = createInterface({ input: sender.stdout })[
      Symbol.asyncIterator
    ]();
    await lines.next(); // ready
    for (let i = 0; i < N; i++) {
      const src = `127.0.1.${i + 1}`;
      const { ports } = encodeKnock(codec, {
        CLIENT: src,
        PORT: PROTECTED,
        FLAG0: i & 255,
      });
      sender.stdin.write(`${JSON.stringify({ src, ports })}\n`);
      const { ms } = JSON.parse((await lines.next()).value);
      if (ms == null) lost++;
      else samples.push(ms);
      await sleep(200 + Math.random() * 200);
    }
  } finally {
    for (const stop of stops.reverse()) await stop();
    spawnSync("ip", ["netns", "del", ns]);
    rmSync(dir, { recursive: true, force: true });
  }
  return { name, samples, lost };
}

export async function run() {
  const title = "knock → protected port open, managed nftables firewall";
  const why =
    process.getuid?.() !== 0
      ? "needs root"
      : spawnSync("nft", ["--version"]).error
        ? "needs nft"
        : undefined;
  if (why !== undefined) {
    return { title, results: [], table: `## ${title}\n(skipped: ${why})` };
  }
  const rows = [await row("network mode (pcap on lo)", "network")];
  const notes = [
    "last SYN of the knock → a connection to the protected port from the same address accepted (tries every 1 ms)",
  ];
  if (ulogdPlugins() !== undefined) {
    rows.push(await row("file mode (NFLOG → ulogd2 → file)", "file"));
  } else notes.push("file-mode row skipped: needs ulogd2");
  return {
    title,
    results: [],
    table: formatLatencyTable(title, rows),
    notes: notes.join("\n"),
  };
}
