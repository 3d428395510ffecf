/** Helpers shared by the integration tests: fixture paths and temp dirs. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { onTestFinished } from "vitest";

/** The absolute path of a file under `test/fixtures/`. */
export function fixture(...parts: string[]): string {
  return join(fileURLToPath(new URL("fixtures/", import.meta.url)), ...parts);
}

/** A fresh temp directory, removed when the current test finishes. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "portknock-config-"));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
