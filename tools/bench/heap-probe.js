// Loaded into knockd by the flood bench to see inside its V8 heap (issue #20):
//   HEAP_PROBE_OUT=/tmp/heap.json FLOOD_NODE_FLAGS="--import ./tools/bench/heap-probe.js" \
//     node tools/bench/run.js flood
// Every 50 ms it writes to HEAP_PROBE_OUT the peak physical size (MiB) of each V8 heap space, and
// the event loop's delay (max and p99, ms) with the stalls over 150 ms, and the garbage
// collections by kind (count, total and longest pause, ms). Opt-in: it adds a module
// and a timer to the process it measures.
import { writeFileSync } from "node:fs";
import {
  constants,
  monitorEventLoopDelay,
  PerformanceObserver,
} from "node:perf_hooks";
import v8 from "node:v8";

const out = process.env.HEAP_PROBE_OUT;
if (out) {
  const delay = monitorEventLoopDelay({ resolution: 5 });
  delay.enable();
  const peak = {};
  const stalls = [];
  // Garbage collections by kind: how many, and their pauses (ms).
  const gc = {};
  const kinds = {
    [constants.NODE_PERFORMANCE_GC_MINOR]: "scavenge",
    [constants.NODE_PERFORMANCE_GC_MAJOR]: "markCompact",
    [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: "incremental",
    [constants.NODE_PERFORMANCE_GC_WEAKCB]: "weak",
  };
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const k = kinds[e.detail?.kind] ?? "other";
      const g = (gc[k] ??= { count: 0, totalMs: 0, maxMs: 0 });
      g.count++;
      g.totalMs = Math.round((g.totalMs + e.duration) * 10) / 10;
      g.maxMs = Math.max(g.maxMs, Math.round(e.duration * 10) / 10);
    }
  }).observe({ entryTypes: ["gc"] });
  let last = performance.now();
  const take = () => {
    const now = performance.now();
    if (now - last > 150) stalls.push(Math.round(now - last));
    last = now;
    for (const s of v8.getHeapSpaceStatistics())
      peak[s.space_name] = Math.max(
        peak[s.space_name] ?? 0,
        s.physical_space_size,
      );
    const mib = (b) => Math.round(b / 104857.6) / 10;
    writeFileSync(
      out,
      JSON.stringify({
        peakMiB: Object.fromEntries(
          Object.entries(peak)
            .filter(([, b]) => b > 0)
            .map(([k, b]) => [k, mib(b)]),
        ),
        loopDelayMaxMs: delay.max / 1e6,
        loopDelayP99Ms: delay.percentile(99) / 1e6,
        stallsOver150Ms: stalls.slice(0, 20),
        gc,
      }),
    );
  };
  setInterval(take, 50).unref();
}
