#!/usr/bin/env node
// A replay's worker threads first: they boot on the other cores while the daemon loads.
import { prestartReplayWorkers, stopReplayWorkers } from "../dist/prestart.js";

prestartReplayWorkers(process.argv.slice(2));
// The daemon as one bundled module (`pnpm build`): loading ~90 modules one by one cost ~70 ms
// of every start (README: start-up). It shares prestart.js, which it does not embed.
const { main } = await import("../dist/cli.js");
try {
  process.exitCode = await main(process.argv.slice(2), process);
} finally {
  await stopReplayWorkers();
}
