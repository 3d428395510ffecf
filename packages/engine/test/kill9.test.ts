/**
 * Durability under SIGKILL (spec: daemon.md §6): a child process changes a file store in a loop
 * and acknowledges each flushed change; it is killed with `kill -9` at random moments, and after
 * each kill every acknowledged change must be in the file, and the file must parse.
 */
import { spawn } from "node:child_process";
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import ts from "typescript";
import { expect, it } from "vitest";
import { createFileStore } from "../src/file-store.ts";
import { tempDir } from "./helpers.ts";

const here = dirname(fileURLToPath(import.meta.url));
const SRC = join(here, "..", "src");
const ITERATIONS = 25;

let moduleUrl = "";
let childPath = "";

// The child changes the store in a loop and acknowledges, on stdout, every change once flush()
// has made it durable. It takes: module URL, statefile path, first number.
const CHILD_SOURCE = `
const [, , moduleUrl, statePath, startArg] = process.argv;
const { createFileStore } = await import(moduleUrl);
const store = await createFileStore(statePath);
if (store.diagnostics.length > 0) {
  process.stderr.write(JSON.stringify(store.diagnostics) + "\\n");
  process.exit(3);
}
let i = Number(startArg);
for (;;) {
  const acked = [];
  const batch = 1 + (i % 3); // 1–3 changes per flush, so writes are coalesced too
  for (let k = 0; k < batch; k++, i++) {
    store.set(["k", String(i)], i);
    if (i % 4 === 0) {
      store.addPending({ id: "p" + i, action: "kill9", createdMs: i, dueMs: i, commands: [["/bin/true", String(i)]] });
    }
    if (i % 4 === 2) store.removePending("p" + (i - 2));
    acked.push(i);
  }
  await store.flush();
  process.stdout.write(acked.map((n) => "ack " + n + "\\n").join(""));
}
`;

// The child runs plain Node, so the current sources are transpiled for it (no stale dist/).
function transpileSources(): void {
  const out = tempDir();
  const require = createRequire(import.meta.url);
  const urls = ["@portknock/config", "@portknock/core", "re2js"].map(
    (name) =>
      [
        name,
        // re2js resolves to its CommonJS build here: its ESM build sits beside it.
        pathToFileURL(require.resolve(name).replace(/index\.cjs$/, "index.js"))
          .href,
      ] as const,
  );
  for (const name of readdirSync(SRC)) {
    if (!name.endsWith(".ts") || name.endsWith(".test.ts")) continue;
    const source = readFileSync(join(SRC, name), "utf8");
    const { outputText } = ts.transpileModule(source, {
      fileName: name,
      compilerOptions: {
        module: ts.ModuleKind.ESNext,
        target: ts.ScriptTarget.ES2023,
        verbatimModuleSyntax: true,
        rewriteRelativeImportExtensions: true,
      },
    });
    let text = outputText;
    for (const [pkg, url] of urls) {
      text = text.replaceAll(JSON.stringify(pkg), JSON.stringify(url));
    }
    writeFileSync(join(out, name.replace(/\.ts$/, ".js")), text);
  }
  writeFileSync(join(out, "package.json"), '{"type":"module"}');
  moduleUrl = pathToFileURL(join(out, "index.js")).href;
  childPath = join(out, "kill9-child.mjs");
  writeFileSync(childPath, CHILD_SOURCE);
}

/** A small seeded PRNG, so a failure can be replayed. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

interface Round {
  acked: number[];
  exit: string;
}

/** Runs the child from `start` and kills it with SIGKILL after `killAfter` acknowledgements. */
function runChild(
  statePath: string,
  start: number,
  killAfter: number,
): Promise<Round> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [childPath, moduleUrl, statePath, String(start)],
      {
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    const acked: number[] = [];
    let buffer = "";
    let stderr = "";
    let killed = false;
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.on("data", (chunk: Buffer) => {
      buffer += chunk.toString();
      const lines = buffer.split("\n");
      buffer = lines.pop() ?? "";
      for (const line of lines) {
        const m = /^ack (\d+)$/.exec(line);
        if (m) acked.push(Number(m[1]));
      }
      if (!killed && acked.length >= killAfter) {
        killed = true;
        child.kill("SIGKILL");
      }
    });
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      if (signal !== "SIGKILL")
        reject(new Error(`child exited with ${code}/${signal}: ${stderr}`));
      else resolve({ acked, exit: signal });
    });
  });
}

it(`keeps every acknowledged change through ${ITERATIONS} kill -9s`, async () => {
  transpileSources();
  const dir = join(tempDir(), "state");
  mkdirSync(dir);
  const statePath = join(dir, "state.json");
  const seed = Date.now() % 100_000;
  const rand = random(seed);
  const acked = new Set<number>();
  let next = 0;
  let lost = 0;
  for (let round = 0; round < ITERATIONS; round++) {
    const { acked: got } = await runChild(
      statePath,
      next,
      1 + Math.floor(rand() * 40),
    );
    for (const n of got) acked.add(n);
    next = Math.max(next, ...got.map((n) => n + 1)) + 3; // skip numbers a kill may have half-done

    // The file parses as JSON whatever the moment of the kill.
    expect(
      () => JSON.parse(readFileSync(statePath, "utf8")) as unknown,
      `seed ${seed} round ${round}`,
    ).not.toThrow();
    const store = await createFileStore(statePath);
    expect(store.diagnostics, `seed ${seed} round ${round}`).toEqual([]);
    for (const n of acked) {
      if (store.get(["k", String(n)]) !== n) lost++;
      // An acknowledged removal stays removed.
      if (n % 4 === 2 && store.pending().some((p) => p.id === `p${n - 2}`))
        lost++;
    }
    await store.close();
    expect(readdirSync(dir)).toEqual(["state.json"]); // stale temp files were cleaned
  }
  console.info(
    `kill -9: ${ITERATIONS} iterations, ${acked.size} changes acknowledged, ${lost} lost (seed ${seed})`,
  );
  expect(lost).toBe(0);
  expect(acked.size).toBeGreaterThanOrEqual(ITERATIONS);
}, 60_000);
