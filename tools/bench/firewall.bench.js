// @portknock/firewall (issue #17), root only, each case in a throw-away network namespace:
// - grant() rate per backend: a process inside the namespace installs the base ruleset, then
//   grants 200 new (address, tcp/22) pairs per round, one after another (one nft transaction,
//   one `ipset add`, or one iptables-restore of the whole tagged grants chain each), 5 rounds,
//   so the last round runs with 800 grants in place.
// - NFLOG latency: a SYN to the knock span from inside the namespace until ulogd2's LOGEMU
//   line is in its file (sync=1), with the rule's queue threshold 1 (what install() writes) and
//   without it (the kernel's default batching), 20 SYNs each.
// Run: pnpm build && node tools/bench/run.js firewall
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const DIST = fileURLToPath(
  new URL("../../packages/firewall/dist/index.js", import.meta.url),
);
const ROUNDS = 5;
const PER_ROUND = 200;

/** Runs `argv`, throws with its stderr on failure. */
function sh(argv, input) {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: "utf8", input });
  if (r.status !== 0) throw new Error(`${argv.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

/** A fresh namespace with lo up; the callback's result, then the namespace is deleted. */
async function inNetns(fn) {
  const ns = `pkb-${process.pid}-${Math.random().toString(16).slice(2, 8)}`;
  sh(["ip", "netns", "add", ns]);
  try {
    sh(["ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up"]);
    return await fn(ns);
  } finally {
    spawnSync("ip", ["netns", "del", ns]);
  }
}

/** Runs a node ES module script inside `ns`; resolves with its stdout. */
function nodeIn(ns, script) {
  return new Promise((resolve, reject) => {
    const child = spawn(
      "ip",
      [
        "netns",
        "exec",
        ns,
        process.execPath,
        "--input-type=module",
        "-e",
        script,
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    child.on("exit", (code) =>
      code === 0 ? resolve(out) : reject(new Error(`exit ${code}: ${err}`)),
    );
  });
}

const GRANTER = (backend, ipset) => `
import { createFirewall } from ${JSON.stringify(DIST)};
const fw = createFirewall({ backend: ${JSON.stringify(backend)}${backend === "iptables" ? `, ipset: ${ipset}` : ""} });
await fw.install({ protect: [{ protocol: "tcp", port: 22 }], defaultLifetimeMs: 600000 });
const rates = [];
for (let r = 0; r < ${ROUNDS}; r++) {
  const t0 = performance.now();
  for (let i = 0; i < ${PER_ROUND}; i++) {
    await fw.grant({ address: "10." + r + "." + (i >> 8) + "." + (i & 255), protocol: "tcp", port: 22 });
  }
  rates.push(${PER_ROUND} * 1000 / (performance.now() - t0));
}
console.log(JSON.stringify(rates));
await fw.close();`;

async function grantRate(name, backend, ipset) {
  const rates = JSON.parse(
    await inNetns((ns) => nodeIn(ns, GRANTER(backend, ipset))),
  );
  const sorted = [...rates].sort((a, b) => a - b);
  return {
    name,
    opsPerSec: sorted.at(-1),
    medianOpsPerSec: sorted[Math.floor(sorted.length / 2)],
    lastRound: rates.at(-1),
  };
}

function ulogdPlugins() {
  return [
    "/usr/lib/x86_64-linux-gnu/ulogd",
    "/usr/lib/aarch64-linux-gnu/ulogd",
    "/usr/lib64/ulogd",
    "/usr/lib/ulogd",
  ].find((d) => existsSync(join(d, "ulogd_output_LOGEMU.so")));
}

const PROBER = (file) => `
import net from "node:net"; import fs from "node:fs";
const file = ${JSON.stringify(file)}; const size = () => fs.existsSync(file) ? fs.statSync(file).size : 0;
const ms = [];
for (let i = 0; i < 20; i++) {
  const before = size(); const t0 = performance.now();
  const s = net.connect({ host: "127.0.0.1", port: 3000 + i }); s.on("error", () => {});
  while (size() === before && performance.now() - t0 < 3000) await new Promise((r) => setTimeout(r, 1));
  ms.push(performance.now() - t0); s.destroy(); await new Promise((r) => setTimeout(r, 30));
}
console.log(JSON.stringify(ms));`;

/** Median and max ms from SYN to LOGEMU line, with or without the rule's queue threshold. */
async function nflogLatency(plugins, threshold) {
  return inNetns(async (ns) => {
    const dir = mkdtempSync(join(tmpdir(), "pkb-nflog-"));
    const log = join(dir, "knock.log");
    try {
      writeFileSync(
        join(dir, "ulogd.conf"),
        `[global]\nlogfile="${dir}/ulogd.log"\n` +
          [
            "inppkt_NFLOG",
            "raw2packet_BASE",
            "filter_IFINDEX",
            "filter_IP2STR",
            "filter_PRINTPKT",
            "output_LOGEMU",
          ]
            .map((p) => `plugin="${plugins}/ulogd_${p}.so"`)
            .join("\n") +
          `\nstack=log1:NFLOG,base1:BASE,ifi1:IFINDEX,ip2str1:IP2STR,print1:PRINTPKT,emu1:LOGEMU\n[log1]\ngroup=5\n[emu1]\nfile="${log}"\nsync=1\n`,
      );
      // What install() writes, with and without the threshold.
      const rule = `tcp dport 3000-3999 tcp flags & (fin|syn|rst|ack) == syn log prefix "KNOCK" group 5${threshold ? " queue-threshold 1" : ""}`;
      sh(
        ["ip", "netns", "exec", ns, "nft", "-f", "-"],
        `table inet t {\n chain input {\n  type filter hook input priority filter - 10; policy accept;\n  ${rule}\n  tcp dport 3000-3999 drop\n }\n}\n`,
      );
      const ulogd = spawn(
        "ip",
        ["netns", "exec", ns, "ulogd", "-c", join(dir, "ulogd.conf")],
        { stdio: "ignore" },
      );
      await new Promise((r) => setTimeout(r, 1000));
      try {
        const ms = JSON.parse(await nodeIn(ns, PROBER(log))).sort(
          (a, b) => a - b,
        );
        return { median: ms[10], max: ms.at(-1) };
      } finally {
        ulogd.kill("SIGKILL");
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

export async function run() {
  const title = "firewall: grant() one after another, in a network namespace";
  if (
    process.getuid?.() !== 0 ||
    spawnSync("nft", ["--version"]).status !== 0
  ) {
    return {
      title,
      results: [
        {
          name: "(skipped: needs root and nft)",
          opsPerSec: 0,
          medianOpsPerSec: 0,
        },
      ],
      unit: "grants/s",
    };
  }
  const results = [await grantRate("nftables (nft -f -)", "nftables", false)];
  const hasIptables = spawnSync("iptables", ["--version"]).status === 0;
  if (hasIptables && spawnSync("ipset", ["--version"]).status === 0) {
    results.push(
      await grantRate("iptables + ipset (ipset add)", "iptables", true),
    );
  }
  if (hasIptables) {
    results.push(
      await grantRate(
        "iptables, tagged rules (restore the chain)",
        "iptables",
        false,
      ),
    );
  }
  const notes = [
    "last round (800 grants already in place): " +
      results.map((r) => `${r.name} ${Math.round(r.lastRound)}/s`).join("; "),
  ];
  const plugins = ulogdPlugins();
  if (plugins !== undefined && spawnSync("ulogd", ["--version"]).status === 0) {
    const fast = await nflogLatency(plugins, true);
    const slow = await nflogLatency(plugins, false);
    notes.push(
      `NFLOG SYN → ulogd2 LOGEMU line, ms (median / max of 20): queue-threshold 1 ${fast.median.toFixed(1)} / ${fast.max.toFixed(1)}; kernel default ${slow.median.toFixed(1)} / ${slow.max.toFixed(1)}`,
    );
  }
  return { title, results, unit: "grants/s", notes: notes.join("\n") };
}
