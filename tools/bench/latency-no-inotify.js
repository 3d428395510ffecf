// Runs a command where inotify cannot be used, for the latency bench's "polling only" rows:
// `unshare --user --map-root-user node latency-no-inotify.js COMMAND ARGS...`. In its own user
// namespace it sets that namespace's inotify watch limit to 0 (fs.watch then fails with ENOSPC;
// the machine's limit is untouched), then runs COMMAND (argv, no shell) and passes SIGTERM and
// SIGINT on to it.
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";

const [command, ...args] = process.argv.slice(2);
writeFileSync("/proc/sys/user/max_inotify_watches", "0");
const child = spawn(command, args, { stdio: "inherit" });
for (const sig of ["SIGTERM", "SIGINT"]) process.on(sig, () => child.kill(sig));
child.on("exit", (code, signal) => {
  process.exitCode = code ?? (signal ? 1 : 0);
});
