import { describe, expect, it } from "vitest";
import { escapeArgv, escapeInput } from "./text.ts";

describe("escapeInput", () => {
  it("escapes control and line-separator characters and doubles backslashes", () => {
    expect(escapeInput("a\nb\tc\rd\u0000e\u007ff\u2028g\\h")).toBe(
      "a\\nb\\tc\\rd\\x00e\\x7ff\\u2028g\\\\h",
    );
  });

  it("cuts at the limit and marks the cut", () => {
    expect(escapeInput("x".repeat(10), 4)).toBe("xxxx…");
    expect(escapeInput("x".repeat(4), 4)).toBe("xxxx");
  });

  it("keeps at most 32 argv words and says how many more", () => {
    const argv = Array.from({ length: 40 }, (_, i) => `w${i}\n`);
    const out = escapeArgv(argv);
    expect(out).toHaveLength(33);
    expect(out[0]).toBe("w0\\n");
    expect(out[32]).toBe("… 8 more");
  });
});
