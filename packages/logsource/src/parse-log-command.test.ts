import { describe, expect, it } from "vitest";
import { parseLogCommand } from "./parse-log-command.ts";

const where = {
  kind: "config",
  file: "/etc/knockdaemon.conf",
  line: 7,
  column: 14,
} as const;

describe("parseLogCommand", () => {
  it.each([
    ["journalctl -k -f -o short", ["journalctl", "-k", "-f", "-o", "short"]],
    ["  tail   -F /var/log/kern.log ", ["tail", "-F", "/var/log/kern.log"]],
    [
      `/usr/bin/my reader "a b" 'c "d"' --x="y z"`,
      ["/usr/bin/my", "reader", "a b", 'c "d"', "--x=y z"],
    ],
    [`say "q\\"uote" 'back\\slash'`, ["say", 'q"uote', "back\\slash"]],
    [`pipe "a|b" ';'`, ["pipe", "a|b", ";"]],
    [`empty ""`, ["empty", ""]],
  ])("%s", (text, argv) => {
    expect(parseLogCommand(text)).toEqual({ argv, diagnostics: [] });
  });

  it.each([
    ["journalctl -k | grep KNOCK", "LOG_COMMAND_METACHAR", 14 + 14],
    ["journalctl -k > /tmp/x", "LOG_COMMAND_METACHAR", 14 + 14],
    ["echo $HOME", "LOG_COMMAND_METACHAR", 14 + 5],
    ["a; b", "LOG_COMMAND_METACHAR", 14 + 1],
    ["a && b", "LOG_COMMAND_METACHAR", 14 + 2],
    ["run `x`", "LOG_COMMAND_METACHAR", 14 + 4],
    ["esc\\ aped", "LOG_COMMAND_METACHAR", 14 + 3],
    ['say "unclosed', "LOG_COMMAND_QUOTE", 14 + 4],
    ["   ", "LOG_COMMAND_EMPTY", 14],
  ])("%s is refused", (text, code, column) => {
    const { argv, diagnostics } = parseLogCommand(text, where);
    expect(argv).toBeUndefined();
    expect(diagnostics).toMatchObject([
      { code, severity: "error", where: { ...where, column } },
    ]);
  });
});
