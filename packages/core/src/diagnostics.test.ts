import { describe, expect, it } from "vitest";
import { formatDiagnostic, hasErrors, type Diagnostic } from "./diagnostics.ts";
import { quoteValue } from "./text.ts";

describe("formatDiagnostic", () => {
  const d: Diagnostic = {
    code: "CONFIG_BAD_VALUE",
    severity: "error",
    message: "portspan: range 900-800 is descending",
    where: { kind: "config", file: "knockdaemon.conf", line: 2, column: 12 },
  };

  it("names file, line, column, severity and code", () => {
    expect(formatDiagnostic(d)).toBe(
      "knockdaemon.conf:2:12: error CONFIG_BAD_VALUE: portspan: range 900-800 is descending",
    );
  });

  it("quotes the source line with a caret under the column", () => {
    expect(formatDiagnostic(d, "knock = IP\nportspan = 900-800\n"))
      .toMatchInlineSnapshot(`
        "knockdaemon.conf:2:12: error CONFIG_BAD_VALUE: portspan: range 900-800 is descending
          portspan = 900-800
                     ^"
      `);
  });

  it("formats argv and packet origins", () => {
    expect(
      formatDiagnostic({
        code: "ARGV_BAD",
        severity: "error",
        message: "m",
        where: { kind: "argv", flag: "-port" },
      }),
    ).toBe("option -port: error ARGV_BAD: m");
  });
});

describe("quoteValue", () => {
  it("escapes control characters and truncates to 80 characters", () => {
    expect(quoteValue("a\nb")).toBe('"a\\nb"');
    expect(quoteValue("x".repeat(100))).toBe(
      JSON.stringify("x".repeat(80) + "…"),
    );
  });
});

describe("hasErrors", () => {
  it("ignores warnings", () => {
    const w: Diagnostic = {
      code: "W",
      severity: "warning",
      message: "m",
      where: { kind: "argv", flag: "-x" },
    };
    expect(hasErrors([w])).toBe(false);
    expect(hasErrors([w, { ...w, severity: "error" }])).toBe(true);
  });
});
