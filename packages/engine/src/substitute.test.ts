import { describe, expect, it } from "vitest";
import { RefusalSignal } from "./errors.ts";
import { parseCommand } from "./parse-command.ts";
import { resolveStateKeys, substituteCommand } from "./substitute.ts";
import type { VariableValue } from "./variables.ts";
import { computeVariables, knownVariables } from "./variables.ts";

const kinds = knownVariables(["IP", "PORT", "FLAG0", "MASK", "USER"]);

function substitute(
  text: string,
  knock: Record<string, VariableValue>,
): string[] {
  const { words } = parseCommand(text, { variables: kinds });
  const vars = computeVariables(knock, Date.UTC(2024, 0, 1));
  return substituteCommand(words!, { vars, kinds });
}

function refusal(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    if (e instanceof RefusalSignal) return e.refusal;
    throw e;
  }
  return undefined;
}

describe("substituteCommand", () => {
  it("substitutes validated values", () => {
    expect(
      substitute("/x -s IP/32 --dport PORT FLAG0 MASK USER", {
        IP: "10.3.2.1",
        PORT: 22,
        FLAG0: 255,
        MASK: 24,
        USER: "alice",
      }),
    ).toEqual([
      "/x",
      "-s",
      "10.3.2.1/32",
      "--dport",
      "22",
      "255",
      "24",
      "alice",
    ]);
    expect(substitute("/x IP", { IP: "2001:db8::1" })).toEqual([
      "/x",
      "2001:db8::1",
    ]);
    expect(substitute("/x PORT", { PORT: "443" })).toEqual(["/x", "443"]);
  });

  it.each<[string, Record<string, VariableValue>, string, string]>([
    [
      "/x IP",
      { IP: "1.2.3.4; rm -rf /" },
      "ENGINE_VALUE_INVALID",
      "1.2.3.4; rm -rf /",
    ],
    ["/x IP", { IP: "1.2.3.4\n" }, "ENGINE_VALUE_INVALID", "1.2.3.4\n"],
    [
      "/x IP",
      { IP: "10.0.0.1 -j DROP" },
      "ENGINE_VALUE_INVALID",
      "10.0.0.1 -j DROP",
    ],
    ["/x PORT", { PORT: 70000 }, "ENGINE_VALUE_INVALID", "70000"],
    ["/x PORT", { PORT: -1 }, "ENGINE_VALUE_INVALID", "-1"],
    [
      "/x PORT",
      { PORT: "22 -j ACCEPT" },
      "ENGINE_VALUE_INVALID",
      "22 -j ACCEPT",
    ],
    ["/x PORT", { PORT: 2.5 }, "ENGINE_VALUE_INVALID", "2.5"],
    ["/x FLAG0", { FLAG0: 256 }, "ENGINE_VALUE_INVALID", "256"],
    ["/x USER", { USER: "--help" }, "ENGINE_VALUE_INVALID", "--help"],
    ["/x PORT", {}, "ENGINE_VALUE_MISSING", ""],
  ])("%s with %j is refused (%s)", (text, knock, code, input) => {
    expect(refusal(() => substitute(text, knock))).toMatchObject(
      input === "" ? { code } : { code, input },
    );
  });
});

describe("resolveStateKeys", () => {
  const vars = computeVariables({ IP: "10.1.1.1", USER: "a..b" }, 0);
  it("substitutes variables and keeps bare words", () => {
    expect(
      resolveStateKeys(
        [
          { kind: "var", name: "IP", offset: 0 },
          { kind: "literal", value: "visits", offset: 0 },
        ],
        { vars, kinds },
      ),
    ).toEqual(["10.1.1.1", "visits"]);
  });
  it("refuses a key value with ..", () => {
    expect(
      refusal(() =>
        resolveStateKeys([{ kind: "var", name: "USER", offset: 0 }], {
          vars,
          kinds,
        }),
      ),
    ).toMatchObject({
      code: "STATE_KEY_INVALID",
      input: "a..b",
    });
  });
});
