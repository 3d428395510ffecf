// A tiny benchmark harness: runs `fn` in rounds until `minMs` has passed, reports ops/s of the
// best round (the least disturbed by the other core's work), and the median.
import { performance } from "node:perf_hooks";

/**
 * @param {string} name
 * @param {(n: number) => void} fn runs the operation n times
 * @param {{ minMs?: number, batch?: number, rounds?: number }} [options]
 * @returns {{ name: string, opsPerSec: number, medianOpsPerSec: number }}
 */
export function bench(name, fn, options = {}) {
  const { minMs = 300, batch = 10_000, rounds = 7 } = options;
  fn(batch); // warm up: let the JIT settle
  const rates = [];
  for (let r = 0; r < rounds; r++) {
    let n = 0;
    const t0 = performance.now();
    let t = t0;
    while (t - t0 < minMs) {
      fn(batch);
      n += batch;
      t = performance.now();
    }
    rates.push((n * 1000) / (t - t0));
  }
  rates.sort((a, b) => a - b);
  return {
    name,
    opsPerSec: rates[rates.length - 1],
    medianOpsPerSec: rates[Math.floor(rates.length / 2)],
  };
}

/** Formats a results table for the terminal. */
export function formatTable(title, results, unit = "ops/s") {
  const w = Math.max(...results.map((r) => r.name.length));
  const fmt = (x) => Math.round(x).toLocaleString("en-US").padStart(13);
  return [
    `## ${title}`,
    `${"".padEnd(w)}  ${"best".padStart(13)}  ${"median".padStart(13)}  (${unit})`,
    ...results.map(
      (r) =>
        `${r.name.padEnd(w)}  ${fmt(r.opsPerSec)}  ${fmt(r.medianOpsPerSec)}`,
    ),
  ].join("\n");
}
