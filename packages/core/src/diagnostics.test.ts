import { describe, expect, it } from "vitest";
import {
  capDiagnostics,
  EXCERPT_WIDTH,
  formatDiagnostic,
  hasErrors,
  type Diagnostic,
} from "./diagnostics.ts";
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

  it("cuts a long line around the column, the caret still under it", () => {
    const line = "a".repeat(5000) + "X" + "b".repeat(5000);
    const out = formatDiagnostic(
      {
        ...d,
        where: {
          kind: "config",
          file: "knockdaemon.conf",
          line: 1,
          column: 5001,
        },
      },
      line,
    );
    const [, excerpt = "", caret = ""] = out.split("\n");
    expect(excerpt.length).toBeLessThanOrEqual(2 + EXCERPT_WIDTH + 2);
    expect(excerpt.startsWith("  …a")).toBe(true);
    expect(excerpt.endsWith("b…")).toBe(true);
    expect(excerpt[caret.length - 1]).toBe("X");
    // The start of a long line: no leading ellipsis.
    const start = formatDiagnostic(
      {
        ...d,
        where: { kind: "config", file: "knockdaemon.conf", line: 1, column: 3 },
      },
      line,
    ).split("\n");
    expect(start[1]?.startsWith("  aaa")).toBe(true);
    expect(start[2]).toBe("    ^");
  });

  it("quotes the right line of a CRLF file, for many diagnostics of one text", () => {
    const text = Array.from({ length: 1000 }, (_, i) => `key${i} = v`).join(
      "\r\n",
    );
    for (const line of [1, 500, 1000]) {
      const out = formatDiagnostic(
        {
          ...d,
          where: { kind: "config", file: "knockdaemon.conf", line, column: 1 },
        },
        text,
      );
      expect(out.split("\n")[1]).toBe(`  key${line - 1} = v`);
    }
    expect(
      formatDiagnostic(
        {
          ...d,
          where: { kind: "config", file: "knockdaemon.conf", line: 1001 },
        },
        text,
      ),
    ).not.toContain("\n");
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

describe("capDiagnostics", () => {
  const at = (
    code: string,
    line: number,
    severity: "error" | "warning" = "error",
  ): Diagnostic => ({
    code,
    severity,
    message: `m${line}`,
    where: { kind: "config", file: "f", line },
  });

  it("keeps the first N of each code in order and sums up the rest at the first one left out", () => {
    const list = [
      ...Array.from({ length: 30 }, (_, i) => at("A", i + 1)),
      at("B", 100, "warning"),
      ...Array.from({ length: 3 }, (_, i) => at("C", 200 + i, "warning")),
    ];
    const out = capDiagnostics(list, 2);
    expect(
      out.map(
        (x) => `${x.code}:${x.where.kind === "config" ? x.where.line : 0}`,
      ),
    ).toEqual(["A:1", "A:2", "B:100", "C:200", "C:201", "A:3", "C:202"]);
    expect(out[5]?.message).toContain("28 more A findings");
    expect(out[5]?.severity).toBe("error");
    expect(out[6]?.message).toContain("1 more C finding,");
    expect(out[6]?.severity).toBe("warning");
  });

  it("leaves a short list as it is", () => {
    const list = [at("A", 1), at("B", 2)];
    expect(capDiagnostics(list)).toEqual(list);
  });
});
