// `node tools/fuzz/run.js configs|lines|frames|pcaps|all [--seconds N] [--seed S] [--hang-ms M]
// [--out DIR]`: mutated configs, log lines, frames and pcap files through the parsers the daemon
// runs on outside input, for as long as asked (issue #16). Reports crashes (an exception where
// the code promises none), findings (a result that breaks a rule: a code, a range, the counters)
// and hangs (one case running longer than --hang-ms), each saved with the input that caused it;
// exit 1 when there is any. Case i of seed S is always the same input: `--seed S` reruns a run.
// Needs `pnpm build` first (it runs the built packages).
// `node tools/fuzz/run.js props [--runs N]`: the suite's own property tests with N runs each
// (PORTKNOCK_REGEX_FUZZ_RUNS, PORTKNOCK_DETECTOR_FUZZ_RUNS; bounded in CI).
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { Worker } from "node:worker_threads";
import { TARGETS } from "./targets.js";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    seconds: { type: "string", default: "60" },
    seed: { type: "string" },
    "hang-ms": { type: "string", default: "5000" },
    out: { type: "string" },
    runs: { type: "string", default: "20000" },
  },
});
const names =
  positionals.length === 0 || positionals.includes("all")
    ? Object.keys(TARGETS).filter((n) => n !== "selftest")
    : positionals;
const ROOT = fileURLToPath(new URL("../../", import.meta.url));

if (names.includes("props")) {
  const runs = Number(values.runs);
  if (!(runs > 0))
    usage(`--runs must be a positive number, got ${values.runs}`);
  const files = [
    ["@portknock/logsource", "src/user-regex.test.ts"],
    ["@portknock/engine", "src/compile-regex.test.ts"],
    ["@portknock/detector", "src/knock-queues-retransmit.test.ts"],
  ];
  let failed = 0;
  for (const [project, file] of files) {
    const r = spawnSync(
      "pnpm",
      [
        "vitest",
        "run",
        "--config",
        "vitest.workspace.ts",
        "--project",
        project,
        file,
      ],
      {
        cwd: ROOT,
        stdio: "inherit",
        env: {
          ...process.env,
          PORTKNOCK_REGEX_FUZZ_RUNS: String(runs),
          PORTKNOCK_DETECTOR_FUZZ_RUNS: String(runs),
        },
      },
    );
    if (r.status !== 0) failed++;
  }
  process.exit(failed === 0 ? 0 : 1);
}

for (const n of names)
  if (!(n in TARGETS)) usage(`unknown target ${JSON.stringify(n)}`);
const seconds = Number(values.seconds);
const hangMs = Number(values["hang-ms"]);
if (!(seconds > 0))
  usage(`--seconds must be a positive number, got ${values.seconds}`);
if (!(hangMs > 0))
  usage(`--hang-ms must be a positive number, got ${values["hang-ms"]}`);
const seed =
  values.seed !== undefined
    ? Number(values.seed) >>> 0
    : (Math.random() * 2 ** 32) >>> 0;
const out = values.out ?? join(tmpdir(), `portknock-fuzz-${seed}`);

function usage(message) {
  console.error(`fuzz: ${message}`);
  console.error(
    "usage: node tools/fuzz/run.js configs|lines|frames|pcaps|all [--seconds N] [--seed S] [--hang-ms M] [--out DIR]\n" +
      "       node tools/fuzz/run.js props [--runs N]",
  );
  process.exit(2);
}

/** Saves the input of case i and what happened; returns the path. */
function save(name, state, kind, i, detail) {
  mkdirSync(out, { recursive: true });
  const input = TARGETS[name].input(state, seed, i);
  const base = join(out, `${name}-${kind}-${i}`);
  writeFileSync(
    `${base}.input`,
    typeof input === "string" ? input : Buffer.from(input),
  );
  writeFileSync(
    `${base}.txt`,
    `${name} ${kind}, seed ${seed}, case ${i}\n\n${detail}\n`,
  );
  return `${base}.input`;
}

/** Runs one target for `seconds` across worker restarts (after a hang); resolves its report. */
async function fuzz(name) {
  const target = TARGETS[name];
  const state = await target.setup();
  const deadline = Date.now() + seconds * 1000;
  const report = {
    target: name,
    cases: 0,
    crashes: [],
    findings: [],
    hangs: [],
  };
  let start = 0;
  while (Date.now() < deadline) {
    const progress = new SharedArrayBuffer(8);
    const cell = new Int32Array(progress);
    Atomics.store(cell, 0, start);
    const worker = new Worker(new URL("./worker.js", import.meta.url), {
      workerData: { target: name, seed, start, deadline, progress },
    });
    const next = await new Promise((resolve, reject) => {
      let last = start;
      let since = Date.now();
      let ready = false;
      const watchdog = setInterval(() => {
        const now = Atomics.load(cell, 0);
        if (!ready) return;
        if (now !== last) {
          last = now;
          since = Date.now();
        } else if (Date.now() - since > hangMs) {
          clearInterval(watchdog);
          report.cases += Atomics.load(cell, 1);
          const path = save(
            name,
            state,
            "hang",
            now,
            `case ${now} ran over ${hangMs} ms`,
          );
          report.hangs.push(path);
          void worker.terminate();
          resolve(now + 1);
        }
      }, 100);
      worker.on("message", (m) => {
        if (m.kind === "ready") {
          ready = true;
          since = Date.now();
          return;
        }
        if (m.kind === "done") {
          clearInterval(watchdog);
          report.cases += Atomics.load(cell, 1);
          resolve(m.next);
          return;
        }
        const path = save(name, state, m.kind, m.i, m.error);
        (m.kind === "crash" ? report.crashes : report.findings).push(path);
      });
      worker.on("error", (e) => {
        clearInterval(watchdog);
        reject(e);
      });
    });
    start = next;
  }
  return report;
}

console.log(
  `fuzz: seed ${seed}, ${seconds} s per target, hang after ${hangMs} ms; findings in ${out}`,
);
let bad = 0;
for (const name of names) {
  const r = await fuzz(name);
  const n = r.crashes.length + r.findings.length + r.hangs.length;
  bad += n;
  console.log(
    `${name.padEnd(8)} ${String(r.cases).padStart(9)} cases (${Math.round(r.cases / seconds)}/s): ` +
      `${r.crashes.length} crashes, ${r.findings.length} findings, ${r.hangs.length} hangs — ${TARGETS[name].describe}`,
  );
  for (const p of [...r.crashes, ...r.findings, ...r.hangs])
    console.log(`  ${p}`);
}
process.exit(bad === 0 ? 0 : 1);
