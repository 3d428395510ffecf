import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";
import { errorMessages } from "./errors.ts";
import { describeFileKind } from "./file-kind.ts";

it("describeFileKind names real files of every kind here", () => {
  const dir = mkdtempSync(join(tmpdir(), "core-kind-"));
  try {
    execFileSync("mkfifo", [join(dir, "fifo")]);
    writeFileSync(join(dir, "file"), "x");
    expect(describeFileKind(statSync(join(dir, "fifo")))).toBe(
      "a FIFO (named pipe)",
    );
    expect(describeFileKind(statSync("/dev/zero"))).toBe("a character device");
    expect(describeFileKind(statSync(dir))).toBe("a directory");
    expect(
      describeFileKind(statSync(join(dir, "file"), { bigint: true })),
    ).toBe("a regular file");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

it("errorMessages joins an error's causes, at most 4, and is empty for a non-Error", () => {
  const os = Object.assign(
    new Error("ENOSPC: no space left on device, write"),
    { code: "ENOSPC" },
  );
  const e = new Error("cannot write statefile /s", { cause: os });
  expect(errorMessages(e)).toBe(
    "cannot write statefile /s: ENOSPC: no space left on device, write",
  );
  let deep: Error = new Error("5");
  for (const m of ["4", "3", "2", "1"]) deep = new Error(m, { cause: deep });
  expect(errorMessages(deep)).toBe("1: 2: 3: 4");
  expect(errorMessages("text")).toBe("");
});
