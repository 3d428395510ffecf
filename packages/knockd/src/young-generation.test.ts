/**
 * `capYoungGeneration` (#20) in a child process of its own (the flag is process-wide): a workload
 * whose survivors grow V8's new space to its 32 MiB by default stays at its first size once
 * capped, and grows again once released. A Node whose V8 ignored the flag at run time fails here.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const MODULE = fileURLToPath(
  new URL("../dist/young-generation.js", import.meta.url),
);

// Allocates ~300 MB of objects, keeping the last 20,000 alive (scavenges see survivors), and
// prints the new space's resident size in MiB.
const script = (call: string): string => `
import v8 from "node:v8";
const m = await import(${JSON.stringify(MODULE)});
${call}
const keep = new Array(20000);
for (let k = 0; k < 3_000_000; k++) keep[k % 20000] = { k, s: "x" + (k & 1023), a: [k] };
const s = v8.getHeapSpaceStatistics().find((x) => x.space_name === "new_space");
process.stdout.write(String(s.physical_space_size / 2 ** 20));
`;

function newSpaceMiB(call: string): number {
  const r = spawnSync(
    process.execPath,
    ["--input-type=module", "-e", script(call)],
    { encoding: "utf8" },
  );
  expect(r.status, r.stderr).toBe(0);
  return Number(r.stdout);
}

describe("capYoungGeneration (#20)", () => {
  it("keeps V8's new space at its first size; releaseYoungGeneration lets it grow", () => {
    expect(existsSync(MODULE), "pnpm build first").toBe(true);
    expect(newSpaceMiB("")).toBeGreaterThan(8);
    expect(newSpaceMiB("m.capYoungGeneration();")).toBeLessThanOrEqual(2);
    expect(
      newSpaceMiB("m.capYoungGeneration(); m.releaseYoungGeneration();"),
    ).toBeGreaterThan(8);
  }, 60_000);
});
