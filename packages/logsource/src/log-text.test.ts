import { quoteValue } from "@portknock/config";
import { describe, expect, it } from "vitest";
import { quoteLogValue } from "./log-text.ts";

describe("quoteLogValue", () => {
  it("quotes exactly as config's quoteValue", () => {
    for (const v of [
      "",
      "10.0.0.999",
      'a "quoted" \\ value',
      "tab\tnewline\n\u0000\u2028",
      "x".repeat(80),
      "y".repeat(81),
      "é".repeat(200),
    ]) {
      expect(quoteLogValue(v)).toBe(quoteValue(v));
    }
  });
});
