/**
 * The Debian package's man pages (issue #18): tools/release/man-roff.js turns the text `-man`
 * prints into roff. Each page is rendered by the real groff with every warning on.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { renameCommands, textToRoff } from "../../release/man-roff.js";

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));
const PAGES = [
  { src: "packages/knockd/man/knockd.txt", name: "portknockd", section: "8" },
  { src: "packages/knock/man/knock.txt", name: "portknock", section: "1" },
] as const;

const hasGroff = spawnSync("groff", ["--version"]).status === 0;
if (!hasGroff)
  console.warn("man-roff.test: groff is not installed, rendering skipped");

function roffOf(page: (typeof PAGES)[number]): string {
  return textToRoff(readFileSync(ROOT + page.src, "utf8"), {
    name: page.name,
    section: page.section,
    version: "9.8.7",
    date: "2026-12-02",
    rename: renameCommands,
  });
}

/** groff's text rendering (80 columns) and its warnings. */
function render(roff: string): { text: string; warnings: string } {
  const r = spawnSync(
    "groff",
    ["-man", "-Tascii", "-ww", "-P-c", "-P-b", "-P-u"],
    {
      input: roff,
      encoding: "utf8",
    },
  );
  expect(r.status).toBe(0);
  return { text: r.stdout, warnings: r.stderr };
}

describe.each(PAGES)("$name($section) from $src", (page) => {
  const roff = roffOf(page);

  it("has a title and a whatis NAME line for the package's name", () => {
    expect(roff).toContain(
      `.TH ${page.name.toUpperCase()} ${page.section} "2026-12-02" "portknock 9.8.7"`,
    );
    const name = roff.split("\n")[roff.split("\n").indexOf('.SH "NAME"') + 1];
    expect(name).toMatch(new RegExp(`^${page.name} \\\\- \\S`));
  });

  it.skipIf(!hasGroff)(
    "renders without groff warnings, synopsis lines kept",
    () => {
      const { text, warnings } = render(roff);
      expect(warnings).toBe("");
      const synopsis = text.split("SYNOPSIS\n")[1]?.split("\n\n")[0] ?? "";
      for (const line of synopsis
        .split("\n")
        .filter((l) => !l.startsWith("        "))) {
        expect(line.trim()).toMatch(new RegExp(`^${page.name} -`));
      }
      // Every section of the text is a section of the page.
      const headings =
        readFileSync(ROOT + page.src, "utf8").match(/^[A-Z][A-Z ]+$/gm) ?? [];
      for (const h of headings) expect(text).toMatch(new RegExp(`^${h}$`, "m"));
    },
  );

  it.skipIf(!hasGroff)(
    "calls the commands portknockd and portknock, never knockd",
    () => {
      const { text } = render(roff);
      expect(text).not.toMatch(/(?<![\w/@.-])knockd(?![\w-])/);
      expect(text).not.toMatch(/(?<![\w/@.-])knock -[a-z]/);
    },
  );
});

describe("renameCommands", () => {
  it.each([
    ["knockd -check -conf x", "portknockd -check -conf x"],
    ["see knock(1) and KNOCKD(8)", "see portknock(1) and PORTKNOCKD(8)"],
    ["a knock on the wire", "a knock on the wire"],
    [
      "@portknock/knockd and knockdaemon.conf",
      "@portknock/knockd and knockdaemon.conf",
    ],
    ['prints "knock: CODE: message"', 'prints "knock: CODE: message"'],
    [
      "key = base64:... (from knock -genkey)",
      "key = base64:... (from portknock -genkey)",
    ],
  ])("%j → %j", (line, expected) => {
    expect(renameCommands(line)).toBe(expected);
  });
});

describe("textToRoff on malformed text", () => {
  const options = { name: "x", section: "1", version: "0", date: "2026-01-01" };
  it("names line 1 when the title is missing", () => {
    expect(() => textToRoff("NAME\n    x - y\n", options)).toThrow(/line 1/);
  });
  it("names the line of body text without indentation", () => {
    expect(() => textToRoff("X(1)  p  X(1)\n\nNAME\nx - y\n", options)).toThrow(
      /line 4/,
    );
  });
  it("escapes roff: a leading dot and backslashes stay text", () => {
    const roff = textToRoff(
      "X(1)  p  X(1)\n\nNAME\n    x - y\n\nDESCRIPTION\n    .hidden a\\b\n",
      options,
    );
    expect(roff).toContain("\\&.hidden a\\eb");
  });
});
