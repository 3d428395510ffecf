import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { parseClientConfig, parseDaemonConfig } from "./schema.ts";

// Lines built from the schema's own keys and values, so that the properties reach past the syntax
// into the schema code.
const word = fc.constantFrom(
  "knock",
  "portspan",
  "key",
  "encrypt",
  "iv",
  "cipher",
  "delay",
  "template",
  "use",
  "interface",
  "flag0",
  "port",
  "yes",
  "soon",
  "5m",
  "1-2",
  "<actions>",
  "</actions>",
  "<action>",
  "</action>",
  "<template t>",
  "</template>",
  "<logformat x>",
  "<user u>",
  "=",
  " ",
  "\n",
  "#",
  '"',
);
const text = fc.oneof(
  fc.string({ maxLength: 300 }),
  fc.array(word, { maxLength: 80 }).map((w) => w.join(" ")),
);

describe("schema robustness", () => {
  it("parseDaemonConfig never throws and gives a config exactly when there is no error", () => {
    fc.assert(
      fc.property(text, (t) => {
        const r = parseDaemonConfig(t, { file: "k.conf" });
        const failed = r.diagnostics.some((d) => d.severity === "error");
        expect(r.config === undefined).toBe(failed);
        for (const d of r.diagnostics) expect(d.code).toMatch(/^CONFIG_/);
      }),
      { numRuns: 400 },
    );
  });

  it("parseClientConfig never throws, with overrides too", () => {
    fc.assert(
      fc.property(
        text,
        fc.dictionary(word, fc.string({ maxLength: 10 })),
        (t, overrides) => {
          const r = parseClientConfig(t, { file: "c.conf", overrides });
          for (const d of r.diagnostics) expect(d.code).toMatch(/^CONFIG_/);
        },
      ),
      { numRuns: 400 },
    );
  });
});
