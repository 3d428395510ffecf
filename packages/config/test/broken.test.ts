import { readFileSync, readdirSync } from "node:fs";
import { basename } from "node:path";
import { describe, expect, it } from "vitest";
import { loadDaemonConfig } from "../src/index.ts";
import type { Diagnostic } from "@portknock/core";
import { fixture } from "./fixtures.ts";

// Each test/fixtures/broken/*.conf states what it must produce in its first lines:
//   # expect: CODE@LINE CODE@OTHERFILE:LINE …   (every error, in file/line order)
//   # warn: CODE@LINE …                          (optional: every warning)
// LINE 0 means the file as a whole (a missing key).
const dir = fixture("broken");
const cases = readdirSync(dir)
  .filter((f) => f.endsWith(".conf"))
  .sort();

function expectation(text: string, tag: string): string[] | undefined {
  const m = new RegExp(`^# ${tag}:(.*)$`, "m").exec(text);
  return m?.[1]?.trim().split(/\s+/).filter(Boolean);
}

function label(d: Diagnostic, main: string): string {
  if (d.where.kind !== "config") return `${d.code}@${d.where.kind}`;
  const file = d.where.file === main ? "" : `${basename(d.where.file)}:`;
  return `${d.code}@${file}${d.where.line}`;
}

describe("broken config corpus", () => {
  it("has the cases the design asks for", () => {
    expect(cases.length).toBeGreaterThanOrEqual(15);
  });

  it.each(cases)("%s", (name) => {
    const path = fixture("broken", name);
    const text = readFileSync(path, "utf8");
    const errors = expectation(text, "expect");
    expect(errors, "the file states its expected errors").toBeDefined();
    const result = loadDaemonConfig(path);
    const of = (severity: string): string[] =>
      result.diagnostics
        .filter((d) => d.severity === severity)
        .map((d) => label(d, path));
    expect(of("error")).toEqual(errors);
    expect(result.config === undefined).toBe((errors?.length ?? 0) > 0);
    const warnings = expectation(text, "warn");
    if (warnings) expect(of("warning")).toEqual(warnings);
    for (const d of result.diagnostics) {
      expect(d.message).not.toContain("s3cr3t");
    }
  });
});
