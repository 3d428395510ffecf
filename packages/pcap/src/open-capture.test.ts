import { describe, expect, it } from "vitest";
import { openCapture } from "./open-capture.ts";

describe("openCapture option checks (before any native call)", () => {
  it("refuses bad interfaces, filters and sizes", () => {
    expect(() => openCapture({ interfaces: [], filter: "" })).toThrow(
      TypeError,
    );
    expect(() => openCapture({ interfaces: ["lo", "lo"], filter: "" })).toThrow(
      TypeError,
    );
    expect(() => openCapture({ interfaces: [""], filter: "" })).toThrow(
      TypeError,
    );
    expect(() =>
      openCapture({ interfaces: ["lo"], filter: 5 as unknown as string }),
    ).toThrow(TypeError);
    expect(() =>
      openCapture({ interfaces: ["lo"], filter: "", snapshotSize: 10 }),
    ).toThrow(RangeError);
    expect(() =>
      openCapture({ interfaces: ["lo"], filter: "", queueSize: 0 }),
    ).toThrow(RangeError);
    expect(() =>
      openCapture({ interfaces: ["lo"], filter: "", bufferBytes: 1.5 }),
    ).toThrow(RangeError);
    expect(() =>
      openCapture({ interfaces: ["lo"], filter: "", bufferTimeoutMs: 0 }),
    ).toThrow(RangeError);
  });
});
