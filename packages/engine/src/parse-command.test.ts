import { describe, expect, it } from "vitest";
import { parseCommand } from "./parse-command.ts";
import type { CommandWord } from "./parse-command.ts";
import { knownVariables } from "./variables.ts";

const variables = knownVariables(["IP", "PORT", "FLAG0", "CHECKSUM"]);
const where = {
  kind: "config" as const,
  file: "knockdaemon.conf",
  line: 9,
  column: 12,
};

function show(ws: CommandWord[]): string[] {
  return ws.map((w) =>
    w.map((p) => (p.kind === "var" ? `{${p.name}}` : p.text)).join(""),
  );
}

describe("parseCommand", () => {
  it("substitutes whole words only", () => {
    const r = parseCommand(
      "/sbin/iptables -D INPUT -p tcp -s IP/32 -d 0/0 --dport PORT --syn -j ACCEPT IPX MYIP IP_1 PORT:PORT",
      { variables, where },
    );
    expect(r.diagnostics).toEqual([]);
    expect(show(r.words!)).toEqual([
      "/sbin/iptables",
      "-D",
      "INPUT",
      "-p",
      "tcp",
      "-s",
      "{IP}/32",
      "-d",
      "0/0",
      "--dport",
      "{PORT}",
      "--syn",
      "-j",
      "ACCEPT",
      "IPX",
      "MYIP",
      "IP_1",
      "{PORT}:{PORT}",
    ]);
  });

  it("substitutes inside quoted words and computed variables", () => {
    const r = parseCommand(`/usr/bin/logger "knock from IP at NOW" CLIENT`, {
      variables,
      where,
    });
    expect(show(r.words!)).toEqual([
      "/usr/bin/logger",
      "knock from {IP} at {NOW}",
      "{CLIENT}",
    ]);
  });

  it("warns about a field this knock format lacks and leaves it literal", () => {
    const r = parseCommand("/bin/myprog FLAG0 FLAG1", { variables, where });
    expect(show(r.words!)).toEqual(["/bin/myprog", "{FLAG0}", "FLAG1"]);
    expect(r.diagnostics).toMatchObject([
      {
        code: "ENGINE_FIELD_UNAVAILABLE",
        severity: "warning",
        where: { line: 9, column: 30 },
      },
    ]);
  });

  it("reports metacharacters at their column", () => {
    const r = parseCommand("/bin/a IP; /bin/b", { variables, where });
    expect(r.words).toBeUndefined();
    expect(r.diagnostics).toMatchObject([
      { code: "ENGINE_COMMAND_METACHAR", where: { line: 9, column: 21 } },
    ]);
  });
});
