import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { quietBrokenPipe } from "./io.ts";

describe("quietBrokenPipe", () => {
  it("swallows EPIPE on stdout and stderr and stops writing there; other errors still throw", () => {
    const io = {
      stdout: new PassThrough(),
      stderr: new PassThrough(),
      env: {},
    };
    quietBrokenPipe(io);
    quietBrokenPipe(io); // idempotent: one listener per stream
    expect(io.stdout.listenerCount("error")).toBe(1);
    io.stdout.emit(
      "error",
      Object.assign(new Error("write EPIPE"), { code: "EPIPE" }),
    );
    expect(io.stdout.write("after")).toBe(true);
    expect(io.stdout.read()).toBeNull();
    expect(() =>
      io.stderr.emit(
        "error",
        Object.assign(new Error("boom"), { code: "EIO" }),
      ),
    ).toThrow("boom");
  });
});
