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

/** The `q` quantile (0–1) of sorted numbers, nearest rank. */
function quantile(sorted, q) {
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}

/**
 * Formats latency rows for the terminal: each row's samples (ms) as count, median, p90, p99 and
 * max, and how many samples never arrived (`lost`).
 */
export function formatLatencyTable(title, rows) {
  const w = Math.max(...rows.map((r) => r.name.length));
  const cols = ["n", "median", "p90", "p99", "max", "lost"];
  const ms = (x) => (x === undefined ? "-" : x.toFixed(1)).padStart(8);
  return [
    `## ${title}`,
    `${"".padEnd(w)}  ${cols.map((c) => c.padStart(8)).join("")}  (ms)`,
    ...rows.map((r) => {
      const s = [...r.samples].sort((a, b) => a - b);
      return `${r.name.padEnd(w)}  ${String(s.length).padStart(8)}${ms(quantile(s, 0.5))}${ms(quantile(s, 0.9))}${ms(quantile(s, 0.99))}${ms(s[s.length - 1])}${String(r.lost ?? 0).padStart(8)}`;
    }),
  ].join("\n");
}
