// `pnpm demo`: knockd on the shipped examples/knockdaemon.conf, in file mode on a log in
// /tmp/portknock-demo, knocked by `knock -logtofile`; shows the action firing and the delayed close.
// No root, no network. Run from the repository root after `pnpm build` (the script does both).
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../", import.meta.url));
const KNOCKD = `${root}packages/knockd/bin/knockd.js`;
const KNOCK = `${root}packages/knock/bin/knock.js`;
const DIR = "/tmp/portknock-demo";
const say = (s) => console.log(`\x1b[1m${s}\x1b[0m`);

rmSync(DIR, { recursive: true, force: true });
mkdirSync(DIR, { recursive: true });
writeFileSync(`${DIR}/firewall.log`, "");

say("$ knockd -conf examples/knockdaemon.conf");
const daemon = spawn(
  process.execPath,
  [KNOCKD, "-conf", "examples/knockdaemon.conf"],
  {
    cwd: root,
    stdio: ["ignore", "inherit", "pipe"],
  },
);
let log = "";
const waiters = [];
daemon.stderr.on("data", (d) => {
  const text = d.toString();
  log += text;
  for (const line of text.split("\n").filter(Boolean))
    console.log(`  knockd │ ${line}`);
  for (const w of waiters.splice(0)) w();
});
const waitFor = (re, ms) =>
  new Promise((resolve, reject) => {
    const t = setTimeout(
      () => reject(new Error(`demo: no ${re} within ${ms} ms`)),
      ms,
    );
    const check = () =>
      re.test(log) ? (clearTimeout(t), resolve()) : waiters.push(check);
    check();
  });

try {
  await waitFor(/\bready\b/, 10_000);
  say(
    "\n$ knock -conf examples/knockclient.conf -logtofile -port 22 -flag0 0 -debug",
  );
  const k = spawnSync(
    process.execPath,
    [
      KNOCK,
      "-conf",
      "examples/knockclient.conf",
      "-logtofile",
      "-port",
      "22",
      "-flag0",
      "0",
      "-debug",
      "-quiet",
    ],
    { cwd: root, encoding: "utf8" },
  );
  for (const line of k.stderr.split("\n").filter(Boolean))
    console.log(`  knock  │ ${line}`);
  if (k.status !== 0) throw new Error(`knock exited ${k.status}`);
  say(
    `\n(${DIR}/firewall.log now has one netfilter LOG line per port; knockd decodes them)`,
  );
  await waitFor(/OPEN: iptables/, 10_000);
  say(
    "\nThe firewall would now be open for 127.0.0.1 on port 22. The close action fires 10 s later…",
  );
  await waitFor(/CLOSE: iptables/, 20_000);
  say("\nDone: stopping knockd (SIGTERM)");
  daemon.kill("SIGTERM");
  await new Promise((r) => daemon.once("exit", r));
} catch (e) {
  daemon.kill("SIGKILL");
  console.error(String(e));
  process.exitCode = 1;
}
