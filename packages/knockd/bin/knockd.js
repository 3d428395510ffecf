#!/usr/bin/env node
// `-replay FILE`: its worker threads first, to boot on the other cores while the daemon loads.
import { prestartFromArgv } from "../dist/cli-prestart.js";

const replayWorkers = prestartFromArgv(process.argv.slice(2));
// The daemon as one bundled module (README: start-up); `main` hands the workers to the replay.
const { main } = await import("../dist/cli.js");
process.exitCode = await main(process.argv.slice(2), process, {
  replayWorkers,
});
