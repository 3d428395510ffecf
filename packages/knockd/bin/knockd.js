#!/usr/bin/env node
// A replay's worker threads first: they boot on the other cores while the daemon loads.
import { prestartReplayWorkers, stopReplayWorkers } from "../dist/prestart.js";

prestartReplayWorkers(process.argv.slice(2));
const { main } = await import("../dist/index.js");
try {
  process.exitCode = await main(process.argv.slice(2), process);
} finally {
  await stopReplayWorkers();
}
