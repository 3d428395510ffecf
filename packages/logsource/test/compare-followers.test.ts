/**
 * The measurement behind the README's follower table: every rotation scenario against
 * `@logdna/tail-file` (through `followLog`) and against `tail` 2.2.6 (not used by the package).
 * Opt-in, because each scenario `tail` fails costs a full timeout (~20 s a variant):
 *   PORTKNOCK_COMPARE_FOLLOWERS=1 npx vitest run --config vitest.workspace.ts \
 *     --project @portknock/logsource test/compare-followers.test.ts
 */
import { afterAll, describe, expect, it } from "vitest";
import { SCENARIOS, runScenario } from "./follower-scenarios.ts";
import { logdnaFollower, tailFollower } from "./followers.ts";

const enabled = process.env.PORTKNOCK_COMPARE_FOLLOWERS === "1";
if (!enabled) {
  console.log(
    "compare-followers skipped: set PORTKNOCK_COMPARE_FOLLOWERS=1 to run it",
  );
}

const followers = [logdnaFollower, tailFollower(false), tailFollower(true)];
const table = new Map<string, Map<string, string>>();

describe.runIf(enabled)("follower comparison", () => {
  afterAll(() => {
    const head = `| scenario | ${followers.map((f) => f.name).join(" | ")} |`;
    const rule = `|---|${followers.map(() => "---").join("|")}|`;
    const rows = SCENARIOS.map(
      (s) =>
        `| ${s.name} | ${followers.map((f) => table.get(s.name)?.get(f.name) ?? "?").join(" | ")} |`,
    );
    console.log([head, rule, ...rows].join("\n"));
  });

  describe.each(followers)("$name", (follower) => {
    it.each(SCENARIOS)(
      "$name",
      async (scenario) => {
        const result = await runScenario(follower, scenario, 2500);
        const lost = scenario.expected.filter((l) => !result.lines.includes(l));
        const wrong = result.lines.filter(
          (l, i) =>
            !scenario.expected.includes(l) || result.lines.indexOf(l) !== i,
        );
        const cell =
          lost.length === 0 && wrong.length === 0
            ? "pass"
            : [
                lost.length > 0 &&
                  `lost ${lost.map((l) => l.slice(0, 12)).join(", ")}`,
                wrong.length > 0 &&
                  `wrong ${wrong.map((l) => JSON.stringify(l.slice(0, 12))).join(", ")}`,
              ]
                .filter(Boolean)
                .join("; ");
        const row = table.get(scenario.name) ?? new Map<string, string>();
        row.set(follower.name, cell);
        table.set(scenario.name, row);
        expect(cell).toBeTypeOf("string");
      },
      15_000,
    );
  });
});
