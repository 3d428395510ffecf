// `pnpm bench`: runs every benchmark in this folder and prints the figures.
// Run one: `node tools/bench/run.js codec`.
import { readdirSync } from "node:fs";
import { formatTable } from "./harness.js";

const only = process.argv.slice(2);
const files = readdirSync(new URL(".", import.meta.url))
  .filter((f) => f.endsWith(".bench.js"))
  .filter((f) => only.length === 0 || only.some((o) => f.startsWith(o)))
  .sort();

console.log(`node ${process.version}, ${process.platform}/${process.arch}`);
for (const file of files) {
  const mod = await import(new URL(file, import.meta.url).href);
  const { title, results, unit, notes, table } = await mod.run();
  // A bench may print its own table (latencies are not rates).
  console.log("\n" + (table ?? formatTable(title, results, unit)));
  if (notes) console.log(notes);
}
