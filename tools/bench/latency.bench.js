// knockd's reaction time in file mode (issue #15): from a knock's last line appended to the
// followed log to the action's command running. The real built knockd follows a file; its action
// is `dd` writing one byte into a FIFO this process reads, so the time includes the decision, the
// spawn and dd's own start (about a millisecond). Each knock (compat, Blowfish + IV, 18 ports)
// comes from its own source: its first 17 lines, 10 ms later the last one; 20–520 ms apart.
// Rows: with inotify (the default), and polling only (`fileinterval` 0.5 s, in a user namespace
// whose inotify limit is 0, so watching fails and knockd falls back: the issue's old behaviour).
// As root, with ip, iptables and ulogd2: the whole recipe (b) path, a real SYN in a throw-away
// network namespace → NFLOG → ulogd2 LOGEMU → the file → knockd → dd, from the last SYN, with
// ulogd's default netlink settings and with `netlink_qthreshold=1`.
// Run: pnpm build && node tools/bench/run.js latency   (PK_LATENCY_N=200, PK_LATENCY_NFLOG_N=30)
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  appendFileSync,
  constants,
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { Socket } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { compileKnockConfigOrThrow, encodeKnock } from "@portknock/codec";
import { formatLatencyTable } from "./harness.js";

const KNOCKD = fileURLToPath(
  new URL("../../packages/knockd/bin/knockd.js", import.meta.url),
);
const NO_INOTIFY = fileURLToPath(
  new URL("latency-no-inotify.js", import.meta.url),
);
const SENDER = fileURLToPath(new URL("latency-syn-sender.js", import.meta.url));
const N = Number(process.env.PK_LATENCY_N ?? 200);
const N_NFLOG = Number(process.env.PK_LATENCY_NFLOG_N ?? 30);
const TIMEOUT_MS = 5000;
const GROUP = 5;

const SETTINGS = {
  knock: "CLIENT,PORT,FLAG0,CHECKSUM",
  portspan: "1024-33791",
  encrypt: true,
  cipher: "Blowfish",
  key: "latency bench passphrase",
  iv: true,
  padding: "right",
};
const codec = compileKnockConfigOrThrow(SETTINGS);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const nowMs = () => Number(process.hrtime.bigint()) / 1e6;

/** knockd's config: the knock settings, `logfile`, one action that runs `dd` into `fifo`. */
function daemonConf(dir, logfile, fifo) {
  const one = join(dir, "one-byte");
  writeFileSync(one, "x");
  const path = join(dir, "knockdaemon.conf");
  writeFileSync(
    path,
    [
      `knock = ${SETTINGS.knock}`,
      `portspan = ${SETTINGS.portspan}`,
      "encrypt = yes",
      "cipher = Blowfish",
      `key = ${SETTINGS.key}`,
      "iv = yes",
      "fileinterval = 0.5",
      `logfile = ${logfile}`,
      "<actions>",
      "<action>",
      "template = mark",
      "</action>",
      "<template mark>",
      `system = "/usr/bin/dd if=${one} of=${fifo} status=none"`,
      "</template>",
      "</actions>",
    ].join("\n"),
  );
  return path;
}

/** A FIFO and a reader of it: `next()` resolves with the monotonic time of the next byte. */
function openFifo(dir) {
  const path = join(dir, "fired.fifo");
  const r = spawnSync("mkfifo", [path]);
  if (r.status !== 0) throw new Error(`mkfifo failed: ${r.stderr}`);
  // Read and write: no EOF when a writer closes.
  const fd = openSync(path, constants.O_RDWR | constants.O_NONBLOCK);
  const socket = new Socket({ fd, readable: true, writable: false });
  let waiter;
  let pending = 0;
  socket.on("data", (d) => {
    const t = nowMs();
    for (let i = 0; i < d.length; i++) {
      if (waiter) {
        const w = waiter;
        waiter = undefined;
        w(t);
      } else pending++;
    }
  });
  return {
    path,
    /** Resolves with the time of the next byte, or undefined after `ms`. */
    next(ms) {
      if (pending > 0) {
        pending--;
        return Promise.resolve(nowMs());
      }
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          waiter = undefined;
          resolve(undefined);
        }, ms);
        waiter = (t) => {
          clearTimeout(timer);
          resolve(t);
        };
      });
    },
    /** Forgets bytes that came late. */
    drain() {
      pending = 0;
    },
    close: () => socket.destroy(),
  };
}

/** Spawns `argv`, collecting stderr; resolves once a stderr line matches `ready`. */
async function start(argv, ready) {
  const child = spawn(argv[0], argv.slice(1), {
    stdio: ["pipe", "pipe", "pipe"],
  });
  let err = "";
  child.stderr.on("data", (d) => (err += d));
  child.stdout.resume();
  const t0 = Date.now();
  while (!ready.test(err)) {
    if (child.exitCode != null || Date.now() - t0 > 15_000)
      throw new Error(`${argv.join(" ")} did not start:\n${err}`);
    await sleep(20);
  }
  return {
    child,
    stderr: () => err,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode != null) return resolve(child.exitCode);
        child.once("exit", resolve);
        child.kill("SIGTERM");
      }),
  };
}

/** The netfilter LOG lines of a knock from `src` (the built-in format's shape). */
function knockLines(src, i) {
  const { ports } = encodeKnock(codec, {
    CLIENT: src,
    PORT: 22,
    FLAG0: i & 255,
  });
  return ports.map(
    (port, j) =>
      `Nov 25 08:23:27 gw kernel: portknock IN=eth0 OUT= MAC= SRC=${src} DST=192.0.2.1 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=${j} DF PROTO=TCP SPT=${40000 + j} DPT=${port} WINDOW=64240 RES=0x00 SYN URGP=0\n`,
  );
}

/** One row: knockd on a file, `n` knocks appended; append of the last line → dd. */
async function fileRow(name, wrap) {
  const dir = mkdtempSync(join(tmpdir(), "pk-latency-"));
  const fifo = openFifo(dir);
  const log = join(dir, "firewall.log");
  writeFileSync(log, "");
  const conf = daemonConf(dir, log, fifo.path);
  const knockd = await start(
    [...wrap, process.execPath, KNOCKD, "-conf", conf, "-logjson"],
    /"ready"|\bready\b/,
  );
  const samples = [];
  const appendedAt = []; // wall clock (ms), to compare with knockd's log times
  let lost = 0;
  try {
    for (let i = 0; i < N; i++) {
      const lines = knockLines(`10.1.${(i >> 8) & 255}.${i & 255}`, i);
      appendFileSync(log, lines.slice(0, -1).join(""));
      await sleep(10);
      appendedAt.push(performance.timeOrigin + performance.now());
      const t0 = nowMs();
      appendFileSync(log, lines.at(-1));
      const t1 = await fifo.next(TIMEOUT_MS);
      if (t1 === undefined) lost++;
      else samples.push(t1 - t0);
      // A random gap longer than fileinterval: the polling row meets every phase of its poll.
      await sleep(20 + Math.random() * 500);
      fifo.drain();
    }
  } finally {
    await knockd.stop();
    fifo.close();
  }
  const watchFailed = knockd.stderr().includes("source.watch_failed");
  rmSync(dir, { recursive: true, force: true });
  // The daemon's own part: from the append to its `action.started` log line, just before the
  // spawn (pino's time, to the millisecond); the rest is starting the command.
  const started = knockd
    .stderr()
    .split("\n")
    .filter((l) => l.includes('"action.started"'))
    .map((l) => Date.parse(JSON.parse(l).time));
  const decided =
    lost === 0 && started.length === N
      ? {
          name: `  of which append → action.started`,
          samples: started.map((t, i) => t - appendedAt[i]),
        }
      : undefined;
  return { name, samples, lost, watchFailed, decided };
}

/** ulogd2's plugin directory (Debian: the multiarch path), or undefined. */
function ulogdPlugins() {
  const dpkg = spawnSync("dpkg", ["-L", "ulogd2"], { encoding: "utf8" });
  const so = (dpkg.stdout ?? "")
    .split("\n")
    .find((p) => p.endsWith("/ulogd_output_LOGEMU.so"));
  return so === undefined ? undefined : dirname(so);
}

/** Why the NFLOG rows cannot run here, or undefined. */
function nflogUnavailable() {
  if (process.getuid?.() !== 0) return "needs root";
  for (const tool of ["ip", "iptables", "ulogd"]) {
    if (spawnSync(tool, ["--version"]).error) return `needs ${tool}`;
  }
  return ulogdPlugins() === undefined ? "needs ulogd2's plugins" : undefined;
}

function mustRun(argv) {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${argv.join(" ")}: ${r.stderr}`);
}

/**
 * One row of the recipe (b) path in a fresh namespace: `qthreshold` undefined (ulogd's default:
 * the kernel's, 100 packets or 1 s) or a number for `netlink_qthreshold`.
 */
async function nflogRow(name, qthreshold) {
  const dir = mkdtempSync(join(tmpdir(), "pk-latency-"));
  const ns = `pk-bench-${randomBytes(4).toString("hex")}`;
  const procs = [];
  const fifo = openFifo(dir);
  const samples = [];
  let lost = 0;
  try {
    mustRun(["ip", "netns", "add", ns]);
    const inNs = (argv) => ["ip", "netns", "exec", ns, ...argv];
    mustRun(inNs(["ip", "link", "set", "lo", "up"]));
    const syn = ["-A", "INPUT", "-i", "lo", "-p", "tcp", "--syn"];
    const span = ["--dport", "1024:33791"];
    const nflog = ["--nflog-group", `${GROUP}`, "--nflog-prefix", "KNOCK"];
    mustRun(inNs(["iptables", ...syn, ...span, "-j", "NFLOG", ...nflog]));
    mustRun(inNs(["iptables", ...syn, ...span, "-j", "DROP"]));
    const log = join(dir, "firewall.log");
    writeFileSync(log, "");
    const plugins = ulogdPlugins();
    const conf = join(dir, "ulogd.conf");
    writeFileSync(
      conf,
      `[global]
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
${qthreshold === undefined ? "" : `netlink_qthreshold=${qthreshold}\n`}
[emu1]
file="${log}"
sync=1
`,
    );
    const ulogd = spawn("ip", inNs(["ulogd", "-c", conf]).slice(1), {
      stdio: "ignore",
    });
    procs.push({ stop: () => ulogd.kill("SIGTERM") });
    const ulogdLog = join(dir, "ulogd.log");
    for (let t = 0; ; t += 20) {
      if (
        existsSync(ulogdLog) &&
        readFileSync(ulogdLog, "utf8").includes("entering main loop")
      )
        break;
      if (t > 10_000 || ulogd.exitCode != null)
        throw new Error("ulogd did not start");
      await sleep(20);
    }
    const knockd = await start(
      [
        process.execPath,
        KNOCKD,
        "-conf",
        daemonConf(dir, log, fifo.path),
        "-logjson",
      ],
      /\bready\b/,
    );
    procs.push(knockd);
    const sender = spawn("ip", inNs([process.execPath, SENDER]).slice(1), {
      stdio: ["pipe", "pipe", "inherit"],
    });
    procs.push({ stop: () => sender.kill("SIGTERM") });
    let buf = "";
    const t0s = [];
    sender.stdout.on("data", (d) => {
      buf += d;
      const lines = buf.split("\n");
      buf = lines.pop();
      for (const l of lines) t0s.push(Number(BigInt(JSON.parse(l).t0)) / 1e6);
    });
    for (let i = 0; i < N_NFLOG; i++) {
      const { ports } = encodeKnock(codec, {
        CLIENT: "127.0.0.1",
        PORT: 22,
        FLAG0: i & 255,
      });
      sender.stdin.write(`${JSON.stringify(ports)}\n`);
      const t1 = await fifo.next(TIMEOUT_MS);
      while (t0s.length <= i) await sleep(5);
      if (t1 === undefined) lost++;
      else samples.push(t1 - t0s[i]);
      await sleep(400 + Math.random() * 200); // past the senders' 300 ms socket lifetime
      fifo.drain();
    }
  } finally {
    for (const p of procs.reverse()) await p.stop();
    fifo.close();
    spawnSync("ip", ["netns", "del", ns]);
    rmSync(dir, { recursive: true, force: true });
  }
  return { name, samples, lost };
}

export async function run() {
  const rows = [];
  const inotify = await fileRow("file, inotify (default)", []);
  rows.push(inotify);
  if (inotify.decided) rows.push(inotify.decided);
  const userns =
    spawnSync("unshare", ["--user", "--map-root-user", "true"]).status === 0;
  const notes = [];
  if (userns) {
    const row = await fileRow("file, polling only (fileinterval 0.5 s)", [
      "unshare",
      "--user",
      "--map-root-user",
      process.execPath,
      NO_INOTIFY,
    ]);
    if (!row.watchFailed)
      throw new Error("the polling-only knockd did not fall back to polling");
    rows.push(row);
  } else notes.push("polling-only row skipped: needs unshare --user");
  const why = nflogUnavailable();
  if (why === undefined) {
    rows.push(
      await nflogRow("SYN → NFLOG → ulogd2 (defaults) → knockd", undefined),
    );
    rows.push(
      await nflogRow("SYN → NFLOG → ulogd2 (netlink_qthreshold=1) → knockd", 1),
    );
  } else notes.push(`NFLOG rows skipped: ${why}`);
  notes.push(
    "file rows: append of a knock's last line → the action's dd wrote its byte; NFLOG rows: the last SYN → the same",
  );
  return {
    title: "knockd reaction time, file mode (ms)",
    results: [],
    table: formatLatencyTable("knockd reaction time, file mode", rows),
    notes: notes.join("\n"),
  };
}
