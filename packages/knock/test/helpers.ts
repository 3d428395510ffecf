import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { onTestFinished } from "vitest";
import { main, type MainOptions } from "@portknock/knock";

/** A temp dir removed when the test finishes. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "knock-test-"));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Runs `main` with captured output; HOME is an empty temp dir so no user config is found. */
export async function run(
  argv: string[],
  options: MainOptions & { home?: string } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = "";
  let err = "";
  stdout.on("data", (d: Buffer) => (out += d.toString()));
  stderr.on("data", (d: Buffer) => (err += d.toString()));
  const code = await main(
    argv,
    { stdout, stderr, env: { HOME: options.home ?? tempDir() } },
    options,
  );
  return { code, stdout: out, stderr: err };
}
